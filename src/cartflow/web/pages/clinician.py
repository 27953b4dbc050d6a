"""The clinician's ward: the center's patients at the clinical steps, the patients whose latest
CRS or ICANS grade is 2 or more, the follow-up visits due or overdue; the toxicity form, whose
ASTCT grade updates as it is filled in (htmx) and which records the assessment through
`cartflow.clinical.toxicity_service`; and the follow-up visits of an episode."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import roles_on_episode
from cartflow.clinical import outcome_service, toxicity_service, worklists
from cartflow.clinical.followup_schedule import VISIT_STATUS_LABELS, visit_label
from cartflow.clinical.grading_schemas import ICE_MIN_AGE_YEARS
from cartflow.clinical.schemas_after import ToxicityAssessmentIn, VisitIn
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError
from cartflow.i18n import _, gettext
from cartflow.models import Episode, EpisodeState, Role, TreatmentCenter
from cartflow.web import toxicity, views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
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
        raise RoleRequired(_("toxicity is assessed by a clinician of the patient's center"))
    return episode


def _age(episode: Episode) -> float:
    return float(episode.patient.age_on(views.local_today(episode.center)))


@router.get("")
def ward(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    found = views.open_episodes(session, actor=actor, states=WARD_STATES)
    rows = [views.row(actor, e) for e in found]
    labels = {e.id: views.patient_label(actor, e) for e in found}
    toxicity_rows = worklists.toxicity_worklist(session, actor=actor)
    # Each row's times in its own center's zone (a clinician may serve several centers).
    codes = {t.center_code for t in toxicity_rows}
    zones = {
        code: timezone
        for code, timezone in session.execute(
            select(TreatmentCenter.code, TreatmentCenter.timezone).where(
                TreatmentCenter.code.in_(codes)
            )
        )
    }
    return render(
        request,
        "clinician.html",
        {
            "toxicity": toxicity_rows,
            "zones": zones,
            "followups": worklists.followup_worklist(session, actor=actor),
            "visit_label": visit_label,
            "visit_statuses": VISIT_STATUS_LABELS,
            "labels": labels,
            "mine": [r for r in rows if r.mine or r.episode.state in MONITORED_STATES],
            "others": [r for r in rows if not (r.mine or r.episode.state in MONITORED_STATES)],
            "monitored": MONITORED_STATES,
            "crs_grades": toxicity.CRS_GRADES,
            "icans_grades": toxicity.ICANS_GRADES,
        },
        actor=actor,
    )


def _toxicity_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode: Episode,
    *,
    fields: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    age = _age(episode)
    values = fields or {"consciousness": "alert", "seizure": "none", "cerebral_edema": "none"}
    history = toxicity_service.list_assessments(session, actor=actor, episode_id=episode.id)
    return render(
        request,
        "toxicity.html",
        {
            "episode": episode,
            "patient_label": views.patient_label(actor, episode),
            "age": age,
            "capd_only": age < ICE_MIN_AGE_YEARS,
            "crs": toxicity.live_crs(values),
            "icans": toxicity.live_icans(values, age_years=age),
            "choices": toxicity,
            "values": values,
            "errors": errors or {},
            "history": history,
            "reasons": {
                (a.id, kind): reason
                for a in history
                for kind, graded in (("crs", a.crs_input), ("icans", a.icans_input))
                if (reason := toxicity.recorded(kind, graded)) is not None
            },
            "crs_grades": toxicity.CRS_GRADES,
            "icans_grades": toxicity.ICANS_GRADES,
            "zone": episode.center.timezone,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/episodes/{episode_id}/toxicity")
def toxicity_form(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _toxicity_page(request, session, actor, _clinical_episode(session, actor, episode_id))


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


@router.post("/episodes/{episode_id}/toxicity")
def record_toxicity(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    episode = _clinical_episode(session, actor, episode_id)
    moment = utcnow()
    if fields.get("assessed_at"):
        try:
            naive = dt.datetime.fromisoformat(fields["assessed_at"])
            moment = naive.replace(tzinfo=zoneinfo.ZoneInfo(episode.center.timezone))
        except ValueError:
            return _toxicity_page(
                request,
                session,
                actor,
                episode,
                fields=fields,
                errors={"assessed_at": gettext("a date and time")},
                status_code=422,
            )
    icans = toxicity.icans_payload(fields, age_years=_age(episode))
    icans.pop("age_years")  # the service takes the age from the patient's date of birth
    payload: dict[str, Any] = {
        "assessed_at": moment,
        "crs": toxicity.crs_payload(fields) if fields.get("temperature_c") else None,
        "icans": icans,
        "notes": fields.get("notes", ""),
    }
    try:
        data = ToxicityAssessmentIn.model_validate(payload)
        toxicity_service.record_assessment(session, actor=actor, episode_id=episode_id, data=data)
    except ValidationError as exc:
        return _toxicity_page(
            request,
            session,
            actor,
            episode,
            fields=fields,
            errors=field_errors(exc),
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        errors = refusal(session, exc)
        episode = _clinical_episode(session, actor, episode_id)
        return _toxicity_page(
            request,
            session,
            actor,
            episode,
            fields=fields,
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/clinician/episodes/{episode_id}/toxicity#history", status_code=303)


def _followup_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    plan = outcome_service.followup(session, actor=actor, episode_id=episode_id)
    return render(
        request,
        "followup.html",
        {
            "episode": episode,
            "patient_label": views.patient_label(actor, episode),
            "plan": plan,
            "visit_label": visit_label,
            "visit_statuses": VISIT_STATUS_LABELS,
            "zone": episode.center.timezone,
            "errors": errors or {},
            "may_record": bool(
                roles_on_episode(actor, episode) & outcome_service.FOLLOW_UP_RECORDERS
            ),
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/episodes/{episode_id}/followup")
def followup_page(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _followup_page(request, session, actor, episode_id)


@router.post("/episodes/{episode_id}/followup/{visit_key}")
def record_visit(
    request: Request,
    episode_id: uuid.UUID,
    visit_key: str,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    try:
        data = VisitIn.model_validate(filled(fields, "completed_on", "notes"))
        outcome_service.record_visit(
            session, actor=actor, episode_id=episode_id, visit_key=visit_key, data=data
        )
    except ValidationError as exc:
        return _followup_page(
            request,
            session,
            actor,
            episode_id,
            errors={visit_key: field_errors(exc)},
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _followup_page(
            request,
            session,
            actor,
            episode_id,
            errors={visit_key: refusal(session, exc)},
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/clinician/episodes/{episode_id}/followup", status_code=303)
