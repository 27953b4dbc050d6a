"""CSV export of a list of (frozen) dataclass records: one table, one header row of field names.

Values are written as text a spreadsheet or R's `read.csv` reads back unambiguously: dates and
datetimes in ISO 8601, enums by value, booleans as true/false, None as an empty cell, tuples and
frozensets joined with "|". Written with the standard `csv` module (RFC 4180 quoting); pandas is
not needed for this. Parquet keeps the types instead (dates as dates, numbers as numbers), written
by pyarrow.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from cartflow.errors import InvalidInput
from cartflow.i18n import _


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _cell(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value, key=str) if isinstance(value, frozenset | set) else value
        return "|".join(_cell(item) for item in items)
    return str(value)


def _parquet_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list | frozenset | set):
        return _cell(value)
    return value


def records_to_parquet(
    records: Sequence[Any],
    *,
    record_type: type[Any] | None = None,
    columns: Sequence[str] | None = None,
) -> bytes:
    """Parquet bytes for the same records and columns as `records_to_csv`, with their types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = _columns(records, record_type, columns)
    table = pa.table({name: [_parquet_value(getattr(r, name)) for r in records] for name in header})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _columns(
    records: Sequence[Any], record_type: type[Any] | None, columns: Sequence[str] | None
) -> list[str]:
    kind = record_type if record_type is not None else (type(records[0]) if records else None)
    if kind is None:
        raise InvalidInput(
            _("nothing to export: the record list is empty and no record type was given"),
            field="records",
        )
    if not dataclasses.is_dataclass(kind):
        raise InvalidInput(_("{kind} is not a dataclass", kind=kind.__name__), field="records")
    for position, record in enumerate(records):
        if type(record) is not kind:
            raise InvalidInput(
                _(
                    "record {position} is a {found}, not a {kind}",
                    position=position,
                    found=type(record).__name__,
                    kind=kind.__name__,
                ),
                field="records",
            )
    names = [f.name for f in dataclasses.fields(kind)]
    header = list(columns) if columns is not None else names
    unknown = [c for c in header if c not in names]
    if unknown:
        raise InvalidInput(
            _("{kind} has no field {name}", kind=kind.__name__, name=repr(unknown[0])),
            field="columns",
        )
    return header


def records_to_csv(
    records: Sequence[Any],
    *,
    record_type: type[Any] | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    """CSV text for `records`, all instances of one dataclass (columns default to its fields).

    Pass `record_type` to get a header-only table when `records` is empty.
    """
    header = _columns(records, record_type, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([_cell(getattr(record, name)) for name in header])
    return buffer.getvalue()
