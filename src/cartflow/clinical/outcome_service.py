"""Response assessments, progression or relapse, death with its cause, and follow-up visits.

Response is classified by `cartflow.clinical.response` with the framework that fits the
diagnosis: Lugano 2014 for B-cell lymphoma, IMWG for myeloma, CR/CRi and flow MRD for B-ALL; an
assessment in the wrong framework is refused (`framework`). A patient dies once (unique key);
non-relapse mortality follows from the cause. The follow-up schedule is the product's
(`followup_schedule`, 15 years for gene-modified products) from the infusion date at the treating
center, and stops at death.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.errors import ClinicalRuleRefused, denied
from cartflow.clinical.followup_schedule import followup_schedule, followup_status
from cartflow.clinical.response import (
    ball_response,
    imwg_response,
    is_non_relapse_mortality,
    lugano_ct_response,
    lugano_pet_response,
    mrd_negative_by_flow,
)
from cartflow.clinical.schemas_after import (
    BallIn,
    DeathIn,
    DiseaseEventIn,
    FollowUpOut,
    ImwgIn,
    LuganoCtIn,
    LuganoPetIn,
    ResponseIn,
    VisitIn,
)
from cartflow.clinical.service import (
    CLINICAL_READERS,
    CLINICIANS,
    audit,
    clinical_episode,
    infusion_date,
    local_date,
)
from cartflow.db.base import utcnow
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.models import Diagnosis, Episode, Role
from cartflow.models.clinical_outcome import (
    DeathRecord,
    DiseaseEvent,
    FollowUpVisit,
    ResponseAssessment,
    ResponseFramework,
)

FOLLOW_UP_RECORDERS = frozenset({Role.CLINICIAN, Role.COORDINATOR})
_LYMPHOMA = frozenset({ResponseFramework.LUGANO_PET, ResponseFramework.LUGANO_CT})


def _day0(session: Session, episode: Episode) -> dt.date:
    day0 = infusion_date(session, episode)
    if day0 is None:
        raise ClinicalRuleRefused.from_denied(
            denied("OUTCOME-NO-INFUSION", _("outcomes are recorded after the infusion"))
        )
    return day0


def _not_before(day: dt.date, day0: dt.date, field: str) -> None:
    if day < day0:
        raise InvalidInput(
            _(
                "{field} {day} is before the infusion on {day0}",
                field=field,
                day=str(day),
                day0=str(day0),
            ),
            field=field,
        )


def _framework_fits(framework: ResponseFramework, diagnosis: Diagnosis) -> bool:
    if framework in _LYMPHOMA:
        return diagnosis.is_b_nhl
    if framework is ResponseFramework.IMWG:
        return diagnosis is Diagnosis.MULTIPLE_MYELOMA
    return diagnosis is Diagnosis.B_ALL


def classify(data: ResponseIn) -> tuple[str, bool | None, str]:
    """(response, MRD negative or None, source) for one assessment."""
    if isinstance(data, LuganoPetIn):
        pet = lugano_pet_response(
            deauville=data.deauville,
            uptake_vs_baseline=data.uptake_vs_baseline,
            new_fdg_avid_lesions=data.new_fdg_avid_lesions,
            new_or_recurrent_marrow_involvement=data.new_or_recurrent_marrow_involvement,
            residual_fdg_avid_marrow=data.residual_fdg_avid_marrow,
        )
        return pet.value, None, "Lugano 2014 (Cheson, J Clin Oncol 2014;32:3059), PET-CT"
    if isinstance(data, LuganoCtIn):
        ct = lugano_ct_response(**data.model_dump(exclude={"framework", "assessed_on", "notes"}))
        return ct.value, None, "Lugano 2014 (Cheson, J Clin Oncol 2014;32:3059), CT"
    if isinstance(data, ImwgIn):
        return imwg_response(data.myeloma).value, None, "IMWG (Kumar, Lancet Oncol 2016;17:e328)"
    assert isinstance(data, BallIn)
    ball = ball_response(
        marrow_blasts_pct=data.marrow_blasts_pct,
        circulating_blasts=data.circulating_blasts,
        extramedullary_disease=data.extramedullary_disease,
        anc_10e9_per_l=data.anc_10e9_per_l,
        platelets_10e9_per_l=data.platelets_10e9_per_l,
        transfusion_independent=data.transfusion_independent,
    )
    mrd = mrd_negative_by_flow(data.mrd_flow_pct) if data.mrd_flow_pct is not None else None
    return ball.value, mrd, "B-ALL CR/CRi (NCCN, ELIANA); flow MRD < 0.01%"


def record_response(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: ResponseIn
) -> ResponseAssessment:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICIANS, action=_("response")
    )
    day0 = _day0(session, episode)
    _not_before(data.assessed_on, day0, "assessed_on")
    framework = ResponseFramework(data.framework)
    if not _framework_fits(framework, episode.patient.diagnosis):
        raise InvalidInput(
            _(
                "{framework} does not apply to {diagnosis}",
                framework=framework.value,
                diagnosis=episode.patient.diagnosis.value,
            ),
            field="framework",
        )
    response, mrd, source = classify(data)
    record = ResponseAssessment(
        episode_id=episode.id,
        assessed_on=data.assessed_on,
        day_after_infusion=(data.assessed_on - day0).days,
        framework=framework,
        inputs=data.model_dump(mode="json", exclude={"framework", "assessed_on", "notes"}),
        response=response,
        mrd_negative=mrd,
        source=source,
        recorded_by_id=actor.id,
        notes=data.notes,
    )
    session.add(record)
    audit(session, actor=actor, record_type="response_assessment", record=record, action="create")
    return record


def list_responses(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[ResponseAssessment]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    return list(
        session.execute(
            select(ResponseAssessment)
            .where(ResponseAssessment.episode_id == episode.id)
            .order_by(ResponseAssessment.assessed_on)
        ).scalars()
    )


def record_disease_event(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: DiseaseEventIn
) -> DiseaseEvent:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICIANS, action=_("progression")
    )
    _not_before(data.occurred_on, _day0(session, episode), "occurred_on")
    record = DiseaseEvent(
        episode_id=episode.id,
        kind=data.kind,
        occurred_on=data.occurred_on,
        cd19_negative=data.cd19_negative,
        recorded_by_id=actor.id,
        notes=data.notes,
    )
    session.add(record)
    audit(session, actor=actor, record_type="disease_event", record=record, action="create")
    return record


def record_death(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: DeathIn
) -> DeathRecord:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICIANS, action=_("death"), lock=True
    )
    _not_before(data.died_on, _day0(session, episode), "died_on")
    if data.died_on > local_date(utcnow(), episode.center.timezone):
        raise InvalidInput(_("died_on is in the future"), field="died_on")
    existing = session.execute(
        select(DeathRecord.id).where(DeathRecord.patient_id == episode.patient_id)
    ).first()
    if existing is not None:
        raise ClinicalRuleRefused.from_denied(
            denied("DEATH-RECORDED", _("a death is already on record for this patient"))
        )
    record = DeathRecord(
        patient_id=episode.patient_id,
        episode_id=episode.id,
        died_on=data.died_on,
        cause=data.cause,
        non_relapse_mortality=is_non_relapse_mortality(data.cause),
        recorded_by_id=actor.id,
        notes=data.notes,
    )
    session.add(record)
    audit(session, actor=actor, record_type="death_record", record=record, action="create")
    return record


def death_of(session: Session, episode_id: uuid.UUID) -> DeathRecord | None:
    return session.execute(
        select(DeathRecord).where(DeathRecord.episode_id == episode_id)
    ).scalar_one_or_none()


def followup(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, today: dt.date | None = None
) -> FollowUpOut:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    day0 = _day0(session, episode)
    done = session.execute(
        select(FollowUpVisit.visit_key, FollowUpVisit.completed_on).where(
            FollowUpVisit.episode_id == episode.id
        )
    ).all()
    death = death_of(session, episode.id)
    stopped = death.died_on if death is not None else None
    return FollowUpOut(
        episode_id=episode.id,
        infusion_date=day0,
        stopped_on=stopped,
        visits=followup_status(
            followup_schedule(day0, gene_modified=episode.product.gene_modified),
            today=today or local_date(utcnow(), episode.center.timezone),
            completed=dict(done),
            stopped_on=stopped,
        ),
    )


def record_visit(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, visit_key: str, data: VisitIn
) -> FollowUpVisit:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=FOLLOW_UP_RECORDERS,
        action=_("a follow-up visit"),
        lock=True,
    )
    day0 = _day0(session, episode)
    keys = [v.key for v in followup_schedule(day0, gene_modified=episode.product.gene_modified)]
    if visit_key not in keys:
        raise InvalidInput(
            _(
                "unknown visit {key!r}; e.g. {examples}",
                key=visit_key,
                examples=", ".join(keys[:5]),
            ),
            field="visit_key",
        )
    _not_before(data.completed_on, day0, "completed_on")
    if data.completed_on > local_date(utcnow(), episode.center.timezone):
        raise InvalidInput(_("completed_on is in the future"), field="completed_on")
    done = session.execute(
        select(FollowUpVisit.id).where(
            FollowUpVisit.episode_id == episode.id, FollowUpVisit.visit_key == visit_key
        )
    ).first()
    if done is not None:
        raise ClinicalRuleRefused.from_denied(
            denied("FU-VISIT-DONE", _("visit {key} is already recorded", key=visit_key))
        )
    record = FollowUpVisit(
        episode_id=episode.id,
        visit_key=visit_key,
        completed_on=data.completed_on,
        recorded_by_id=actor.id,
        notes=data.notes,
    )
    session.add(record)
    audit(session, actor=actor, record_type="followup_visit", record=record, action="create")
    return record
