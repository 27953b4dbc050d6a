"""CRS/ICANS assessments after infusion, their corrections, the per-episode course, and the
tocilizumab, corticosteroid and anakinra doses given for them.

Grading is `cartflow.clinical.crs.grade_crs` and `cartflow.clinical.icans.grade_icans` (ASTCT,
Lee 2019), the same code as the grading contract; each stored grade keeps the rule that set it.
Two facts come from the record rather than the form: the patient's age on the day (ICE from 12
years, CAPD under 12) and whether tocilizumab or a corticosteroid was already given for CRS (then
fever is no longer required; the CRS input's `anticytokine_given` is set when such a dose is on
record at or before the assessment). Optional vitals are checked against the CRS categories they
support (low-flow oxygen is <= 6 L/min; vasopressin does not count towards multiple pressors).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.anticytokine import tocilizumab_dose_mg, tocilizumab_issues
from cartflow.clinical.crs import grade_crs
from cartflow.clinical.errors import ClinicalRecordNotFound, ClinicalRuleRefused, denied
from cartflow.clinical.grading import GradingInputError, parse_assessments
from cartflow.clinical.grading_schemas import CrsAssessment, Hypotension, IcansAssessment
from cartflow.clinical.icans import grade_icans
from cartflow.clinical.phrases import Joined, Number, When, english
from cartflow.clinical.schemas_after import (
    CourseOut,
    ToxicityAssessmentIn,
    ToxicityCorrectionIn,
    TreatmentIn,
    Vitals,
)
from cartflow.clinical.service import (
    CLINICAL_READERS,
    CLINICIANS,
    audit,
    clinical_episode,
    infusion_date,
    infusion_of,
    local_date,
)
from cartflow.clinical.toxicity_course import GradedPoint, summarise_course
from cartflow.db.base import utcnow
from cartflow.episodes.workflow import Denied
from cartflow.errors import InvalidInput
from cartflow.i18n import Message, _
from cartflow.i18n.labels import state_in_text
from cartflow.models import Episode, EpisodeState
from cartflow.models.clinical_toxicity import (
    ToxicityAssessment,
    ToxicityTreatment,
    TreatmentAgent,
    TreatmentIndication,
)

GRADING_SOURCE = "ASTCT consensus, Lee et al., Biol Blood Marrow Transplant 2019;25:625-638"
AFTER_INFUSION = frozenset({EpisodeState.INFUSED, EpisodeState.FOLLOW_UP})
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
LOW_FLOW_MAX_L_MIN = 6.0


def _after_infusion(episode: Episode, what: Message) -> None:
    if episode.state not in AFTER_INFUSION:
        raise ClinicalRuleRefused.from_denied(
            denied(
                "TOX-STATE",
                _(
                    "{what} follows the infusion; the episode is {state}",
                    what=what,
                    state=state_in_text(episode.state),
                ),
            )
        )


def _check_time(session: Session, episode: Episode, moment: dt.datetime, field: str) -> None:
    infusion = infusion_of(session, episode)
    start = infusion.infusion_started_at if infusion is not None else episode.infused_at
    if start is not None and moment < start:
        raise InvalidInput(
            _(
                "{field} is before the infusion ({start})",
                field=field,
                start=When(start, episode.center.timezone),
            ),
            field=field,
        )
    if moment > utcnow() + CLOCK_TOLERANCE:
        raise InvalidInput(_("{field} is in the future", field=field), field=field)


def check_vitals(crs: CrsAssessment, vitals: Vitals) -> None:
    """Refuse vitals that contradict the CRS categories (ASTCT table definitions)."""
    litres = vitals.oxygen_l_min
    if litres is not None:
        if crs.oxygen.value == "none" and litres > 0:
            raise InvalidInput(
                _("{litres} L/min of oxygen but crs.oxygen is 'none'", litres=Number(litres, None)),
                field="vitals.oxygen_l_min",
            )
        if crs.oxygen.value == "low_flow" and litres > LOW_FLOW_MAX_L_MIN:
            raise InvalidInput(
                _(
                    "{litres} L/min is high-flow (> 6 L/min), not low_flow",
                    litres=Number(litres, None),
                ),
                field="vitals.oxygen_l_min",
            )
    agents = {v.strip().lower() for v in vitals.vasopressors}
    if agents:
        others = agents - {"vasopressin"}
        count = len(others) if others else 1
        expected = Hypotension.ONE_VASOPRESSOR if count == 1 else Hypotension.MULTIPLE_VASOPRESSORS
        if crs.hypotension is not expected:
            raise InvalidInput(
                _(
                    "{count} vasopressor(s) counted (vasopressin excluded from 'multiple') but "
                    "crs.hypotension is {value!r}",
                    count=count,
                    value=crs.hypotension.value,
                ),
                field="crs.hypotension",
            )


def _anticytokine_before(session: Session, episode_id: uuid.UUID, moment: dt.datetime) -> bool:
    agents = [a for a in TreatmentAgent if a is TreatmentAgent.TOCILIZUMAB or a.is_corticosteroid]
    return (
        session.execute(
            select(ToxicityTreatment.id).where(
                ToxicityTreatment.episode_id == episode_id,
                ToxicityTreatment.indication == TreatmentIndication.CRS,
                ToxicityTreatment.agent.in_(agents),
                ToxicityTreatment.given_at <= moment,
            )
        ).first()
        is not None
    )


def _graded(session: Session, episode: Episode, data: ToxicityAssessmentIn) -> ToxicityAssessment:
    if data.crs is None and data.icans is None:
        raise InvalidInput(_("an assessment needs crs, icans or both"), field="crs")
    record = ToxicityAssessment(
        episode_id=episode.id,
        assessed_at=data.assessed_at,
        grading_source=GRADING_SOURCE,
        vitals=data.vitals.model_dump(mode="json", exclude_defaults=True),
        notes=data.notes,
    )
    if data.crs is not None:
        check_vitals(data.crs, data.vitals)
        crs = data.crs
        if not crs.anticytokine_given and _anticytokine_before(
            session, episode.id, data.assessed_at
        ):
            crs = crs.model_copy(update={"anticytokine_given": True})
        result = grade_crs(crs)
        record.crs_input = crs.model_dump(mode="json")
        record.crs_grade, record.crs_reason = result.grade, result.reason
    if data.icans is not None:
        day = local_date(data.assessed_at, episode.center.timezone)
        payload = {
            **data.icans.model_dump(mode="json"),
            "age_years": float(episode.patient.age_on(day)),
        }
        try:
            (icans,) = parse_assessments(payload, IcansAssessment, kind="ICANS")
        except GradingInputError as exc:
            raise InvalidInput(exc.message, field=f"icans.{exc.field}") from exc
        result = grade_icans(icans)
        record.icans_input = icans.model_dump(mode="json")
        record.icans_grade, record.icans_reason = result.grade, result.reason
    return record


def record_assessment(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: ToxicityAssessmentIn
) -> ToxicityAssessment:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICIANS, action=_("grading toxicity")
    )
    _after_infusion(episode, _("a toxicity assessment"))
    _check_time(session, episode, data.assessed_at, "assessed_at")
    record = _graded(session, episode, data)
    record.assessed_by_id = actor.id
    session.add(record)
    audit(session, actor=actor, record_type="toxicity_assessment", record=record, action="create")
    return record


def correct_assessment(
    session: Session, *, actor: Actor, assessment_id: uuid.UUID, data: ToxicityCorrectionIn
) -> ToxicityAssessment:
    """A corrected assessment supersedes the old one; the old one stays, marked by the link."""
    old = session.get(ToxicityAssessment, assessment_id)
    if old is None:
        raise ClinicalRecordNotFound(_("no toxicity assessment {id}", id=str(assessment_id)))
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=old.episode_id,
        roles=CLINICIANS,
        action=_("correcting toxicity"),
        lock=True,
    )
    already = session.execute(
        select(ToxicityAssessment.id).where(ToxicityAssessment.supersedes_id == old.id)
    ).first()
    if already is not None:
        raise ClinicalRuleRefused.from_denied(
            denied("TOX-ALREADY-CORRECTED", _("correct the newest version of this assessment"))
        )
    _check_time(session, episode, data.assessed_at, "assessed_at")
    record = _graded(session, episode, data)
    record.assessed_by_id = actor.id
    record.supersedes_id = old.id
    record.correction_reason = data.reason
    session.add(record)
    audit(
        session,
        actor=actor,
        record_type="toxicity_assessment",
        record=record,
        action="correct",
        before={"supersedes": old.id, "crs_grade": old.crs_grade, "icans_grade": old.icans_grade},
        reason=data.reason,
    )
    return record


def current_assessments(session: Session, episode_id: uuid.UUID) -> list[ToxicityAssessment]:
    superseded = select(ToxicityAssessment.supersedes_id).where(
        ToxicityAssessment.supersedes_id.is_not(None)
    )
    return list(
        session.execute(
            select(ToxicityAssessment)
            .where(
                ToxicityAssessment.episode_id == episode_id,
                ToxicityAssessment.id.not_in(superseded),
            )
            .order_by(ToxicityAssessment.assessed_at, ToxicityAssessment.recorded_at)
        ).scalars()
    )


def list_assessments(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, include_superseded: bool = False
) -> list[ToxicityAssessment]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    if not include_superseded:
        return current_assessments(session, episode.id)
    return list(
        session.execute(
            select(ToxicityAssessment)
            .where(ToxicityAssessment.episode_id == episode.id)
            .order_by(ToxicityAssessment.assessed_at, ToxicityAssessment.recorded_at)
        ).scalars()
    )


def course(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> CourseOut:
    """Maximum grade, onset and duration of CRS and ICANS, and the doses given."""
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    rows = current_assessments(session, episode.id)
    day0 = infusion_date(session, episode)
    tz = episode.center.timezone
    crs = [GradedPoint(r.assessed_at, r.crs_grade) for r in rows if r.crs_grade is not None]
    icans = [GradedPoint(r.assessed_at, r.icans_grade) for r in rows if r.icans_grade is not None]
    doses = Counter(
        session.execute(
            select(ToxicityTreatment.agent).where(ToxicityTreatment.episode_id == episode.id)
        ).scalars()
    )
    return CourseOut(
        episode_id=episode.id,
        infusion_date=day0,
        crs=summarise_course(crs, infusion_date=day0, timezone=tz),
        icans=summarise_course(icans, infusion_date=day0, timezone=tz),
        treatments={agent.value: count for agent, count in sorted(doses.items())},
    )


def record_treatment(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: TreatmentIn
) -> ToxicityTreatment:
    """Record a dose; tocilizumab is checked against its label limits (refused, or recorded with
    its flags when the clinician gives an override reason)."""
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CLINICIANS,
        action=_("recording a treatment"),
        lock=True,
    )
    _after_infusion(episode, _("a CRS/ICANS treatment"))
    _check_time(session, episode, data.given_at, "given_at")
    weight = data.weight_kg or episode.patient.weight_kg
    label: float | None = None
    flags: list[Denied] = []
    if data.agent is TreatmentAgent.TOCILIZUMAB:
        label = tocilizumab_dose_mg(weight)
        earlier = session.execute(
            select(ToxicityTreatment.given_at).where(
                ToxicityTreatment.episode_id == episode.id,
                ToxicityTreatment.agent == TreatmentAgent.TOCILIZUMAB,
            )
        ).scalars()
        flags = tocilizumab_issues(
            dose_mg=data.dose_mg, weight_kg=weight, at=data.given_at, earlier=list(earlier)
        )
        if flags and not data.override_reason.strip():
            detail = Joined(
                [Message("{code}: {message}", code=f.code, message=f.message) for f in flags], "; "
            )
            raise ClinicalRuleRefused(
                _("{detail} (give override_reason to record it anyway)", detail=detail),
                code=flags[0].code,
            )
    record = ToxicityTreatment(
        episode_id=episode.id,
        agent=data.agent,
        indication=data.indication,
        given_at=data.given_at,
        dose_mg=data.dose_mg,
        route=data.route,
        weight_kg=weight,
        label_dose_mg=label,
        rule_flags=[{"code": f.code, "message": english(f.message)} for f in flags],
        override_reason=data.override_reason.strip() if flags else "",
        recorded_by_id=actor.id,
        notes=data.notes,
    )
    session.add(record)
    audit(
        session,
        actor=actor,
        record_type="toxicity_treatment",
        record=record,
        action="create",
        reason=record.override_reason,
    )
    return record


def list_treatments(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[ToxicityTreatment]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    return list(
        session.execute(
            select(ToxicityTreatment)
            .where(ToxicityTreatment.episode_id == episode.id)
            .order_by(ToxicityTreatment.given_at)
        ).scalars()
    )
