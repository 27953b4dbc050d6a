"""Read time/event(/group) columns from a CSV file, refusing bad input with the column and row.

Rows are numbered from 1 for the first data row (the header is line 1 of the file, so data row r
is file line r + 1; both are named in the message). Everything is read as text first so that a
value like "abc" or "" is reported where it is, rather than silently becoming NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cartflow.errors import InvalidInput
from cartflow.i18n import Message, _
from cartflow.registry.event_table import FloatArray, IntArray

INPUT_ERROR_CODE = "REGISTRY-BAD-CSV"


@dataclass(frozen=True)
class SurvivalColumns:
    time: FloatArray
    event: IntArray
    group: list[str] | None


def _where(column: str, row_index: int) -> Message:
    return _(
        "column {column}, row {row} (file line {line})",
        column=repr(column),
        row=row_index + 1,
        line=row_index + 2,
    )


def _numeric(frame: pd.DataFrame, column: str) -> FloatArray:
    text = frame[column].str.strip()
    values: FloatArray = np.asarray(pd.to_numeric(text, errors="coerce"), dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = str(frame[column].iloc[i])
        where = _where(column, i)
        message = (
            _("{where} is empty", where=where)
            if raw.strip() == ""
            else _("{where} is not a number: {value}", where=where, value=repr(raw))
        )
        raise InvalidInput(message, code=INPUT_ERROR_CODE, field=column)
    return values


def read_survival_csv(
    path: Path,
    *,
    time_column: str,
    event_column: str,
    group_column: str | None = None,
    competing: bool = False,
) -> SurvivalColumns:
    """Parse `path`; events must be 0/1, or any integer >= 0 when `competing` is true."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InvalidInput(
            _("file not found: {path}", path=str(path)), code=INPUT_ERROR_CODE
        ) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(
            _("cannot read {path} as CSV: {reason}", path=str(path), reason=message),
            code=INPUT_ERROR_CODE,
        ) from None
    wanted = [time_column, event_column] + ([group_column] if group_column else [])
    for column in wanted:
        if column not in frame.columns:
            raise InvalidInput(
                _(
                    "column {column} not found in {path} (columns: {columns})",
                    column=repr(column),
                    path=str(path),
                    columns=", ".join(frame.columns),
                ),
                code=INPUT_ERROR_CODE,
                field=column,
            )
    if len(frame) == 0:
        raise InvalidInput(
            _("{path} has a header but no data rows", path=str(path)), code=INPUT_ERROR_CODE
        )
    time = _numeric(frame, time_column)
    negative = time < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise InvalidInput(
            _(
                "{where} is negative: {value}",
                where=_where(time_column, i),
                value=repr(frame[time_column].iloc[i]),
            ),
            code=INPUT_ERROR_CODE,
            field=time_column,
        )
    event_values = _numeric(frame, event_column)
    allowed = (event_values == np.round(event_values)) & (event_values >= 0)
    if not competing:
        allowed &= event_values <= 1
    if not allowed.all():
        i = int(np.flatnonzero(~allowed)[0])
        where, value = _where(event_column, i), repr(frame[event_column].iloc[i])
        raise InvalidInput(
            _(
                "{where} must be 0 (censored), 1 (event) or 2+ (competing cause), got {value}",
                where=where,
                value=value,
            )
            if competing
            else _(
                "{where} must be 0 (censored) or 1 (event), got {value}", where=where, value=value
            ),
            code=INPUT_ERROR_CODE,
            field=event_column,
        )
    group: list[str] | None = None
    if group_column:
        labels = frame[group_column].str.strip()
        empty = (labels == "").to_numpy()
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise InvalidInput(
                _("{where} is empty", where=_where(group_column, i)),
                code=INPUT_ERROR_CODE,
                field=group_column,
            )
        group = labels.tolist()
    return SurvivalColumns(time=time, event=event_values.astype(np.int64), group=group)
