"""Batches and their manufacturing steps: start on receipt of the apheresis material, record each
step in order, correct a step with a reason, terminate a failed run, submit for QC, re-manufacture.

Invariants: a batch belongs to one episode and is made at that episode's site on one of the site's
devices, which makes one batch at a time (a unique column, locked on PostgreSQL); the episode moves
with the batch (start -> in_manufacturing, submit -> qc, re-manufacture -> apheresis_collected)
through `episodes.service.apply_transition` on behalf of "manufacturing", in the same transaction;
every create or change writes its audit event; nothing is deleted (a correction is a new revision).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.episodes.service import get_episode
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.identity.isbt128 import make_din
from cartflow.identity.sequences import next_sequence
from cartflow.manufacturing import workflow
from cartflow.manufacturing.access import episode_of, get_batch, require_roles
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.manufacturing.labels import BATCH_STATES
from cartflow.manufacturing.records import (
    audit,
    audit_change,
    batch_snapshot,
    current_steps,
    move_episode,
    refuse,
)
from cartflow.manufacturing.schemas import (
    BatchStart,
    Reason,
    SubmitForQc,
    Terminate,
)
from cartflow.manufacturing.specs import DoseCriterion, dose_band, parse_criteria
from cartflow.manufacturing.steps import add_step, operators_of
from cartflow.models import (
    Device,
    EpisodeState,
    ManufacturingSite,
    Patient,
    ReleaseSpecification,
    Role,
)
from cartflow.models.manufacturing import Batch, BatchState, StepKind


def _latest_batch(session: Session, episode_id: uuid.UUID) -> Batch | None:
    return (
        session.execute(
            select(Batch).where(Batch.episode_id == episode_id).order_by(Batch.run_number.desc())
        )
        .scalars()
        .first()
    )


def start_batch(
    session: Session, *, actor: Actor, data: BatchStart, now: dt.datetime | None = None
) -> Batch:
    """Receive the apheresis material and start a batch on a free device of the episode's site."""
    now = now or utcnow()
    episode = get_episode(session, actor=actor, episode_id=data.episode_id)
    require_roles(actor, episode, Role.PLANNER, action=_("starting a batch"))
    site = session.get(ManufacturingSite, episode.manufacturing_site_id)
    assert site is not None  # foreign key
    device = session.execute(
        select(Device)
        .where(Device.site_id == site.id, Device.code == data.device)
        .with_for_update()
    ).scalar_one_or_none()
    if device is None:
        raise InvalidInput(
            _("no device {device!r} at site {site}", device=data.device, site=site.code),
            field="device",
        )
    if not device.active:
        raise ManufacturingRefused(
            _("DEV-001: device {device} is out of service", device=device.code),
            code="DEV-001",
            field="device",
        )
    busy = session.execute(
        select(Batch.din).where(Batch.occupied_device_id == device.id)
    ).scalar_one_or_none()
    if busy is not None:
        raise ManufacturingRefused(
            _(
                "DEV-002: device {device} is making batch {batch}; a device makes one batch "
                "at a time",
                device=device.code,
                batch=busy,
            ),
            code="DEV-002",
            field="device",
        )
    operators = operators_of(session, actor=actor, site_id=site.id, usernames=data.operators)
    receipt = workflow.StepTimes(StepKind.APHERESIS_RECEIPT, data.received_at, data.received_at)
    refuse(
        workflow.guard_record_step(
            state=BatchState.IN_PROCESS,
            current=[],
            new=receipt,
            now=now,
            collected_at=episode.apheresis_collected_at,
        ),
        field="received_at",
    )
    previous = _latest_batch(session, episode.id)
    if previous is not None and previous.state not in (BatchState.REJECTED, BatchState.TERMINATED):
        raise ManufacturingRefused(
            _(
                "BATCH-001: batch {batch} of this episode is still {state}",
                batch=previous.din,
                state=BATCH_STATES.get(previous.state, previous.state.value),
            ),
            code="BATCH-001",
        )
    # The episode's own guard (only from apheresis_collected) refuses a second concurrent batch.
    move_episode(session, actor, episode, "start_manufacturing", "batch started", now)
    fin = site.facility_identification_number
    sequence = next_sequence(session, fin=fin, year=now.year, kind="din")
    batch = Batch(
        episode_id=episode.id,
        site_id=site.id,
        product_id=episode.product_id,
        din=make_din(fin=fin, year=now.year, sequence=sequence).value,
        run_number=previous.run_number + 1 if previous else 1,
        remanufacture_of_id=previous.id if previous else None,
        device_id=device.id,
        occupied_device_id=device.id,
        state=BatchState.IN_PROCESS,
        started_at=now,
        started_by_id=actor.id,
    )
    session.add(batch)
    session.flush()
    audit(session, actor, "batch", batch.id, "create", after=batch_snapshot(batch))
    add_step(
        session,
        actor=actor,
        batch=batch,
        step=StepKind.APHERESIS_RECEIPT,
        started_at=data.received_at,
        completed_at=data.received_at,
        operators=operators,
        notes=data.notes,
        parameters=data.parameters,
        now=now,
    )
    return batch


