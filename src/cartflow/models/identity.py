"""Identifier sequences: ISBT 128 numbers are assigned from a per-facility, per-year counter that
only ever goes up, so an identifier is never reused (ST-001 §2.4.1)."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey


class IdentifierSequence(UUIDPrimaryKey, Base):
    __tablename__ = "identifier_sequence"
    __table_args__ = (UniqueConstraint("facility_identification_number", "year", "kind"),)

    facility_identification_number: Mapped[str] = mapped_column(String(5))
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # "coi" or "din"
    last_value: Mapped[int] = mapped_column(default=0)
