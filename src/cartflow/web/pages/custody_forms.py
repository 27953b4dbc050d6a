"""Custody follow-up forms (issue #10): closing a custody deviation with the investigation's
outcome (`logistics.custody.close_deviation`), importing a shipper's temperature logger file
(`logistics.shipments.import_temperature_file`, which applies the cold-chain limits of
`logistics.temperature` and quarantines on an excursion), and the registry cohort as a FHIR R4
bundle (`registry.fhir_export`, the same bundle as `GET /api/v1/registry/export.fhir`).

The services decide who may act and what is refused; a refusal re-shows the form with the message
beside its field and writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import _
from cartflow.logistics import custody, shipments
from cartflow.logistics.labels import STEP_LABELS
from cartflow.logistics.schemas import DeviationClose
from cartflow.models import ManufacturingSite, Role, TreatmentCenter
from cartflow.models.custody import DeviationStatus
from cartflow.models.logistics_shipment import TemperatureImport
from cartflow.registry.cohorts import CohortFilter, select_cohort
from cartflow.registry.fhir_export import fhir_bundle_json
from cartflow.registry.service import build_export
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.pages.registry import CohortQuery
from cartflow.web.templating import render

router = page_router()

DEVIATION_PAGE_ROLES = (Role.QUALIFIED_PERSON, Role.COORDINATOR)
LOGGER_PAGE_ROLES = (
    Role.COORDINATOR,
    Role.APHERESIS_NURSE,
    Role.CLINICIAN,
    Role.COURIER,
    Role.PLANNER,
    Role.QC_ANALYST,
    Role.QUALIFIED_PERSON,
)


# --- Custody deviations ------------------------------------------------------------------------


def _deviations_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID | None,
    *,
    failed: uuid.UUID | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    episode = (
        episodes.get_episode(session, actor=actor, episode_id=episode_id) if episode_id else None
    )
    open_ = custody.list_deviations(
        session, actor=actor, status=DeviationStatus.OPEN, episode_id=episode_id
    )
    closed = custody.list_deviations(
        session, actor=actor, status=DeviationStatus.CLOSED, episode_id=episode_id
    )[:20]
    context: dict[str, Any] = {
        "episode": episode,
        "open": open_,
        "closed": closed,
        "steps": {k.value: str(v) for k, v in STEP_LABELS.items()},
        "failed": failed,
        "errors": errors or {},
        "values": values or {},
        "zone": episode.center.timezone if episode is not None else None,
    }
    return render(request, "deviations.html", context, actor=actor, status_code=status_code)


@router.get("/deviations")
def deviations_page(
    request: Request, session: DbSession, actor: PageActor, episode: uuid.UUID | None = None
) -> Response:
    require_page_role(actor, *DEVIATION_PAGE_ROLES)
    return _deviations_page(request, session, actor, episode)


@router.post("/deviations/{deviation_id}/close")
def close_deviation(
    request: Request,
    deviation_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, *DEVIATION_PAGE_ROLES)
    values = filled(fields, "note")
    back = fields.get("episode") or None
    episode_id = uuid.UUID(back) if back else None
    try:
        data = DeviationClose.model_validate(values)
        custody.close_deviation(session, actor=actor, deviation_id=deviation_id, note=data.note)
    except (ValidationError, CartflowError) as exc:
        if isinstance(exc, CartflowError) and exc.status_code == 404:
            raise
        errors = field_errors(exc) if isinstance(exc, ValidationError) else refusal(session, exc)
        return _deviations_page(
            request,
            session,
            actor,
            episode_id,
            failed=deviation_id,
            errors=errors,
            values=values,
            status_code=422 if isinstance(exc, ValidationError) else exc.status_code,
        )
    target = f"/deviations?episode={episode_id}" if episode_id else "/deviations"
    return RedirectResponse(target, status_code=303)


# --- Shipper temperature logger files ----------------------------------------------------------


def _temperature_page(
    request: Request,
    session: Session,
    actor: Actor,
    shipment_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    shipment = shipments.get_shipment(session, actor=actor, shipment_id=shipment_id)
    origin, destination = shipments.place_names(session, shipment)
    center = session.get(TreatmentCenter, shipment.center_id)
    site = session.get(ManufacturingSite, shipment.site_id)
    imports = list(
        session.execute(
            select(TemperatureImport)
            .where(TemperatureImport.shipment_id == shipment.id)
            .order_by(TemperatureImport.imported_at)
        ).scalars()
    )
    context: dict[str, Any] = {
        "shipment": shipment,
        "origin": origin,
        "destination": destination,
        "site_zone": site.timezone if site else None,
        "zone": center.timezone if center else None,
        "imports": imports,
        "errors": errors or {},
    }
    return render(request, "temperature_import.html", context, actor=actor, status_code=status_code)


@router.get("/shipments")
def shipments_page(
    request: Request, session: DbSession, actor: PageActor, episode: uuid.UUID
) -> Response:
    """The episode's shipments, each with its temperature logs (the way to the import form)."""
    require_page_role(actor, *LOGGER_PAGE_ROLES)
    found = episodes.get_episode(session, actor=actor, episode_id=episode)
    context: dict[str, Any] = {
        "episode": found,
        "shipments": shipments.list_shipments(session, actor=actor, episode_id=episode),
        "zone": found.center.timezone,
    }
    return render(request, "shipments.html", context, actor=actor)


@router.get("/shipments/{shipment_id}/temperature")
def temperature_page(
    request: Request, shipment_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    require_page_role(actor, *LOGGER_PAGE_ROLES)
    return _temperature_page(request, session, actor, shipment_id)


@router.post("/shipments/{shipment_id}/temperature")
async def import_temperature(
    request: Request, shipment_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    require_page_role(actor, *LOGGER_PAGE_ROLES)
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(_("choose the logger's CSV file"), field="file")
        content = await upload.read()
        if not content:
            raise InvalidInput(_("the file is empty"), field="file")
        shipments.import_temperature_file(
            session,
            actor=actor,
            shipment_id=shipment_id,
            filename=upload.filename,
            content=content,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        errors = refusal(session, exc)
        # The service names a line of the file, not a form field: the message goes by the file.
        if "form" in errors:
            errors = {"file": errors["form"]}
        return _temperature_page(
            request, session, actor, shipment_id, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"/shipments/{shipment_id}/temperature", status_code=303)


# --- The registry cohort as FHIR ---------------------------------------------------------------


@router.get("/registry/cohort.fhir.json")
def cohort_fhir(session: DbSession, actor: PageActor, q: CohortQuery) -> Response:
    """The pseudonymous cohort of the registry page's filters as a FHIR R4 collection bundle."""
    require_page_role(actor, Role.REGISTRY_ANALYST)
    members = select_cohort(
        session,
        actor=actor,
        filters=CohortFilter(
            center=q.center,
            product=q.product,
            indication=q.diagnosis,
            referred_from=q.referred_from,
            referred_to=q.referred_to,
        ),
    )
    export = build_export(session, members)
    text = fhir_bundle_json(export, bundle_id=str(uuid.uuid4()), timestamp=utcnow())
    return Response(
        content=text,
        media_type="application/fhir+json",
        headers={"Content-Disposition": 'attachment; filename="registry-cohort.fhir.json"'},
    )
