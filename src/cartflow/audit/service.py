"""Writing and verifying the hash-chained audit trail.

Invariants: an event is written in the same transaction as the change it describes (services call
`record_event` and never commit); events are only ever appended; each event's `hash` is
SHA-256(prev_hash + canonical content), and the first event chains from `GENESIS_HASH`. Appends are
serialised (an advisory lock on PostgreSQL; BEGIN IMMEDIATE on SQLite) so the chain never forks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cartflow.audit.canonical import canonical_json, to_jsonable
from cartflow.db.base import utcnow
from cartflow.models import AuditEvent

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x0CA27F10  # any constant shared by every writer of the chain


@dataclass(frozen=True)
class AuditActor:
    """Who acted: a person (with the roles held at that moment) or a named system process."""

    user_id: uuid.UUID | None
    username: str
    roles: tuple[str, ...]


SYSTEM_ACTOR = AuditActor(user_id=None, username="system", roles=("system",))


def event_content(event: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_roles": list(event.actor_roles),
        "record_type": event.record_type,
        "record_id": event.record_id,
        "action": event.action,
        "reason": event.reason,
        "before": event.before,
        "after": event.after,
    }


def compute_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})


def record_event(
    session: Session,
    *,
    actor: AuditActor,
    record_type: str,
    record_id: uuid.UUID | str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    occurred_at: dt.datetime | None = None,
) -> AuditEvent:
    _lock_chain(session)
    session.flush()
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = last or GENESIS_HASH
    event = AuditEvent(
        occurred_at=(occurred_at or utcnow()).astimezone(dt.UTC),
        actor_id=actor.user_id,
        actor_username=actor.username,
        actor_roles=list(actor.roles),
        record_type=record_type,
        record_id=str(record_id),
        action=action,
        reason=reason,
        before=to_jsonable(before) if before is not None else None,
        after=to_jsonable(after) if after is not None else None,
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(prev_hash, event_content(event))
    session.add(event)
    session.flush()
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = sorted(k for k in after if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@dataclass(frozen=True)
class ChainVerification:
    verified: int
    first_broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(events: Iterable[AuditEvent]) -> ChainVerification:
    prev_hash = GENESIS_HASH
    count = 0
    for event in events:
        if event.prev_hash != prev_hash:
            return ChainVerification(count, event.id, "previous-hash link does not match")
        if compute_hash(prev_hash, event_content(event)) != event.hash:
            return ChainVerification(count, event.id, "content does not match its hash")
        prev_hash = event.hash
        count += 1
    return ChainVerification(count, None, None)


def verify_audit_trail(session: Session) -> ChainVerification:
    events = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    return verify_chain(events)


def history(session: Session, *, record_type: str, record_id: uuid.UUID | str) -> list[AuditEvent]:
    return list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.record_type == record_type, AuditEvent.record_id == str(record_id))
            .order_by(AuditEvent.id)
        ).scalars()
    )
