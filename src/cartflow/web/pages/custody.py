"""The custody pages: the scan station for every hand-off (courier pick-ups, receipts at the site
and the center, storage, collection), labelling containers, planning shipments, and the courier's
worklist.

A barcode scanner types its read and an Enter, so the scan field is a text area: each read lands
on its own line and the hand-off is recorded when the user submits. A refused scan is a hard stop
(`cartflow.logistics.service.record_handoff` returns it, with the deviations it opened): the page
covers the whole screen in red, says which rule refused which scan and that nothing moved, and
keeps the focus on its one button until acknowledged.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import _, gettext, supported
from cartflow.identity.errors import MalformedScan
from cartflow.identity.labels_pdf import render_label_pdf
from cartflow.identity.scan import parse_scan
from cartflow.logistics import containers as containers_service
from cartflow.logistics import custody as custody_service
from cartflow.logistics.schemas import ShipmentCreate
from cartflow.logistics.service import HandoffOutcome, Witness, record_handoff
from cartflow.logistics.shipments import create_shipment
from cartflow.logistics.temperature import finding_label
from cartflow.models import EpisodeState, Role
from cartflow.models.custody import ContainerKind, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial
from cartflow.web import custody_views, views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render, templates

router = page_router()


def _finding_label(rule: str) -> str:
    return str(finding_label(rule))


templates.env.filters["finding_label"] = _finding_label

PICKUP_STATES = (EpisodeState.APHERESIS_COLLECTED, EpisodeState.RELEASED)


def _safe_back(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _station(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    step: HandoffStep | None,
    errors: dict[str, str] | None = None,
    outcome: HandoffOutcome | None = None,
    scans: str = "",
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    custody = custody_views.episode_custody(session, actor=actor, episode=episode)
    if step is None and custody.steps:
        step = custody.steps[0].step
    context: dict[str, Any] = {
        "episode": episode,
        "patient_label": views.patient_label(actor, episode),
        "custody": custody,
        "step": step,
        "rule": next((r for r in custody.steps if r.step is step), None),
        "due": custody_views.due_at(custody.containers, step) if step else [],
        **custody_views.labels(),
        "zone": custody_views.page_zone(actor, episode),
        # The plannable materials share one direction at a time (apheresis out, product back).
        "route": custody_views.route(episode, custody.plannable[0]) if custody.plannable else None,
        "errors": errors or {},
        "outcome": outcome,
        "scans": scans,
    }
    return render(request, "scan.html", context, actor=actor, status_code=status_code)


@router.get("/scan")
def scan_station(
    request: Request,
    session: DbSession,
    actor: PageActor,
    episode: uuid.UUID | None = None,
    step: HandoffStep | None = None,
    coi: str | None = None,
) -> Response:
    """Start from an episode, or from a scan of any of its labels (the chain of identity)."""
    if episode is not None:
        return _station(request, session, actor, episode, step=step)
    error = ""
    not_found = False
    if coi:
        try:
            found = parse_scan(coi).coi
            if found is None:
                raise MalformedScan(_("this label carries no chain of identity identifier"))
            rows, _total = episodes.list_episodes(
                session,
                actor=actor,
                filters=episodes.EpisodeFilter(chain_of_identity=found.value),
                limit=1,
                offset=0,
            )
            if rows:
                return RedirectResponse(f"/scan?episode={rows[0].id}", status_code=303)
            error = gettext("no episode {coi} among yours", coi=found.value)
            not_found = True
        except CartflowError as exc:
            error = exc.message
    return render(
        request,
        "scan_find.html",
        {"error": error, "coi": coi or ""},
        actor=actor,
        status_code=404 if not_found else 200,
    )


@router.post("/scan/episodes/{episode_id}")
def scan_submit(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    raw = fields.get("scans", "")
    reads = [line.strip() for line in raw.splitlines() if line.strip()]
    try:
        step = HandoffStep(fields.get("step", ""))
    except ValueError:
        return _station(
            request,
            session,
            actor,
            episode_id,
            step=None,
            errors={"step": gettext("choose the hand-off")},
            scans=raw,
            status_code=422,
        )
    witness = None
    if fields.get("witness_username"):
        witness = Witness(fields["witness_username"], fields.get("witness_password", ""))
    temperature = None
    if fields.get("temperature_c"):
        try:
            temperature = float(fields["temperature_c"].replace(",", "."))
        except ValueError:
            return _station(
                request,
                session,
                actor,
                episode_id,
                step=step,
                errors={"temperature_c": gettext("a temperature in °C, e.g. -150")},
                scans=raw,
                status_code=422,
            )
    try:
        outcome = record_handoff(
            session,
            actor=actor,
            episode_id=episode_id,
            step=step,
            scans=reads,
            location=fields.get("location", "")[:200],
            temperature_c=temperature,
            witness=witness,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _station(
            request,
            session,
            actor,
            episode_id,
            step=step,
            errors=refusal(session, exc),
            scans=raw,
            status_code=exc.status_code,
        )
    status = 409 if outcome.refusal is not None else 200
    # A refusal is returned, not raised: its deviations are committed with this request.
    return _station(
        request, session, actor, episode_id, step=step, outcome=outcome, status_code=status
    )


@router.post("/episodes/{episode_id}/containers")
def label_containers(
    episode_id: uuid.UUID, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    try:
        kind = ContainerKind(fields.get("kind", ""))
        count = int(fields.get("count", "1") or "1")
    except ValueError as exc:
        raise InvalidInput(_("choose the kind and number of containers"), field="kind") from exc
    containers_service.register_containers(
        session, actor=actor, episode_id=episode_id, kind=kind, count=count
    )
    back = _safe_back(fields.get("back"), f"/scan?episode={episode_id}")
    return RedirectResponse(back, status_code=303)


@router.get("/containers/{container_id}/label.pdf")
def container_label(
    container_id: uuid.UUID, session: DbSession, actor: PageActor, lang: str | None = None
) -> Response:
    """The label in the user's language, or in `lang` (ru, en) when a printer needs another."""
    container = containers_service.get_container(session, actor=actor, container_id=container_id)
    content = containers_service.label_content(
        session, actor=actor, container=container, locale=supported(lang)
    )
    return Response(
        render_label_pdf(content),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{container.din}.pdf"'},
    )


