"""Patients and episodes over HTTP: a thin layer over the services."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from cartflow.auth.dependencies import CurrentActor
from cartflow.db.session import DbSession
from cartflow.episodes import patients as patient_service
from cartflow.episodes import service, workflow
from cartflow.episodes.schemas import (
    EpisodeCreate,
    EpisodeOut,
    PatientCreate,
    PatientOut,
    PatientUpdate,
    StateChangeOut,
    TransitionOut,
    TransitionRequest,
)
from cartflow.models import Diagnosis, EpisodeState, EpisodeStateChange, Patient
from cartflow.schemas_common import MAX_PAGE_SIZE, Page

router = APIRouter(tags=["patients and episodes"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
# Bounded: an offset past a 64-bit integer cannot be bound to the query (500 on SQLite).
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


@router.get("/patients", response_model=Page[PatientOut])
def list_patients(
    session: DbSession,
    actor: CurrentActor,
    diagnosis: Diagnosis | None = None,
    mrn: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PatientOut]:
    rows, total = patient_service.list_patients(
        session,
        actor=actor,
        filters=patient_service.PatientFilter(diagnosis=diagnosis, mrn=mrn),
        limit=limit,
        offset=offset,
    )
    items = [PatientOut.model_validate(p) for p in rows]
    return Page[PatientOut](items=items, total=total, limit=limit, offset=offset)


@router.post("/patients", response_model=PatientOut, status_code=status.HTTP_201_CREATED)
def register_patient(body: PatientCreate, session: DbSession, actor: CurrentActor) -> Patient:
    return patient_service.register_patient(session, actor=actor, data=body)


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(patient_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Patient:
    return patient_service.get_patient(session, actor=actor, patient_id=patient_id)


@router.patch("/patients/{patient_id}", response_model=PatientOut)
def update_patient(
    patient_id: uuid.UUID, body: PatientUpdate, session: DbSession, actor: CurrentActor
) -> Patient:
    return patient_service.update_patient(session, actor=actor, patient_id=patient_id, data=body)


@router.get("/episodes", response_model=Page[EpisodeOut])
def list_episodes(
    session: DbSession,
    actor: CurrentActor,
    state: EpisodeState | None = None,
    product: str | None = None,
    patient_id: uuid.UUID | None = None,
    chain_of_identity: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EpisodeOut]:
    rows, total = service.list_episodes(
        session,
        actor=actor,
        filters=service.EpisodeFilter(
            state=state,
            product_code=product,
            patient_id=patient_id,
            chain_of_identity=chain_of_identity,
        ),
        limit=limit,
        offset=offset,
    )
    items = [service.episode_out(e) for e in rows]
    return Page[EpisodeOut](items=items, total=total, limit=limit, offset=offset)


@router.post("/episodes", response_model=EpisodeOut, status_code=status.HTTP_201_CREATED)
def refer_episode(body: EpisodeCreate, session: DbSession, actor: CurrentActor) -> EpisodeOut:
    episode = service.refer_episode(session, actor=actor, data=body)
    return service.episode_out(service.get_episode(session, actor=actor, episode_id=episode.id))


@router.get("/episodes/{episode_id}", response_model=EpisodeOut)
def get_episode(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> EpisodeOut:
    return service.episode_out(service.get_episode(session, actor=actor, episode_id=episode_id))


@router.get("/episodes/{episode_id}/history", response_model=list[StateChangeOut])
def episode_history(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[EpisodeStateChange]:
    return service.state_changes(session, actor=actor, episode_id=episode_id)


@router.get("/episodes/{episode_id}/transitions", response_model=list[TransitionOut])
def episode_transitions(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[TransitionOut]:
    episode = service.get_episode(session, actor=actor, episode_id=episode_id)
    return [
        TransitionOut(name=t.name, target=t.target, description=str(t.description))
        for t in workflow.available_transitions(episode.state)
    ]


@router.post(
    "/episodes/{episode_id}/transitions",
    response_model=EpisodeOut,
    responses={409: {"description": "the transition's rule refused it; `code` names the rule"}},
)
def apply_transition(
    episode_id: uuid.UUID, body: TransitionRequest, session: DbSession, actor: CurrentActor
) -> EpisodeOut:
    episode = service.apply_transition(session, actor=actor, episode_id=episode_id, request=body)
    return service.episode_out(episode)
