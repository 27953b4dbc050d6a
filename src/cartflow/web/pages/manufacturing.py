"""The manufacturing pages: the batch record (steps, QC results, dispositions with their
signatures), starting a batch, recording steps, submitting for QC, the QC analyst's and the
qualified person's worklists, and the electronic-signature dialog of a disposition.

Every rule is `cartflow.manufacturing`'s (four-eyes on results, readiness for release, the
exceptional release of an out-of-specification batch). A wrong password at signing counts towards
the user's lock-out (`cartflow.auth.dependencies.count_wrong_password`) and signs nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
import zoneinfo
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.scope import roles_on_episode
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import _
from cartflow.manufacturing import labels, qc, service, steps
from cartflow.manufacturing import views as batch_views
from cartflow.manufacturing.access import get_batch
from cartflow.manufacturing.schemas import (
    BatchStart,
    QcResultIn,
    StepRecord,
    SubmitForQc,
)
from cartflow.models import Device, EpisodeState, Role
from cartflow.web import views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import render, templates

router = page_router()

# Batch states, steps and disposition words read in the page's language (stored values stay).
templates.env.filters["batch_state"] = labels.batch_state_label
templates.env.filters["step_label"] = labels.step_label
templates.env.filters["decision_label"] = labels.decision_label
templates.env.filters["disposition_status"] = labels.disposition_status_label
templates.env.filters["meaning"] = labels.meaning_label


def _local(value: str, zone: str, field: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(_("{field}: a date and time", field=field), field=field) from exc
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(zone)) if naive.tzinfo is None else naive


def _batch_page(
    request: Request,
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    record = batch_views.batch_out(session, batch)
    episode = episodes.get_episode(session, actor=actor, episode_id=batch.episode_id)
    held = roles_on_episode(actor, episode)
    entered = {r.test for r in record.results if r.current}
    context: dict[str, Any] = {
        "batch": record,
        "episode": episode,
        "patient_label": views.patient_label(actor, episode),
        "operator": bool(held & {Role.PLANNER, Role.QC_ANALYST}),
        "analyst": Role.QC_ANALYST in held,
        "qp": Role.QUALIFIED_PERSON in held,
        "awaiting_entry": [c for c in record.specification if c.test not in entered],
        "errors": errors or {},
        "zone": episode.manufacturing_site.timezone,
    }
    return render(request, "batch.html", context, actor=actor, status_code=status_code)


@router.get("/batches/{batch_id}")
def batch_page(
    request: Request, batch_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _batch_page(request, session, actor, batch_id)


@router.get("/manufacturing/episodes/{episode_id}")
def episode_batch(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    """The episode's latest batch, or the form that starts one."""
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    batches, _ = batch_views.list_batches(
        session, actor=actor, episode_id=episode.id, state=None, limit=1, offset=0
    )
    if batches and episode.state is not EpisodeState.APHERESIS_COLLECTED:
        return RedirectResponse(f"/batches/{batches[0].id}", status_code=303)
    return _start_page(request, session, actor, episode_id)


def _start_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    devices = session.query(Device).filter(
        Device.site_id == episode.manufacturing_site_id, Device.active.is_(True)
    )
    return render(
        request,
        "batch_start.html",
        {
            "episode": episode,
            "patient_label": views.patient_label(actor, episode),
            "devices": sorted(devices, key=lambda d: d.code),
            "errors": errors or {},
            "zone": episode.manufacturing_site.timezone,
            "may_start": Role.PLANNER in roles_on_episode(actor, episode)
            and episode.state is EpisodeState.APHERESIS_COLLECTED,
        },
        actor=actor,
        status_code=status_code,
    )


@router.post("/manufacturing/episodes/{episode_id}/start")
def start(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    try:
        data = BatchStart.model_validate(
            {
                **filled(fields, "device", "notes"),
                "episode_id": episode_id,
                "received_at": _local(
                    fields.get("received_at", ""),
                    episode.manufacturing_site.timezone,
                    "received_at",
                ),
            }
        )
        batch = service.start_batch(session, actor=actor, data=data)
    except ValidationError as exc:
        return _start_page(
            request, session, actor, episode_id, errors=field_errors(exc), status_code=422
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _start_page(
            request,
            session,
            actor,
            episode_id,
            errors=refusal(session, exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/batches/{batch.id}", status_code=303)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    schema: type[BaseModel],
    payload: dict[str, Any],
    action: Any,
) -> Response:
    try:
        action(schema.model_validate(payload))
    except ValidationError as exc:
        return _batch_page(
            request, session, actor, batch_id, errors=field_errors(exc), status_code=422
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _batch_page(
            request,
            session,
            actor,
            batch_id,
            errors=refusal(session, exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.post("/batches/{batch_id}/steps")
def record_step(
    request: Request, batch_id: uuid.UUID, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    zone = episodes.get_episode(
        session, actor=actor, episode_id=batch.episode_id
    ).manufacturing_site.timezone
    try:
        payload: dict[str, Any] = {
            **filled(fields, "step", "notes"),
            "started_at": _local(fields.get("started_at", ""), zone, "started_at"),
        }
        if fields.get("completed_at"):
            payload["completed_at"] = _local(fields["completed_at"], zone, "completed_at")
    except InvalidInput as exc:
        return _batch_page(
            request, session, actor, batch_id, errors=refusal(session, exc), status_code=422
        )
    return _act(
        request,
        session,
        actor,
        batch_id,
        StepRecord,
        payload,
        lambda data: steps.record_step(session, actor=actor, batch_id=batch_id, data=data),
    )


@router.post("/batches/{batch_id}/submit")
def submit(
    request: Request, batch_id: uuid.UUID, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    return _act(
        request,
        session,
        actor,
        batch_id,
        SubmitForQc,
        filled(fields, "reason"),
        lambda data: service.submit_for_qc(session, actor=actor, batch_id=batch_id, data=data),
    )


@router.post("/batches/{batch_id}/results")
def enter_result(
    request: Request, batch_id: uuid.UUID, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    values: dict[str, Any] = filled(fields, "test", "value", "method", "comment")
    if "value" in values:
        # A text result such as "no growth" or "negative" stays text.
        with contextlib.suppress(ValueError):
            values["value"] = float(values["value"].replace(",", "."))
    return _act(
        request,
        session,
        actor,
        batch_id,
        QcResultIn,
        values,
        lambda data: qc.enter_result(session, actor=actor, batch_id=batch_id, data=data),
    )


@router.post("/batches/{batch_id}/results/{result_id}/verify")
def verify(
    request: Request,
    batch_id: uuid.UUID,
    result_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
) -> Response:
    try:
        qc.verify_result(session, actor=actor, result_id=result_id)
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _batch_page(
            request,
            session,
            actor,
            batch_id,
            errors=refusal(session, exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/batches/{batch_id}#results", status_code=303)
