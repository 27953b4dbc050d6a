"""HTTP endpoints up to the infusion: protocol, consent, eligibility, lymphodepletion,
CAR-HEMATOTOX, the two-person bedside check and the infusion record (thin; rules in services)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from cartflow.auth.dependencies import CurrentActor, CurrentUser
from cartflow.clinical import eligibility_service, infusion_service, lymphodepletion_service
from cartflow.clinical import service as clinical_service
from cartflow.clinical.errors import ClinicalRecordNotFound
from cartflow.clinical.schemas import (
    BedsideCheckOut,
    BedsideScanIn,
    ConsentIn,
    ConsentOut,
    EligibilityIn,
    EligibilityOut,
    HematotoxIn,
    HematotoxOut,
    InfusionIn,
    InfusionOut,
    LdPlanIn,
    LdPlanOut,
    LdStartIn,
    ProtocolIn,
    ProtocolOut,
)
from cartflow.db.session import DbSession
from cartflow.i18n import _
from cartflow.models.clinical import Consent, HematotoxAssessment, LymphodepletionPlan
from cartflow.models.clinical_infusion import Infusion

router = APIRouter()
EPISODE = "/clinical/episodes/{episode_id}"
REFUSALS: dict[int | str, dict[str, str]] = {
    403: {"description": "wrong role for this episode's center, or wrong password"},
    404: {"description": "no such episode in your scope"},
    409: {"description": "a clinical rule refused the step; `code` names the rule"},
}


@router.get("/clinical/products/{code}/protocol", response_model=ProtocolOut)
def get_protocol(code: str, session: DbSession, _user: CurrentUser) -> ProtocolOut:
    return clinical_service.get_protocol(session, product_code=code)


@router.put("/clinical/products/{code}/protocol", response_model=ProtocolOut, responses=REFUSALS)
def set_protocol(
    code: str, body: ProtocolIn, session: DbSession, actor: CurrentActor
) -> ProtocolOut:
    return clinical_service.set_protocol(session, actor=actor, product_code=code, data=body)


@router.post(
    f"{EPISODE}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def record_consent(
    episode_id: uuid.UUID, body: ConsentIn, session: DbSession, actor: CurrentActor
) -> Consent:
    return clinical_service.record_consent(session, actor=actor, episode_id=episode_id, data=body)


@router.get(f"{EPISODE}/consents", response_model=list[ConsentOut])
def list_consents(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> list[Consent]:
    return clinical_service.consents(session, actor=actor, episode_id=episode_id)


@router.post(
    f"{EPISODE}/eligibility-assessments",
    response_model=EligibilityOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="Assess eligibility; a passing assessment moves the episode to eligible",
)
def assess_eligibility(
    episode_id: uuid.UUID, body: EligibilityIn, session: DbSession, actor: CurrentActor
) -> EligibilityOut:
    return eligibility_service.assess_eligibility(
        session, actor=actor, episode_id=episode_id, data=body
    )


@router.get(f"{EPISODE}/eligibility-assessments", response_model=list[EligibilityOut])
def list_eligibility(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[EligibilityOut]:
    return eligibility_service.eligibility_assessments(session, actor=actor, episode_id=episode_id)


@router.post(
    f"{EPISODE}/lymphodepletion-plans",
    response_model=LdPlanOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def create_ld_plan(
    episode_id: uuid.UUID, body: LdPlanIn, session: DbSession, actor: CurrentActor
) -> LymphodepletionPlan:
    return lymphodepletion_service.create_plan(
        session, actor=actor, episode_id=episode_id, data=body
    )


@router.get(f"{EPISODE}/lymphodepletion-plan", response_model=LdPlanOut)
def get_ld_plan(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> LymphodepletionPlan:
    plan = lymphodepletion_service.get_current_plan(session, actor=actor, episode_id=episode_id)
    if plan is None:
        raise ClinicalRecordNotFound(_("the episode has no lymphodepletion plan"))
    return plan


@router.post(
    f"{EPISODE}/lymphodepletion/start",
    response_model=LdPlanOut,
    responses=REFUSALS,
    summary="Start lymphodepletion (product released, plan on record); moves the episode",
)
def start_ld(
    episode_id: uuid.UUID, body: LdStartIn, session: DbSession, actor: CurrentActor
) -> LymphodepletionPlan:
    return lymphodepletion_service.start_lymphodepletion(
        session, actor=actor, episode_id=episode_id, data=body
    )


@router.post(
    f"{EPISODE}/hematotox",
    response_model=HematotoxOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def record_hematotox(
    episode_id: uuid.UUID, body: HematotoxIn, session: DbSession, actor: CurrentActor
) -> HematotoxAssessment:
    return lymphodepletion_service.record_hematotox(
        session, actor=actor, episode_id=episode_id, data=body
    )


@router.get(f"{EPISODE}/hematotox", response_model=list[HematotoxOut])
def list_hematotox(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[HematotoxAssessment]:
    return lymphodepletion_service.hematotox_assessments(
        session, actor=actor, episode_id=episode_id
    )


@router.post(
    f"{EPISODE}/bedside-checks",
    response_model=BedsideCheckOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="First person: scan bag and wristband, sign 'Identity verified at bedside'",
)
def start_bedside_check(
    episode_id: uuid.UUID, body: BedsideScanIn, session: DbSession, actor: CurrentActor
) -> BedsideCheckOut:
    check = infusion_service.start_bedside_check(
        session, actor=actor, episode_id=episode_id, data=body
    )
    return infusion_service.bedside_check_out(session, check)


@router.post(
    "/clinical/bedside-checks/{check_id}/confirm",
    response_model=BedsideCheckOut,
    responses=REFUSALS,
    summary="Second, different person: scan both again and sign",
)
def confirm_bedside_check(
    check_id: uuid.UUID, body: BedsideScanIn, session: DbSession, actor: CurrentActor
) -> BedsideCheckOut:
    check = infusion_service.confirm_bedside_check(
        session, actor=actor, check_id=check_id, data=body
    )
    return infusion_service.bedside_check_out(session, check)


@router.get("/clinical/bedside-checks/{check_id}", response_model=BedsideCheckOut)
def get_bedside_check(
    check_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> BedsideCheckOut:
    return infusion_service.get_bedside_check(session, actor=actor, check_id=check_id)


@router.post(
    f"{EPISODE}/infusion",
    response_model=InfusionOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="Record thaw, infusion times and dose after a verified bedside check",
)
def record_infusion(
    episode_id: uuid.UUID, body: InfusionIn, session: DbSession, actor: CurrentActor
) -> Infusion:
    return infusion_service.record_infusion(session, actor=actor, episode_id=episode_id, data=body)


@router.get(f"{EPISODE}/infusion", response_model=InfusionOut)
def get_infusion(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Infusion:
    return infusion_service.get_infusion(session, actor=actor, episode_id=episode_id)
