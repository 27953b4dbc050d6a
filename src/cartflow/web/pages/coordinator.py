"""The coordinator's worklist: the center's patients with the next step of each, registration and
referral forms; eligibility and slot booking are steps on each episode (see `pages.episode`)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.episodes import patients as patient_service
from cartflow.episodes import service as episodes
from cartflow.episodes.schemas import EpisodeCreate, PatientCreate
from cartflow.errors import CartflowError
from cartflow.i18n import Message, _
from cartflow.models import Diagnosis, Role, TreatmentCenter
from cartflow.network import service as network
from cartflow.web import views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/coordinator")

_PATIENT_FIELDS = (
    "mrn",
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "weight_kg",
    "height_cm",
    "diagnosis",
    "disease_status",
    "prior_lines_of_therapy",
    "center",
)
# The fields as the forms label them, for the error summary above each form.
FIELD_LABELS: dict[str, Message] = {
    "mrn": _("Medical record number"),
    "family_name": _("Family name"),
    "given_name": _("Given name"),
    "date_of_birth": _("Date of birth"),
    "sex": _("Sex"),
    "weight_kg": _("Weight (kg)"),
    "height_cm": _("Height (cm)"),
    "diagnosis": _("Diagnosis"),
    "disease_status": _("Disease status"),
    "prior_lines_of_therapy": _("Prior lines of therapy"),
    "center": _("Center"),
    "product": _("Product"),
    "priority": _("Priority"),
    "earliest_apheresis_date": _("Earliest apheresis date"),
    "latest_infusion_date": _("Latest infusion date (optional)"),
    "notes": _("Notes (optional)"),
}
_REFERRAL_FIELDS = (
    "product",
    "priority",
    "earliest_apheresis_date",
    "latest_infusion_date",
    "notes",
)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    refer_errors: dict[uuid.UUID, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    open_rows = views.open_episodes(session, actor=actor)
    with_open = {e.patient_id for e in open_rows}
    patients, _total = patient_service.list_patients(
        session,
        actor=actor,
        filters=patient_service.PatientFilter(),
        limit=views.MAX_ROWS,
        offset=0,
    )
    centers = [
        c
        for c in (session.get(TreatmentCenter, cid) for cid in actor.center_ids(Role.COORDINATOR))
        if c is not None
    ]
    rows = [views.row(actor, e) for e in open_rows]
    context: dict[str, Any] = {
        # Worklists show the center's local time (a coordinator works at one center).
        "zone": centers[0].timezone if len(centers) == 1 else None,
        "mine": [r for r in rows if r.mine],
        "others": [r for r in rows if not r.mine],
        "waiting": [p for p in patients if p.id not in with_open],
        "products": [p for p in network.list_products(session) if p.active],
        "centers": sorted(centers, key=lambda c: c.code),
        "sexes": views.options(views.SEX_LABELS),
        "diagnoses": [(d.value, d.value) for d in Diagnosis],
        "statuses": views.options(views.DISEASE_STATUS_LABELS),
        "errors": errors or {},
        "values": values or {},
        "refer_errors": refer_errors or {},
        "field_labels": FIELD_LABELS,
    }
    return render(request, "coordinator.html", context, actor=actor, status_code=status_code)


@router.get("")
def worklist(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.COORDINATOR)
    return _page(request, session, actor)


@router.post("/patients")
def register(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.COORDINATOR)
    values = filled(fields, *_PATIENT_FIELDS)
    try:
        data = PatientCreate.model_validate(values)
        patient_service.register_patient(session, actor=actor, data=data)
    except ValidationError as exc:
        return _page(
            request, session, actor, errors=field_errors(exc), values=values, status_code=422
        )
    except CartflowError as exc:
        return _page(
            request,
            session,
            actor,
            errors=refusal(session, exc),
            values=values,
            status_code=exc.status_code,
        )
    return RedirectResponse("/coordinator#waiting", status_code=303)


@router.post("/patients/{patient_id}/refer")
def refer(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.COORDINATOR)
    values = filled(fields, *_REFERRAL_FIELDS)
    try:
        data = EpisodeCreate.model_validate({"patient_id": patient_id, **values})
        episode = episodes.refer_episode(session, actor=actor, data=data)
    except ValidationError as exc:
        return _page(
            request,
            session,
            actor,
            refer_errors={patient_id: field_errors(exc)},
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _page(
            request,
            session,
            actor,
            refer_errors={patient_id: refusal(session, exc)},
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/episodes/{episode.id}", status_code=303)
