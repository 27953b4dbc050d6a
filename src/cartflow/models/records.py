"""Record versions: every version of a corrected regulated record, kept for good.

A correction never overwrites history (21 CFR 11.10(e): changes "shall not obscure previously
recorded information"). The live row holds the current version, so keys and foreign keys stay
stable; each version, from the content before the first correction onwards, is an immutable row
here that names the version it supersedes and the reason. On PostgreSQL a trigger refuses UPDATE
and DELETE on this table (migration 0004).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey, utcnow


class RecordVersion(UUIDPrimaryKey, Base):
    __tablename__ = "record_version"
    __table_args__ = (
        UniqueConstraint("record_type", "record_id", "version"),
        # A version is superseded at most once: the versions of a record form one line, no fork.
        UniqueConstraint("supersedes_id"),
        Index("ix_record_version_record", "record_type", "record_id"),
    )

    record_type: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    content: Mapped[dict[str, Any]]
    content_sha256: Mapped[str] = mapped_column(String(64))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("record_version.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    created_by_username: Mapped[str] = mapped_column(String(64))