def _local(value: str, zone: str, field: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(_("{field}: a date and time", field=field), field=field) from exc
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(zone)) if naive.tzinfo is None else naive


@router.post("/episodes/{episode_id}/shipments")
def plan_shipment(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    values = filled(fields, "material", "shipper_serial", "courier", "tracking_number")
    try:
        material = ShipmentMaterial(values.get("material", ""))
        # Each time is typed as the clock shows it where it happens: departure at the origin,
        # arrival at the destination.
        ends = custody_views.route(episode, material)
        data = ShipmentCreate.model_validate(
            {
                **values,
                "planned_departure_at": _local(
                    fields.get("departure", ""), ends.origin_zone, "departure"
                ),
                "planned_arrival_at": _local(
                    fields.get("arrival", ""), ends.destination_zone, "arrival"
                ),
            }
        )
        create_shipment(session, actor=actor, episode_id=episode_id, data=data)
    except ValidationError as exc:
        return _station(
            request,
            session,
            actor,
            episode_id,
            step=None,
            errors=field_errors(exc),
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _station(
            request,
            session,
            actor,
            episode_id,
            step=None,
            errors=refusal(session, exc),
            status_code=exc.status_code,
        )
    except ValueError:
        return _station(
            request,
            session,
            actor,
            episode_id,
            step=None,
            errors={"material": gettext("choose the material")},
            status_code=422,
        )
    return RedirectResponse(f"/scan?episode={episode_id}", status_code=303)


@router.get("/courier")
def courier_worklist(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.COURIER)
    pickups = [
        views.row(actor, e) for e in views.open_episodes(session, actor=actor, states=PICKUP_STATES)
    ]
    held = custody_service.holdings(session, actor=actor)
    return render(
        request,
        "courier.html",
        {"pickups": pickups, "held": held, **custody_views.labels()},
        actor=actor,
    )
