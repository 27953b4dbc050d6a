"""Shared plumbing of the manufacturing services: refusing with a rule's code, writing audit events,
moving the episode on behalf of manufacturing, and reading a batch's current steps and results."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import diff, record_event
from cartflow.auth.actor import Actor
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.i18n import _
from cartflow.manufacturing import workflow
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.models import Episode, ReleaseSpecification
from cartflow.models.manufacturing import Batch, BatchStep, StepKind
from cartflow.models.manufacturing_qc import QcResult

# The owner name of the episode transitions this domain takes (see episodes/workflow.py).
OWNER = "manufacturing"
_NOISE = frozenset({"created_at", "updated_at"})


def refuse(decision: workflow.Decision, *, field: str | None = None) -> None:
    """Raise the rule that refused the step (409 with the rule's code)."""
    if isinstance(decision, workflow.Denied):
        raise ManufacturingRefused(
            _("{code}: {message}", code=decision.code, message=decision.message),
            code=decision.code,
            field=field,
        )


def batch_snapshot(batch: Batch) -> dict[str, Any]:
    return snapshot(batch, exclude=_NOISE)


def audit(
    session: Session,
    actor: Actor,
    record_type: str,
    record_id: uuid.UUID,
    action: str,
    *,
    after: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type=record_type,
        record_id=record_id,
        action=action,
        before=before,
        after=after,
        reason=reason,
    )


def audit_change(
    session: Session,
    actor: Actor,
    record_type: str,
    record_id: uuid.UUID,
    action: str,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str = "",
) -> None:
    """An audit event holding only the fields that changed, old and new."""
    old, new = diff(before, after)
    audit(session, actor, record_type, record_id, action, before=old, after=new, reason=reason)


def move_episode(
    session: Session,
    actor: Actor,
    episode: Episode,
    transition: str,
    reason: str,
    now: dt.datetime,
) -> None:
    apply_transition(
        session,
        actor=actor,
        episode_id=episode.id,
        request=TransitionRequest(transition=transition, reason=reason),
        now=now,
        on_behalf_of=OWNER,
    )


def current_steps(session: Session, batch_id: uuid.UUID) -> list[BatchStep]:
    """The latest revision of each recorded step, in manufacturing order."""
    rows = session.execute(
        select(BatchStep).where(BatchStep.batch_id == batch_id).order_by(BatchStep.revision)
    ).scalars()
    latest: dict[StepKind, BatchStep] = {}
    for row in rows:
        latest[row.step] = row
    return [latest[s] for s in workflow.STEP_ORDER if s in latest]


def all_steps(
    session: Session, batch_id: uuid.UUID, *, with_operators: bool = False
) -> list[BatchStep]:
    """Every revision of every step, in manufacturing order."""
    order = {s: i for i, s in enumerate(workflow.STEP_ORDER)}
    stmt = select(BatchStep).where(BatchStep.batch_id == batch_id)
    if with_operators:
        stmt = stmt.options(selectinload(BatchStep.operators))
    rows = session.execute(stmt).scalars()
    return sorted(rows, key=lambda s: (order[s.step], s.revision))


def batch_results(session: Session, batch_id: uuid.UUID) -> list[QcResult]:
    """Every result of the batch, superseded ones included, by test and attempt."""
    return list(
        session.execute(
            select(QcResult)
            .where(QcResult.batch_id == batch_id)
            .order_by(QcResult.test, QcResult.attempt)
        ).scalars()
    )


def superseded_ids(results: list[QcResult]) -> frozenset[uuid.UUID]:
    return frozenset(r.supersedes_id for r in results if r.supersedes_id is not None)


def result_facts(results: list[QcResult]) -> tuple[workflow.ResultFacts, ...]:
    gone = superseded_ids(results)
    return tuple(
        workflow.ResultFacts(
            id=r.id,
            test=r.test,
            entered_by=r.entered_by_id,
            verified_by=r.verified_by_id,
            within_spec=r.within_spec,
            is_current=r.id not in gone,
        )
        for r in results
    )


def specification_of(session: Session, batch: Batch) -> ReleaseSpecification | None:
    if batch.specification_id is None:
        return None
    return session.get(ReleaseSpecification, batch.specification_id)
