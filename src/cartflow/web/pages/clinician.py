"""The clinician's ward: the center's patients at the clinical steps (eligibility, lymphodepletion,
infusion, monitoring) and the toxicity form whose ASTCT grade updates as it is filled in."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import roles_on_episode
from cartflow.clinical.grading_schemas import ICE_MIN_AGE_YEARS
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.models import Episode, EpisodeState, Role
from cartflow.web import toxicity, views
from cartflow.web.forms import FormFields
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/clinician")

WARD_STATES = (
    EpisodeState.REFERRED,
    EpisodeState.RECEIVED,
    EpisodeState.LYMPHODEPLETION,
    EpisodeState.INFUSED,
)
MONITORED_STATES = frozenset({EpisodeState.INFUSED, EpisodeState.FOLLOW_UP})


def _clinical_episode(session: Session, actor: Actor, episode_id: uuid.UUID) -> Episode:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    if Role.CLINICIAN not in roles_on_episode(actor, episode):
        raise RoleRequired("toxicity is assessed by a clinician of the patient's center")
    return episode


def _age(episode: Episode) -> float:
    return float(episode.patient.age_on(views.local_today(episode.center)))


@router.get("")
def ward(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    found = views.open_episodes(session, actor=actor, states=WARD_STATES)
    rows = [views.row(actor, e) for e in found]
    return render(
        request,
        "clinician.html",
        {
            "mine": [r for r in rows if r.mine or r.episode.state in MONITORED_STATES],
            "others": [r for r in rows if not (r.mine or r.episode.state in MONITORED_STATES)],
            "monitored": MONITORED_STATES,
        },
        actor=actor,
    )


@router.get("/episodes/{episode_id}/toxicity")
def toxicity_form(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    episode = _clinical_episode(session, actor, episode_id)
    age = _age(episode)
    return render(
        request,
        "toxicity.html",
        {
            "episode": episode,
            "patient_label": views.patient_label(actor, episode),
            "age": age,
            "capd_only": age < ICE_MIN_AGE_YEARS,
            "crs": toxicity.live_crs({}),
            "icans": toxicity.live_icans(
                {"consciousness": "alert", "seizure": "none", "cerebral_edema": "none"},
                age_years=age,
            ),
            "choices": toxicity,
        },
        actor=actor,
    )


@router.post("/episodes/{episode_id}/toxicity/grade")
def live_grade(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    """The htmx partial: both grades for what the form holds right now (nothing is stored)."""
    episode = _clinical_episode(session, actor, episode_id)
    age = _age(episode)
    return render(
        request,
        "_live_grade.html",
        {"crs": toxicity.live_crs(fields), "icans": toxicity.live_icans(fields, age_years=age)},
        actor=actor,
    )
