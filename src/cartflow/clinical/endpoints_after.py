"""HTTP endpoints after the infusion: toxicity assessments and treatments, ICAHT, response,
progression, death, follow-up and the worklists (thin; rules in the services)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from cartflow.auth.dependencies import CurrentActor
from cartflow.clinical import counts_service, outcome_service, toxicity_service, worklists
from cartflow.clinical.endpoints_before import EPISODE, REFUSALS
from cartflow.clinical.schemas_after import (
    BloodCountsIn,
    CourseOut,
    DeathIn,
    DeathOut,
    DiseaseEventIn,
    DiseaseEventOut,
    FollowUpOut,
    FollowUpWorklistRow,
    IcahtOut,
    ResponseIn,
    ResponseOut,
    ToxicityAssessmentIn,
    ToxicityAssessmentOut,
    ToxicityCorrectionIn,
    ToxicityWorklistRow,
    TreatmentIn,
    TreatmentOut,
    VisitIn,
)
from cartflow.db.session import DbSession
from cartflow.models.clinical_outcome import (
    DeathRecord,
    DiseaseEvent,
    FollowUpVisit,
    ResponseAssessment,
)
from cartflow.models.clinical_toxicity import ToxicityAssessment, ToxicityTreatment

router = APIRouter()


@router.post(
    f"{EPISODE}/toxicity-assessments",
    response_model=ToxicityAssessmentOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="Record a CRS and/or ICANS assessment; the ASTCT grade and its rule are stored",
)
def record_assessment(
    episode_id: uuid.UUID, body: ToxicityAssessmentIn, session: DbSession, actor: CurrentActor
) -> ToxicityAssessment:
    return toxicity_service.record_assessment(
        session, actor=actor, episode_id=episode_id, data=body
    )


@router.get(f"{EPISODE}/toxicity-assessments", response_model=list[ToxicityAssessmentOut])
def list_assessments(
    episode_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    include_superseded: bool = False,
) -> list[ToxicityAssessment]:
    return toxicity_service.list_assessments(
        session, actor=actor, episode_id=episode_id, include_superseded=include_superseded
    )


@router.post(
    "/clinical/toxicity-assessments/{assessment_id}/corrections",
    response_model=ToxicityAssessmentOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def correct_assessment(
    assessment_id: uuid.UUID, body: ToxicityCorrectionIn, session: DbSession, actor: CurrentActor
) -> ToxicityAssessment:
    return toxicity_service.correct_assessment(
        session, actor=actor, assessment_id=assessment_id, data=body
    )


@router.get(f"{EPISODE}/toxicity-course", response_model=CourseOut)
def toxicity_course(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> CourseOut:
    return toxicity_service.course(session, actor=actor, episode_id=episode_id)


@router.post(
    f"{EPISODE}/treatments",
    response_model=TreatmentOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="Record tocilizumab, corticosteroid or anakinra (tocilizumab label limits checked)",
)
def record_treatment(
    episode_id: uuid.UUID, body: TreatmentIn, session: DbSession, actor: CurrentActor
) -> ToxicityTreatment:
    return toxicity_service.record_treatment(session, actor=actor, episode_id=episode_id, data=body)


@router.get(f"{EPISODE}/treatments", response_model=list[TreatmentOut])
def list_treatments(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[ToxicityTreatment]:
    return toxicity_service.list_treatments(session, actor=actor, episode_id=episode_id)


@router.post(f"{EPISODE}/blood-counts", status_code=status.HTTP_201_CREATED, responses=REFUSALS)
def record_blood_counts(
    episode_id: uuid.UUID, body: BloodCountsIn, session: DbSession, actor: CurrentActor
) -> dict[str, int]:
    records = counts_service.record_blood_counts(
        session, actor=actor, episode_id=episode_id, data=body
    )
    return {"recorded": len(records)}


@router.get(f"{EPISODE}/icaht", response_model=IcahtOut)
def icaht(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> IcahtOut:
    return counts_service.icaht(session, actor=actor, episode_id=episode_id)


@router.post(
    f"{EPISODE}/responses",
    response_model=ResponseOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def record_response(
    episode_id: uuid.UUID, body: ResponseIn, session: DbSession, actor: CurrentActor
) -> ResponseAssessment:
    return outcome_service.record_response(session, actor=actor, episode_id=episode_id, data=body)


@router.get(f"{EPISODE}/responses", response_model=list[ResponseOut])
def list_responses(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[ResponseAssessment]:
    return outcome_service.list_responses(session, actor=actor, episode_id=episode_id)


@router.post(
    f"{EPISODE}/disease-events",
    response_model=DiseaseEventOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def record_disease_event(
    episode_id: uuid.UUID, body: DiseaseEventIn, session: DbSession, actor: CurrentActor
) -> DiseaseEvent:
    return outcome_service.record_disease_event(
        session, actor=actor, episode_id=episode_id, data=body
    )


@router.post(
    f"{EPISODE}/death",
    response_model=DeathOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def record_death(
    episode_id: uuid.UUID, body: DeathIn, session: DbSession, actor: CurrentActor
) -> DeathRecord:
    return outcome_service.record_death(session, actor=actor, episode_id=episode_id, data=body)


@router.get(f"{EPISODE}/follow-up", response_model=FollowUpOut)
def followup(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> FollowUpOut:
    return outcome_service.followup(session, actor=actor, episode_id=episode_id)


@router.post(
    f"{EPISODE}/follow-up/{{visit_key}}",
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def record_visit(
    episode_id: uuid.UUID, visit_key: str, body: VisitIn, session: DbSession, actor: CurrentActor
) -> dict[str, str]:
    visit: FollowUpVisit = outcome_service.record_visit(
        session, actor=actor, episode_id=episode_id, visit_key=visit_key, data=body
    )
    return {"visit_key": visit.visit_key, "completed_on": visit.completed_on.isoformat()}


@router.get("/clinical/worklists/toxicity", response_model=list[ToxicityWorklistRow])
def toxicity_worklist(
    session: DbSession, actor: CurrentActor, center: str | None = None
) -> list[ToxicityWorklistRow]:
    """Patients whose latest assessment is CRS or ICANS grade >= 2, in your centers."""
    return worklists.toxicity_worklist(session, actor=actor, center_code=center)


@router.get("/clinical/worklists/follow-up", response_model=list[FollowUpWorklistRow])
def followup_worklist(
    session: DbSession, actor: CurrentActor, center: str | None = None
) -> list[FollowUpWorklistRow]:
    """Follow-up visits due now or overdue, in your centers."""
    return worklists.followup_worklist(session, actor=actor, center_code=center)
