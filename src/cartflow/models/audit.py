"""Audit events: append-only and hash-chained (21 CFR 11.10(e)).

Each event stores the hash of the previous event and the SHA-256 of its own canonical content
including that previous hash, so an edit or a deletion anywhere breaks the chain from that point.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, utcnow


class EventFields:
    """What an audit event says, recorded or staged: who, when, which record, what changed."""

    # A gap-free, ordered sequence number; SQLite needs INTEGER for its rowid alias.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_roles: Mapped[list[Any]]
    record_type: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class AuditEvent(EventFields, Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_record", "record_type", "record_id"),)

    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditEventStaged(EventFields, Base):
    """An event handed to PostgreSQL at commit, to be chained there (migration 0009).

    A deferred trigger chains and moves each row into `audit_event` inside the COMMIT itself, so
    the chain's lock is held only while the database commits, never while the application runs
    (cartflow.audit.service). Empty outside a committing transaction; unused on SQLite.
    """

    __tablename__ = "audit_event_staged"

    # The event's canonical JSON (`canonical_json(event_content(...))` without the previous
    # hash), which the trigger hashes after the previous event's hash.
    content: Mapped[str] = mapped_column(Text)
