"""Custody over HTTP: containers and their labels, scanned hand-offs, the custody log and
deviations. Shipments, temperature files and quarantine are in `endpoints_shipments`.

A refused hand-off answers 409 with the rule's code *and* the ids of the deviations it opened;
the request still commits, so the deviations stay.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from cartflow.auth.dependencies import CurrentActor
from cartflow.db.session import DbSession
from cartflow.logistics import containers as container_service
from cartflow.logistics import custody, service
from cartflow.logistics.endpoints_shipments import router as shipments_router
from cartflow.logistics.outputs import (
    container_out,
    containers_out,
    deviations_out,
    events_out,
    handoff_out,
    names_for_containers,
)
from cartflow.logistics.schemas import (
    ContainerCreate,
    ContainerOut,
    CustodyEventOut,
    DeviationClose,
    DeviationOut,
    DiscardRequest,
    HandoffOut,
    HandoffRefusalOut,
    HandoffRequest,
    WhereOut,
)
from cartflow.models.custody import DeviationStatus

router = APIRouter(tags=["custody"])

LabelLanguage = Annotated[
    Literal["ru", "en"] | None,
    Query(description="caption language; default: Accept-Language (identifiers never change)"),
]


@router.post(
    "/custody/episodes/{episode_id}/containers",
    response_model=list[ContainerOut],
    status_code=status.HTTP_201_CREATED,
)
def register_containers(
    episode_id: uuid.UUID, body: ContainerCreate, session: DbSession, actor: CurrentActor
) -> list[ContainerOut]:
    created = container_service.register_containers(
        session,
        actor=actor,
        episode_id=episode_id,
        kind=body.kind,
        count=body.count,
        expires_at=body.expires_at,
    )
    return containers_out(session, created)


@router.get("/custody/episodes/{episode_id}/containers", response_model=list[ContainerOut])
def list_containers(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[ContainerOut]:
    rows = container_service.list_containers(session, actor=actor, episode_id=episode_id)
    return containers_out(session, rows)


@router.get("/custody/containers/{container_id}", response_model=ContainerOut)
def get_container(container_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> ContainerOut:
    container = container_service.get_container(session, actor=actor, container_id=container_id)
    return container_out(container, names_for_containers(session, [container]))


@router.post("/custody/containers/{container_id}/discard", response_model=ContainerOut)
def discard_container(
    container_id: uuid.UUID, body: DiscardRequest, session: DbSession, actor: CurrentActor
) -> ContainerOut:
    container = container_service.discard_container(
        session, actor=actor, container_id=container_id, reason=body.reason
    )
    return container_out(container, names_for_containers(session, [container]))


@router.get(
    "/custody/containers/{container_id}/label.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def container_label_pdf(
    container_id: uuid.UUID, session: DbSession, actor: CurrentActor, lang: LabelLanguage = None
) -> Response:
    from cartflow.identity.labels_pdf import render_label_pdf

    container = container_service.get_container(session, actor=actor, container_id=container_id)
    content = container_service.label_content(
        session, actor=actor, container=container, locale=lang
    )
    return Response(
        render_label_pdf(content),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{container.din}.pdf"'},
    )


@router.get(
    "/custody/containers/{container_id}/label.zpl",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def container_label_zpl(
    container_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    dpmm: Annotated[int, Query(description="printer dots per mm: 8, 12 or 24")] = 8,
    lang: LabelLanguage = None,
) -> Response:
    from cartflow.identity.labels_zpl import render_label_zpl

    container = container_service.get_container(session, actor=actor, container_id=container_id)
    content = container_service.label_content(
        session, actor=actor, container=container, locale=lang
    )
    return Response(
        render_label_zpl(content, dpmm=dpmm),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{container.din}.zpl"'},
    )


@router.post(
    "/custody/episodes/{episode_id}/handoffs",
    response_model=HandoffOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {
            "model": HandoffRefusalOut,
            "description": "hard stop: a scan did not match; `code` names the rule and the "
            "deviations opened are listed",
        }
    },
)
def record_handoff(
    episode_id: uuid.UUID, body: HandoffRequest, session: DbSession, actor: CurrentActor
) -> HandoffOut | JSONResponse:
    outcome = service.record_handoff(
        session,
        actor=actor,
        episode_id=episode_id,
        step=body.step,
        scans=body.scans,
        location=body.location,
        temperature_c=body.temperature_c,
        witness=(
            service.Witness(body.witness.username, body.witness.password) if body.witness else None
        ),
        shipment_id=body.shipment_id,
    )
    out = handoff_out(session, outcome)
    if isinstance(out, HandoffRefusalOut):
        # Returned, not raised: the deviations commit with the request.
        return JSONResponse(status_code=409, content=out.model_dump(mode="json"))
    return out


@router.get("/custody/episodes/{episode_id}/timeline", response_model=list[CustodyEventOut])
def episode_timeline(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[CustodyEventOut]:
    return events_out(session, custody.timeline(session, actor=actor, episode_id=episode_id))


@router.get("/custody/episodes/{episode_id}/where", response_model=WhereOut)
def episode_where(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> WhereOut:
    episode, rows = custody.where_now(session, actor=actor, episode_id=episode_id)
    return WhereOut(
        episode_id=episode.id,
        chain_of_identity=episode.chain_of_identity or "",
        episode_state=episode.state,
        containers=containers_out(session, rows),
    )


@router.get("/custody/holdings", response_model=list[ContainerOut])
def holdings(
    session: DbSession,
    actor: CurrentActor,
    center: Annotated[str | None, Query(description="center code")] = None,
    site: Annotated[str | None, Query(description="site code")] = None,
) -> list[ContainerOut]:
    rows = custody.holdings(session, actor=actor, center_code=center, site_code=site)
    return containers_out(session, rows)


@router.get("/custody/deviations", response_model=list[DeviationOut])
def list_deviations(
    session: DbSession,
    actor: CurrentActor,
    status: DeviationStatus | None = None,
    episode_id: uuid.UUID | None = None,
) -> list[DeviationOut]:
    rows = custody.list_deviations(session, actor=actor, status=status, episode_id=episode_id)
    return deviations_out(session, rows)


@router.post("/custody/deviations/{deviation_id}/close", response_model=DeviationOut)
def close_deviation(
    deviation_id: uuid.UUID, body: DeviationClose, session: DbSession, actor: CurrentActor
) -> DeviationOut:
    deviation = custody.close_deviation(
        session, actor=actor, deviation_id=deviation_id, note=body.note
    )
    return deviations_out(session, [deviation])[0]


router.include_router(shipments_router)
