"""Writing and verifying the hash-chained audit trail.

Invariants: an event is written in the same transaction as the change it describes (services call
`record_event` and never commit); events are only ever appended; each event's `hash` is
SHA-256(prev_hash + canonical content), and the first event chains from `GENESIS_HASH`. Appends are
serialised (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE) so the chain never forks.

An event's content is fixed when `record_event` is called; it is linked into the chain when its
transaction commits, in the order recorded. On PostgreSQL the events are staged just before the
COMMIT and a deferred trigger chains them inside it (migration 0009), so the chain's lock is held
only while the database commits. Linking each event as it was recorded held that lock from a
request's first event until its commit, across the rest of its work, its thread hand-offs and each
round trip's wait for the GIL: every audited write in the network queued behind it, and a server
could not use its second core (docs/operations.md, "Load").

An event recorded inside a savepoint that rolls back is dropped with it; a rollback drops them all;
a read of audit events chains the transaction's pending events first, so a transaction reads its
own events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import insert, select, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from cartflow.audit.canonical import canonical_json, to_jsonable
from cartflow.db.base import utcnow
from cartflow.models import AuditEvent, AuditEventStaged

GENESIS_HASH = "0" * 64


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


# session.info key: the events recorded in the session's transaction and not yet handed to the
# database, each with the savepoint that was innermost when it was recorded (None: the transaction).
_PENDING = "cartflow.audit.pending"
_Pending = list[tuple[SessionTransaction | None, dict[str, Any]]]


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
) -> None:
    """Record an event of the session's transaction: its content is taken now; it is chained and
    written when the transaction commits (see the module docstring)."""
    values = {
        "occurred_at": (occurred_at or utcnow()).astimezone(dt.UTC),
        "actor_id": actor.user_id,
        "actor_username": actor.username,
        "actor_roles": list(actor.roles),
        "record_type": record_type,
        "record_id": str(record_id),
        "action": action,
        "reason": reason,
        "before": to_jsonable(before) if before is not None else None,
        "after": to_jsonable(after) if after is not None else None,
    }
    if not session.in_transaction():
        # Tie the event to a transaction now, so that its rollback drops it.
        session.begin()
    pending: _Pending = session.info.setdefault(_PENDING, [])
    pending.append((session.get_nested_transaction(), values))


def hand_over_pending_events(session: Session, *, chain_now: bool = False) -> None:
    """Give the session's pending events to the database to be chained.

    PostgreSQL: they are staged, and migration 0009's deferred trigger chains them inside the
    COMMIT; with `chain_now` (a transaction about to read audit events) the trigger fires at once,
    so the transaction reads its own events, at the price of holding the chain's lock from now on.
    SQLite: they are chained here (its writers are serialised whole by BEGIN IMMEDIATE).
    """
    pending: _Pending | None = session.info.pop(_PENDING, None)
    events = [values for _savepoint, values in pending or ()]
    postgresql = session.get_bind().dialect.name == "postgresql"
    if events:
        # The rest of the transaction's changes first: a constraint they break is refused
        # before anything of the chain's is touched.
        session.flush()
    if postgresql:
        if events:
            staged = [{**values, "content": canonical_json(values)} for values in events]
            session.execute(insert(AuditEventStaged), staged)
        if chain_now:
            session.execute(text("SET CONSTRAINTS audit_event_staged_chain IMMEDIATE"))
            session.execute(text("SET CONSTRAINTS audit_event_staged_chain DEFERRED"))
        return
    if not events:
        return
    prev_hash = (
        session.execute(
            select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        ).scalar_one_or_none()
        or GENESIS_HASH
    )
    for values in events:
        audit_event = AuditEvent(**values, prev_hash=prev_hash)
        audit_event.hash = compute_hash(prev_hash, event_content(audit_event))
        prev_hash = audit_event.hash
        session.add(audit_event)
        # One at a time: ids, and so the order the chain is verified in, follow the chain.
        session.flush()


@orm_event.listens_for(Session, "before_commit")
def _hand_over_before_commit(session: Session) -> None:
    hand_over_pending_events(session)


_AUDIT_EVENT_MAPPER = AuditEvent.__mapper__


@orm_event.listens_for(Session, "do_orm_execute")
def _chain_before_reading_events(state: ORMExecuteState) -> None:
    # Every ORM statement passes here: the cheap tests first.
    session = state.session
    postgresql = session.get_bind().dialect.name == "postgresql"
    if not postgresql and not session.info.get(_PENDING):
        return
    if state.bind_mapper is _AUDIT_EVENT_MAPPER or any(
        mapper is _AUDIT_EVENT_MAPPER for mapper in state.all_mappers
    ):
        hand_over_pending_events(session, chain_now=True)


@orm_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: _Pending | None = session.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [
        (savepoint, audit_event)
        for savepoint, audit_event in pending
        if not _inside(savepoint, previous_transaction)
    ]


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    # The session's own transaction ended (committed: already appended; closed or rolled back:
    # dropped with it). A savepoint that ended by release keeps its events for the commit.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)


def _inside(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


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
