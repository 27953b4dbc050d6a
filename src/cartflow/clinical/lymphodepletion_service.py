"""Lymphodepletion plans, the start of lymphodepletion, and the CAR-HEMATOTOX baseline.

A plan is computed by `cartflow.clinical.lymphodepletion.plan_lymphodepletion` (Mosteller BSA,
fludarabine renal rule) from the patient record and stored with its dated doses; a re-plan before
the start supersedes the current plan with a reason. Starting lymphodepletion needs the product
released (SmPC rule, `workflow.guard_start_lymphodepletion`) and a current plan, and moves the
episode to lymphodepletion with the plan's day 0 as the planned infusion date.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.auth.actor import Actor
from cartflow.clinical.errors import ClinicalRuleRefused, denied
from cartflow.clinical.hematotox import HematotoxInput, car_hematotox
from cartflow.clinical.lymphodepletion import (
    REGIMENS,
    LdRegimen,
    cockcroft_gault_crcl,
    plan_lymphodepletion,
)
from cartflow.clinical.schemas import HematotoxIn, LdPlanIn, LdStartIn
from cartflow.clinical.service import (
    CLINICAL_READERS,
    CLINICIANS,
    audit,
    clinical_episode,
    current_protocol,
    local_date,
    move_episode,
)
from cartflow.clinical.workflow import (
    LdStartFacts,
    guard_hematotox_timing,
    guard_start_lymphodepletion,
)
from cartflow.db.base import utcnow
from cartflow.episodes.workflow import Denied
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.i18n.labels import state_in_text
from cartflow.models import Episode, EpisodeState, EpisodeStateChange, Sex
from cartflow.models.clinical import HematotoxAssessment, LymphodepletionPlan

S = EpisodeState
_PLANNABLE = frozenset(
    {S.ELIGIBLE, S.SLOT_BOOKED, S.APHERESIS_COLLECTED, S.IN_MANUFACTURING, S.QC, S.RELEASED}
    | {S.SHIPPED, S.RECEIVED}
)


def current_plan(session: Session, episode_id: uuid.UUID) -> LymphodepletionPlan | None:
    superseded = select(LymphodepletionPlan.supersedes_id).where(
        LymphodepletionPlan.supersedes_id.is_not(None)
    )
    return session.execute(
        select(LymphodepletionPlan).where(
            LymphodepletionPlan.episode_id == episode_id,
            LymphodepletionPlan.id.not_in(superseded),
        )
    ).scalar_one_or_none()


def _regimen(session: Session, episode: Episode, data: LdPlanIn) -> LdRegimen:
    if data.custom_regimen is not None:
        return data.custom_regimen
    protocol = current_protocol(session, episode.product_id)
    code = data.regimen or (protocol.ld_regimen_code if protocol else None)
    if code is None:
        raise InvalidInput(
            _("name a regimen (the product's protocol has no default)"), field="regimen"
        )
    if code not in REGIMENS:
        known = ", ".join(sorted(REGIMENS))
        raise InvalidInput(
            _("unknown regimen {code!r}; known: {known}", code=code, known=known), field="regimen"
        )
    return REGIMENS[code]


def _crcl(episode: Episode, data: LdPlanIn, weight_kg: float, today: dt.date) -> float:
    if data.crcl_ml_min is not None:
        return data.crcl_ml_min
    if data.serum_creatinine_mg_dl is None:
        raise InvalidInput(
            _("give crcl_ml_min or serum_creatinine_mg_dl (for Cockcroft-Gault)"),
            field="crcl_ml_min",
        )
    return cockcroft_gault_crcl(
        age_years=episode.patient.age_on(today),
        weight_kg=weight_kg,
        serum_creatinine_mg_dl=data.serum_creatinine_mg_dl,
        female=episode.patient.sex is Sex.FEMALE,
    )


def create_plan(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    data: LdPlanIn,
    now: dt.datetime | None = None,
) -> LymphodepletionPlan:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CLINICIANS,
        action=_("a lymphodepletion plan"),
        lock=True,
    )
    if episode.state not in _PLANNABLE:
        raise ClinicalRuleRefused.from_denied(
            denied(
                "LD-STATE",
                _("no lymphodepletion plan in state {state}", state=state_in_text(episode.state)),
            )
        )
    old = current_plan(session, episode.id)
    if old is not None and old.started_at is not None:
        raise ClinicalRuleRefused.from_denied(
            denied("LD-ALREADY-STARTED", _("lymphodepletion has started; the plan is fixed"))
        )
    if old is not None and not data.reason.strip():
        raise InvalidInput(_("re-planning needs a reason"), field="reason")
    # Plans may be entered after the fact (transcribed charts), so a past day 0 is accepted.
    today = local_date(now or utcnow(), episode.center.timezone)
    regimen = _regimen(session, episode, data)
    height = data.height_cm or episode.patient.height_cm
    weight = data.weight_kg or episode.patient.weight_kg
    try:
        crcl = _crcl(episode, data, weight, today)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="serum_creatinine_mg_dl") from exc
    try:
        plan = plan_lymphodepletion(
            regimen,
            infusion_date=data.infusion_date,
            height_cm=height,
            weight_kg=weight,
            crcl_ml_min=crcl,
            fludarabine_dose_factor=data.fludarabine_dose_factor,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), field="height_cm") from exc
    record = LymphodepletionPlan(
        episode_id=episode.id,
        regimen_code=regimen.code,
        regimen=regimen.model_dump(mode="json"),
        infusion_date=plan.infusion_date,
        height_cm=height,
        weight_kg=weight,
        bsa_m2=plan.bsa_m2,
        crcl_ml_min=round(crcl, 1),
        renal_function=plan.renal.function,
        reduced_renal_function=plan.renal.reduced_renal_function,
        renal_reason=plan.renal.reason,
        fludarabine_dose_factor=plan.fludarabine_dose_factor,
        doses=[d.model_dump(mode="json") for d in plan.doses],
        created_by_id=actor.id,
        supersedes_id=old.id if old else None,
        reason=data.reason,
    )
    session.add(record)
    audit(
        session,
        actor=actor,
        record_type="lymphodepletion_plan",
        record=record,
        action="create" if old is None else "replan",
        reason=data.reason,
    )
    return record


def get_current_plan(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> LymphodepletionPlan | None:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    return current_plan(session, episode.id)


def released_at(session: Session, episode_id: uuid.UUID) -> dt.datetime | None:
    """When the product was last released, unless it went back to manufacturing since."""
    changes = session.execute(
        select(EpisodeStateChange)
        .where(EpisodeStateChange.episode_id == episode_id)
        .order_by(EpisodeStateChange.occurred_at, EpisodeStateChange.id)
    ).scalars()
    moment: dt.datetime | None = None
    for change in changes:
        if change.to_state is EpisodeState.RELEASED:
            moment = change.occurred_at
        elif change.transition == "remanufacture":
            moment = None
    return moment


def start_lymphodepletion(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    data: LdStartIn,
    now: dt.datetime | None = None,
) -> LymphodepletionPlan:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CLINICIANS,
        action=_("starting lymphodepletion"),
        lock=True,
    )
    plan = current_plan(session, episode.id)
    moment = data.started_at or now or utcnow()
    if moment > (now or utcnow()) + dt.timedelta(minutes=5):
        raise InvalidInput(_("started_at is in the future"), field="started_at")
    decision = guard_start_lymphodepletion(
        LdStartFacts(
            released_at=released_at(session, episode.id),
            has_current_plan=plan is not None,
            plan_started=plan is not None and plan.started_at is not None,
            starts_at=moment,
        )
    )
    if isinstance(decision, Denied):
        raise ClinicalRuleRefused.from_denied(decision)
    assert plan is not None  # the guard refused otherwise
    before = snapshot(plan)
    plan.started_at = moment
    plan.started_by_id = actor.id
    audit(
        session,
        actor=actor,
        record_type="lymphodepletion_plan",
        record=plan,
        action="start",
        before=before,
        reason=data.reason,
    )
    move_episode(
        session,
        actor=actor,
        episode=episode,
        transition="start_lymphodepletion",
        reason=data.reason or f"lymphodepletion plan {plan.id}",
        now=moment,
        planned_infusion_date=plan.infusion_date,
    )
    return plan


def record_hematotox(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: HematotoxIn
) -> HematotoxAssessment:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CLINICIANS,
        action=_("a CAR-HEMATOTOX score"),
    )
    plan = current_plan(session, episode.id)
    started = plan.started_at if plan is not None else None
    decision = guard_hematotox_timing(
        measured_on=data.measured_on,
        ld_started_on=local_date(started, episode.center.timezone) if started else None,
    )
    if isinstance(decision, Denied):
        raise ClinicalRuleRefused.from_denied(decision, field="measured_on")
    labs = HematotoxInput.model_validate(data.model_dump(exclude={"measured_on"}))
    result = car_hematotox(labs)
    record = HematotoxAssessment(
        episode_id=episode.id,
        measured_on=data.measured_on,
        **labs.model_dump(),
        score=result.score,
        risk=result.risk.value,
        points=result.points,
        recorded_by_id=actor.id,
    )
    session.add(record)
    audit(session, actor=actor, record_type="hematotox_assessment", record=record, action="create")
    return record


def hematotox_assessments(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[HematotoxAssessment]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    return list(
        session.execute(
            select(HematotoxAssessment)
            .where(HematotoxAssessment.episode_id == episode.id)
            .order_by(HematotoxAssessment.measured_on)
        ).scalars()
    )
