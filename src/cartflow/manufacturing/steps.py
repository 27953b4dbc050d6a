"""Recording the manufacturing steps of a batch, and correcting them.

Steps follow `workflow.STEP_ORDER`, each starting after the previous one ended and none dated in
the future; a correction is a new revision that supersedes the old one, with a reason, and keeps
the order of the steps around it. Recording cryopreservation frees the device.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.errors import InvalidInput, NotFound
from cartflow.i18n import _
from cartflow.manufacturing import workflow
from cartflow.manufacturing.access import episode_of, get_batch, require_roles
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.manufacturing.records import (
    audit,
    audit_change,
    batch_snapshot,
    current_steps,
    refuse,
)
from cartflow.manufacturing.schemas import StepCorrection, StepRecord
from cartflow.models import EpisodeState, Role, User
from cartflow.models.manufacturing import Batch, BatchState, BatchStep, BatchStepOperator, StepKind


def step_times(steps: Sequence[BatchStep]) -> list[workflow.StepTimes]:
    return [workflow.StepTimes(s.step, s.started_at, s.completed_at) for s in steps]


def operators_of(
    session: Session, *, actor: Actor, site_id: uuid.UUID, usernames: Sequence[str]
) -> list[User]:
    """The people who did a step: the recorder unless others are named; each must work at the
    batch's site (GMP: only trained site staff touch the product)."""
    if not usernames:
        return [actor.user]
    users: list[User] = []
    for name in dict.fromkeys(usernames):
        user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
        at_site = user is not None and any(a.site_id == site_id for a in user.roles)
        if user is None or not user.is_active or not at_site:
            raise InvalidInput(
                _("{name!r} is not an active user of this site", name=name), field="operators"
            )
        users.append(user)
    return users


def add_step(
    session: Session,
    *,
    actor: Actor,
    batch: Batch,
    step: StepKind,
    started_at: dt.datetime,
    completed_at: dt.datetime,
    operators: Sequence[User],
    notes: str,
    parameters: dict[str, float | int | str | bool],
    now: dt.datetime,
    supersedes: BatchStep | None = None,
    reason: str = "",
) -> BatchStep:
    row = BatchStep(
        batch_id=batch.id,
        step=step,
        revision=supersedes.revision + 1 if supersedes else 1,
        supersedes_id=supersedes.id if supersedes else None,
        started_at=started_at,
        completed_at=completed_at,
        recorded_by_id=actor.id,
        recorded_at=now,
        notes=notes,
        parameters=dict(parameters),
        correction_reason=reason,
    )
    session.add(row)
    session.flush()
    for user in operators:
        session.add(
            BatchStepOperator(
                step_id=row.id,
                user_id=user.id,
                username=user.username,
                printed_name=user.full_name,
            )
        )
    session.flush()
    after = snapshot(row) | {"operators": sorted(u.username for u in operators)}
    if supersedes is None:
        audit(session, actor, "batch_step", row.id, "create", after=after)
    else:
        audit(
            session,
            actor,
            "batch_step",
            row.id,
            "correct",
            before=snapshot(supersedes),
            after=after,
            reason=reason,
        )
    return row


def record_step(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: StepRecord,
    now: dt.datetime | None = None,
) -> BatchStep:
    now = now or utcnow()
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(actor, episode, Role.PLANNER, action=_("recording a manufacturing step"))
    if batch.state is BatchState.IN_PROCESS and episode.state is not EpisodeState.IN_MANUFACTURING:
        raise ManufacturingRefused(
            _("STEP-009: the episode is {state}; terminate the batch instead", state=episode.state),
            code="STEP-009",
        )
    current = current_steps(session, batch.id)
    new = workflow.StepTimes(data.step, data.started_at, data.completed_at or now)
    refuse(
        workflow.guard_record_step(
            state=batch.state,
            current=step_times(current),
            new=new,
            now=now,
            collected_at=episode.apheresis_collected_at,
        ),
        field="step",
    )
    operators = operators_of(session, actor=actor, site_id=batch.site_id, usernames=data.operators)
    row = add_step(
        session,
        actor=actor,
        batch=batch,
        step=new.step,
        started_at=new.started_at,
        completed_at=new.completed_at,
        operators=operators,
        notes=data.notes,
        parameters=data.parameters,
        now=now,
    )
    if new.step is StepKind.CRYOPRESERVATION:
        # The product is frozen: the device is free for the next patient's batch.
        before = batch_snapshot(batch)
        batch.cryopreserved_at = new.completed_at
        batch.occupied_device_id = None
        session.flush()
        audit_change(
            session,
            actor,
            "batch",
            batch.id,
            "cryopreserved",
            before=before,
            after=batch_snapshot(batch),
        )
    return row


def correct_step(
    session: Session,
    *,
    actor: Actor,
    step_id: uuid.UUID,
    data: StepCorrection,
    now: dt.datetime | None = None,
) -> BatchStep:
    now = now or utcnow()
    old = session.get(BatchStep, step_id)
    if old is None:
        raise NotFound(_("no batch step {step}", step=step_id), code="BATCH-STEP-NOT-FOUND")
    batch = get_batch(session, actor=actor, batch_id=old.batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(actor, episode, Role.PLANNER, action=_("correcting a manufacturing step"))
    current = current_steps(session, batch.id)
    corrected = workflow.StepTimes(old.step, data.started_at, data.completed_at)
    refuse(
        workflow.guard_correct_step(
            state=batch.state,
            current=step_times(current),
            corrected=corrected,
            is_current_revision=any(s.id == old.id for s in current),
            now=now,
        ),
        field="started_at",
    )
    operators = operators_of(session, actor=actor, site_id=batch.site_id, usernames=data.operators)
    row = add_step(
        session,
        actor=actor,
        batch=batch,
        step=old.step,
        started_at=data.started_at,
        completed_at=data.completed_at,
        operators=operators,
        notes=data.notes,
        parameters=data.parameters,
        now=now,
        supersedes=old,
        reason=data.reason,
    )
    if old.step is StepKind.CRYOPRESERVATION and batch.cryopreserved_at is not None:
        before = batch_snapshot(batch)
        batch.cryopreserved_at = data.completed_at
        session.flush()
        audit_change(
            session,
            actor,
            "batch",
            batch.id,
            "correct",
            before=before,
            after=batch_snapshot(batch),
            reason=data.reason,
        )
    return row
