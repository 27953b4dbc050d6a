"""Allocation of never-reused ISBT 128 sequence numbers.

The counter row is created on first use and incremented in the same transaction as the record that
uses the number; the unique constraint and the row lock (PostgreSQL) or the write lock taken by
BEGIN IMMEDIATE (SQLite) make two concurrent allocations impossible to collide.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.i18n import _
from cartflow.identity.errors import SequenceExhausted
from cartflow.models import IdentifierSequence

MAX_SEQUENCE = 999_999


def next_sequence(session: Session, *, fin: str, year: int, kind: str) -> int:
    row = session.execute(
        select(IdentifierSequence)
        .where(
            IdentifierSequence.facility_identification_number == fin,
            IdentifierSequence.year == year,
            IdentifierSequence.kind == kind,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = IdentifierSequence(facility_identification_number=fin, year=year, kind=kind)
        session.add(row)
    row.last_value = (row.last_value or 0) + 1
    if row.last_value > MAX_SEQUENCE:
        raise SequenceExhausted(
            _("the {kind} sequence for {fin} in {year} is used up", kind=kind, fin=fin, year=year)
        )
    session.flush()
    return row.last_value
