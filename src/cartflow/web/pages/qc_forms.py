"""Corrections and exceptions on a batch record (issue #10): a QC retest that supersedes a result
(`manufacturing.qc.retest`), the treating physician's signed exceptional-release request for an
out-of-specification product (`manufacturing.disposition.request_exceptional_release`), and the
correction of a recorded manufacturing step (`manufacturing.steps.correct_step`).

Each form is validated by the service's own schema; the services decide who may act and when
(four-eyes, batch state, step order). A refusal re-shows the form with the message beside its
field and writes nothing; a wrong password at signing also counts towards the lock-out. History
is never edited: a retest and a correction are new records linked to the ones they supersede.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.errors import CartflowError, NotFound
from cartflow.i18n import _
from cartflow.manufacturing import disposition, qc, steps
from cartflow.manufacturing import views as batch_views
from cartflow.manufacturing.access import get_batch
from cartflow.manufacturing.schemas import (
    ExceptionalReleaseRequestIn,
    RetestIn,
    StepCorrection,
)
from cartflow.models import ManufacturingSite, Role
from cartflow.web.forms import FormFields, field_errors, filled, refusal, signature_refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/batches/{batch_id}")


def _zone(session: Session, site_id: uuid.UUID) -> str:
    site = session.get(ManufacturingSite, site_id)
    return site.timezone if site is not None else "UTC"


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    form: str,
    *,
    item_id: uuid.UUID | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    record = batch_views.batch_out(session, batch)
    zone = _zone(session, batch.site_id)
    result = next((r for r in record.results if r.id == item_id), None)
    step = next((s for s in record.steps if s.id == item_id), None)
    if (form == "retest" and result is None) or (form == "correct" and step is None):
        raise NotFound(_("no such result or step on this batch"))
    shown = dict(values or {})
    if form == "correct" and step is not None and not values:
        shown = {
            "started_at": _input_time(step.started_at, zone),
            "completed_at": _input_time(step.completed_at, zone),
            "notes": step.notes,
        }
    context: dict[str, Any] = {
        "batch": record,
        "zone": zone,
        "form": form,
        "result": result,
        "step": step,
        "out_of_spec": [r for r in record.results if r.current and not r.within_spec],
        "errors": errors or {},
        "values": shown,
    }
    return render(request, "qc_forms.html", context, actor=actor, status_code=status_code)


def _input_time(moment: dt.datetime, zone: str) -> str:
    """A stored moment as the value of a datetime-local input, in the site's zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None).isoformat("T", "minutes")


def _aware(value: str | None, zone: str) -> dt.datetime | str | None:
    """A datetime-local input read in the site's zone (the schema refuses what is not a time)."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        naive = dt.datetime.fromisoformat(value)
        return naive if naive.tzinfo else naive.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return value


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    form: str,
    item_id: uuid.UUID | None,
    schema: type[BaseModel],
    payload: dict[str, Any],
    shown: dict[str, str],
    work: Callable[[Any], object],
) -> Response:
    try:
        work(schema.model_validate(payload))
    except ValidationError as exc:
        return _page(
            request,
            session,
            actor,
            batch_id,
            form,
            item_id=item_id,
            errors=field_errors(exc),
            values=shown,
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        errors = (
            signature_refusal(request, session, actor, exc)
            if form == "exceptional"
            else refusal(session, exc)
        )
        return _page(
            request,
            session,
            actor,
            batch_id,
            form,
            item_id=item_id,
            errors=errors,
            values=shown,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


# --- QC retest (QC analyst) --------------------------------------------------------------------


@router.get("/results/{result_id}/retest")
def retest_page(
    request: Request,
    batch_id: uuid.UUID,
    result_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
) -> Response:
    require_page_role(actor, Role.QC_ANALYST)
    return _page(request, session, actor, batch_id, "retest", item_id=result_id)


@router.post("/results/{result_id}/retest")
def retest(
    request: Request,
    batch_id: uuid.UUID,
    result_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.QC_ANALYST)
    shown = filled(fields, "value", "reason", "method", "comment")
    payload: dict[str, Any] = dict(shown)
    if "value" in payload:
        # A text result such as "no growth" stays text.
        with contextlib.suppress(ValueError):
            payload["value"] = float(payload["value"].replace(",", "."))
    return _act(
        request,
        session,
        actor,
        batch_id,
        "retest",
        result_id,
        RetestIn,
        payload,
        shown,
        lambda data: qc.retest(session, actor=actor, result_id=result_id, data=data),
    )


# --- Exceptional release request (treating physician) -----------------------------------------


@router.get("/exceptional-release")
def exceptional_page(
    request: Request, batch_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    return _page(request, session, actor, batch_id, "exceptional")


@router.post("/exceptional-release")
def request_exceptional(
    request: Request,
    batch_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    payload = filled(fields, "justification", "password")
    return _act(
        request,
        session,
        actor,
        batch_id,
        "exceptional",
        None,
        ExceptionalReleaseRequestIn,
        payload,
        {k: v for k, v in payload.items() if k != "password"},
        lambda data: disposition.request_exceptional_release(
            session, actor=actor, batch_id=batch_id, data=data
        ),
    )


# --- Step correction (planner) -----------------------------------------------------------------


@router.get("/steps/{step_id}/correct")
def correction_page(
    request: Request, batch_id: uuid.UUID, step_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    require_page_role(actor, Role.PLANNER)
    return _page(request, session, actor, batch_id, "correct", item_id=step_id)


@router.post("/steps/{step_id}/correct")
def correct(
    request: Request,
    batch_id: uuid.UUID,
    step_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.PLANNER)
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    record = batch_views.batch_out(session, batch)
    old = next((s for s in record.steps if s.id == step_id), None)
    if old is None:
        raise NotFound(_("no such result or step on this batch"))
    zone = _zone(session, batch.site_id)
    shown = filled(fields, "started_at", "completed_at", "notes", "reason")
    # The correction keeps the step's operators and parameters: this form corrects times and notes.
    payload: dict[str, Any] = {
        **shown,
        "started_at": _aware(shown.get("started_at"), zone),
        "completed_at": _aware(shown.get("completed_at"), zone),
        "operators": [p.username for p in old.operators],
        "parameters": old.parameters,
    }
    if payload["started_at"] is None:
        payload.pop("started_at")
    if payload["completed_at"] is None:
        payload.pop("completed_at")
    return _act(
        request,
        session,
        actor,
        batch_id,
        "correct",
        step_id,
        StepCorrection,
        payload,
        shown,
        lambda data: steps.correct_step(session, actor=actor, step_id=step_id, data=data),
    )
