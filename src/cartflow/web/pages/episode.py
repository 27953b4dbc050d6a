"""The episode's own page: who and what it is, the next steps the viewer may take, and its
timeline (vein-to-vein steps, signatures and the audit history of the episode record).

Every step is taken through `cartflow.episodes.service.apply_transition`; a step that a domain
service owns (a signed release, a scanned hand-off) is shown with where it is recorded instead of
a button. A refused step re-shows the page with the rule that refused it and writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit import service as audit
from cartflow.audit.signatures import signatures_for
from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.episodes import workflow
from cartflow.episodes.schemas import TransitionRequest
from cartflow.errors import CartflowError
from cartflow.models import EpisodeState, User
from cartflow.web import views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import render

router = page_router()


def _safe_back(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {row.id: row.full_name for row in rows}


def episode_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    changes = episodes.state_changes(session, actor=actor, episode_id=episode.id)
    history = audit.history(session, record_type="episode", record_id=episode.id)
    signatures = signatures_for(session, record_type="episode", record_id=episode.id)
    names = _names(session, {c.actor_id for c in changes})
    today = views.local_today(episode.center)
    eligibility = None
    if episode.state is EpisodeState.REFERRED:
        # The same guard the transition will apply, shown before the team confirms.
        eligibility = workflow.guard_eligibility(
            episodes.episode_facts(episode, today=today), workflow.TransitionInput()
        )
    context: dict[str, Any] = {
        "episode": episode,
        "patient_label": views.patient_label(actor, episode),
        "shows_identity": views.shows_identity(actor, episode),
        "check_character": views.check_character(episode),
        "steps": views.next_steps(actor, episode),
        "changes": changes,
        "names": names,
        "history": history,
        "signatures": signatures,
        "withdrawal_reasons": views.options(views.WITHDRAWAL_REASON_LABELS),
        "disease_status": views.label_of(
            views.DISEASE_STATUS_LABELS, episode.patient.disease_status
        ),
        "withdrawal_reason": (
            views.label_of(views.WITHDRAWAL_REASON_LABELS, episode.withdrawal_reason)
            if episode.withdrawal_reason
            else ""
        ),
        "action_label": views.action_label,
        # Times on the timeline are the center's local time, with the zone named.
        "zone": episode.center.timezone,
        "errors": errors or {},
        "values": values or {},
        "today": today,
        "eligibility": eligibility,
    }
    return render(request, "episode.html", context, actor=actor, status_code=status_code)


@router.get("/episodes/{episode_id}")
def show_episode(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return episode_page(request, session, actor, episode_id)


@router.post("/episodes/{episode_id}/transitions/{name}")
def take_step(
    request: Request,
    episode_id: uuid.UUID,
    name: str,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    values = filled(
        fields,
        "reason",
        "withdrawal_reason",
        "planned_apheresis_date",
        "planned_infusion_date",
        "expected_version",
    )
    try:
        step = TransitionRequest.model_validate({"transition": name, **values})
    except ValidationError as exc:
        errors = {f"{name}.{k}": v for k, v in field_errors(exc).items()}
        return episode_page(
            request, session, actor, episode_id, errors=errors, values=values, status_code=422
        )
    try:
        episodes.apply_transition(session, actor=actor, episode_id=episode_id, request=step)
    except CartflowError as exc:
        errors = {f"{name}.{k}": v for k, v in refusal(session, exc).items()}
        if exc.status_code == 404:
            raise
        return episode_page(
            request,
            session,
            actor,
            episode_id,
            errors=errors,
            values=values,
            status_code=exc.status_code,
        )
    back = _safe_back(fields.get("back"), f"/episodes/{episode_id}")
    return RedirectResponse(back, status_code=303)
