"""Electronic signatures (21 CFR 11.50, 11.70): the signer's printed name, the UTC time and the
meaning, bound to the exact version of the signed record by its SHA-256. A signature copied to
another record, or kept after its record changed, no longer verifies."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey, utcnow


class ElectronicSignature(UUIDPrimaryKey, Base):
    __tablename__ = "electronic_signature"
    __table_args__ = (Index("ix_electronic_signature_record", "record_type", "record_id"),)

    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    signer_username: Mapped[str] = mapped_column(String(64))
    signer_printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    record_type: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[str] = mapped_column(String(64))
    record_sha256: Mapped[str] = mapped_column(String(64))
    signature_sha256: Mapped[str] = mapped_column(String(64), unique=True)
