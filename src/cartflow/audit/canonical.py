"""Canonical JSON and record snapshots for hashing: the same content always gives the same bytes."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from typing import Any

from sqlalchemy import inspect as sa_inspect


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an audited value")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot(record: object, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The column values of an ORM record as JSON-ready data (secrets excluded by the caller)."""
    mapper = sa_inspect(type(record))
    out: dict[str, Any] = {}
    for column in mapper.column_attrs:
        if column.key in exclude:
            continue
        out[column.key] = to_jsonable(getattr(record, column.key))
    return out