def terminate_batch(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: Terminate,
    now: dt.datetime | None = None,
) -> Batch:
    """Stop a failed run (e.g. the cells did not expand); the device is freed at once."""
    now = now or utcnow()
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(
        actor, episode, Role.PLANNER, Role.QUALIFIED_PERSON, action=_("terminating a batch")
    )
    refuse(workflow.guard_terminate(batch.state))
    before = batch_snapshot(batch)
    batch.state = BatchState.TERMINATED
    batch.occupied_device_id = None
    batch.closed_at = now
    batch.termination_reason = data.reason
    session.flush()
    audit_change(
        session,
        actor,
        "batch",
        batch.id,
        "terminate",
        before=before,
        after=batch_snapshot(batch),
        reason=data.reason,
    )
    if data.remanufacture and episode.state is EpisodeState.IN_MANUFACTURING:
        move_episode(session, actor, episode, "remanufacture", data.reason, now)
    return batch


def current_specification(session: Session, product_id: uuid.UUID) -> ReleaseSpecification | None:
    return session.execute(
        select(ReleaseSpecification).where(
            ReleaseSpecification.product_id == product_id,
            ReleaseSpecification.superseded_at.is_(None),
        )
    ).scalar_one_or_none()


def submit_for_qc(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: SubmitForQc,
    now: dt.datetime | None = None,
) -> Batch:
    """The cryopreserved product goes to release testing against the product's current
    specification, which the batch records (a later version does not change its judgement)."""
    now = now or utcnow()
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(
        actor, episode, Role.PLANNER, Role.QC_ANALYST, action=_("submitting a batch for QC")
    )
    recorded = [s.step for s in current_steps(session, batch.id)]
    refuse(workflow.guard_submit_for_qc(batch.state, recorded))
    spec = current_specification(session, batch.product_id)
    if spec is None:
        raise ManufacturingRefused(
            _("SPEC-001: the product has no release specification"), code="SPEC-001"
        )
    try:
        parsed = parse_criteria(spec.criteria)
    except InvalidInput as exc:
        raise ManufacturingRefused(
            _(
                "SPEC-002: specification version {version} is invalid: {field}: {problem}",
                version=spec.version,
                field=exc.field,
                problem=exc.message,
            ),
            code="SPEC-002",
        ) from None
    patient = session.get(Patient, episode.patient_id)
    assert patient is not None  # foreign key
    dose = parsed.criteria.get("car_t_dose")
    if isinstance(dose, DoseCriterion) and (
        dose_band(dose, weight_kg=patient.weight_kg, diagnosis=patient.diagnosis) is None
    ):
        raise ManufacturingRefused(
            _(
                "SPEC-003: specification version {version} has no dose band for a "
                "{weight:g} kg patient with {diagnosis}",
                version=spec.version,
                weight=patient.weight_kg,
                diagnosis=patient.diagnosis.value,
            ),
            code="SPEC-003",
        )
    before = batch_snapshot(batch)
    batch.state = BatchState.IN_QC
    batch.submitted_for_qc_at = now
    batch.specification_id = spec.id
    batch.patient_weight_kg = patient.weight_kg
    session.flush()
    audit_change(
        session,
        actor,
        "batch",
        batch.id,
        "submit_for_qc",
        before=before,
        after=batch_snapshot(batch),
        reason=data.reason,
    )
    move_episode(session, actor, episode, "submit_for_qc", data.reason or "cryopreserved", now)
    return batch


def remanufacture(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: Reason,
    now: dt.datetime | None = None,
) -> Batch:
    """Send the episode of a rejected or terminated batch back for a new run."""
    now = now or utcnow()
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(
        actor, episode, Role.PLANNER, Role.QUALIFIED_PERSON, action=_("ordering a re-manufacture")
    )
    latest = _latest_batch(session, episode.id)
    refuse(workflow.guard_remanufacture(batch.state, is_latest=latest is batch))
    audit(session, actor, "batch", batch.id, "remanufacture", reason=data.reason)
    move_episode(session, actor, episode, "remanufacture", data.reason, now)
    return batch
