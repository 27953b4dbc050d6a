"""Corrections of regulated records: nothing is overwritten, nothing is deleted.

21 CFR 11.10(e): record changes "shall not obscure previously recorded information"; EU GMP
Annex 11 §9 asks for the reason of every change to GMP-relevant data. Two patterns, both written in
the same transaction as the change and audited with the reason:

1. **Versioned correction** (`correct_record`) for a record that others point to by id (a patient,
   an episode's planning data, a batch header). The live row keeps its id and holds the current
   version; every version, starting with the content before the first correction, is an immutable
   `RecordVersion` row that names the version it supersedes and the reason. A signature made on an
   earlier version keeps verifying against that version (the history shows which one it signed).
2. **Superseding record** (`supersede`) for a record that is itself an observation (a QC result, a
   plan, a batch step): the domain writes a new row whose `supersedes_id` names the old one, and
   calls `supersede` to check the reason and audit the link on both records. The old row is never
   changed.

Withdrawal is a state of the record (for example an episode's `withdrawn` state), never a delete.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import canonical_json, snapshot, to_jsonable
from cartflow.audit.service import diff, history, record_event
from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.models.records import RecordVersion

ContentOf = Callable[[Any], dict[str, Any]]
_VOLATILE = frozenset({"created_at", "updated_at"})


def default_content(record: object) -> dict[str, Any]:
    """A record's column values without its bookkeeping timestamps (what a version keeps)."""
    return snapshot(record, exclude=_VOLATILE)


def content_sha256(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(content)).encode("utf-8")).hexdigest()


def require_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput(_("a correction needs its reason"), field="reason")
    return reason.strip()


def versions(
    session: Session, *, record_type: str, record_id: uuid.UUID | str
) -> list[RecordVersion]:
    return list(
        session.execute(
            select(RecordVersion)
            .where(
                RecordVersion.record_type == record_type,
                RecordVersion.record_id == str(record_id),
            )
            .order_by(RecordVersion.version)
        ).scalars()
    )


@dataclass(frozen=True)
class Correction:
    """The new version and the fields it changed (old and new values)."""

    version: RecordVersion
    before: dict[str, Any]
    after: dict[str, Any]


def _capture(
    session: Session,
    *,
    record_type: str,
    record_id: str,
    content: dict[str, Any],
    previous: RecordVersion | None,
    actor: Actor,
) -> RecordVersion:
    """Keep the record as it stands now as a version: before its first correction (version 1), or
    after a change made outside a correction. It is attributed to the audit event that last wrote
    the record (or to the corrector when the record predates the audit trail)."""
    events = history(session, record_type=record_type, record_id=record_id)
    last = events[-1] if events else None
    version = RecordVersion(
        record_type=record_type,
        record_id=record_id,
        version=previous.version + 1 if previous else 1,
        content=content,
        content_sha256=content_sha256(content),
        supersedes_id=previous.id if previous else None,
        reason=last.reason if last else "",
        created_at=last.occurred_at if last else utcnow(),
        created_by_id=last.actor_id if last else actor.id,
        created_by_username=last.actor_username if last else actor.user.username,
    )
    session.add(version)
    session.flush()
    return version


def correct_record(
    session: Session,
    *,
    actor: Actor,
    record: object,
    record_type: str,
    changes: Mapping[str, object],
    reason: str,
    content_of: ContentOf = default_content,
    action: str = "correct",
) -> Correction | None:
    """Apply `changes` to the live `record` as a new version that supersedes the current one.

    The caller has checked the actor's right to correct this record and validated the values.
    Returns None (and writes nothing) when the changes leave the content as it was. Two concurrent
    corrections of one record cannot both win: (record, version) is unique in the database.
    """
    why = require_reason(reason)
    record_id = str(getattr(record, "id"))  # noqa: B009 - any mapped record with an `id`
    before = to_jsonable(content_of(record))
    for key, value in changes.items():
        if not hasattr(record, key):
            raise InvalidInput(
                _("{record_type} has no field {key!r}", record_type=record_type, key=key),
                field=key,
            )
        setattr(record, key, value)
    session.flush()
    after = to_jsonable(content_of(record))
    changed_before, changed_after = diff(before, after)
    if not changed_after:
        return None
    existing = versions(session, record_type=record_type, record_id=record_id)
    current = existing[-1] if existing else None
    if current is None or current.content_sha256 != content_sha256(before):
        current = _capture(
            session,
            record_type=record_type,
            record_id=record_id,
            content=before,
            previous=current,
            actor=actor,
        )
    new = RecordVersion(
        record_type=record_type,
        record_id=record_id,
        version=current.version + 1,
        content=after,
        content_sha256=content_sha256(after),
        supersedes_id=current.id,
        reason=why,
        created_at=utcnow(),
        created_by_id=actor.id,
        created_by_username=actor.user.username,
    )
    session.add(new)
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type=record_type,
        record_id=record_id,
        action=action,
        before=changed_before,
        after=changed_after | {"record_version": new.version},
        reason=why,
    )
    return Correction(version=new, before=changed_before, after=changed_after)


def supersede(
    session: Session,
    *,
    actor: Actor,
    record_type: str,
    old_id: uuid.UUID | str,
    new_id: uuid.UUID | str,
    reason: str,
    new_content: Mapping[str, Any] | None = None,
) -> None:
    """Audit that record `new_id` supersedes `old_id` (pattern 2): the domain has written the new
    row with its `supersedes_id`; the old row stays as it was, readable with its own history."""
    why = require_reason(reason)
    if str(old_id) == str(new_id):
        raise InvalidInput(_("a record cannot supersede itself"), field="supersedes_id")
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type=record_type,
        record_id=old_id,
        action="superseded",
        after={"superseded_by": str(new_id)},
        reason=why,
    )
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type=record_type,
        record_id=new_id,
        action="supersede",
        after={"supersedes": str(old_id)} | dict(new_content or {}),
        reason=why,
    )
