"""Shipments, the data logger's temperature file, the incoming worklist and quarantine decisions.

The temperature file is the request body as sent by the logger's software (`text/csv`), so a
file is uploaded with `curl --data-binary @logger.csv -H 'Content-Type: text/csv'`.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from cartflow.auth.dependencies import CurrentActor
from cartflow.db.session import DbSession
from cartflow.logistics import quarantine as quarantine_service
from cartflow.logistics import shipments
from cartflow.logistics.outputs import quarantine_out, shipment_out
from cartflow.logistics.schemas import (
    FindingOut,
    QuarantineDecision,
    QuarantineOut,
    ShipmentCreate,
    ShipmentOut,
    TemperatureImportOut,
    WorklistItem,
)
from cartflow.models.logistics_shipment import QuarantineStatus

router = APIRouter(tags=["shipments"])


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


@router.post(
    "/custody/episodes/{episode_id}/shipments",
    response_model=ShipmentOut,
    status_code=status.HTTP_201_CREATED,
)
def plan_shipment(
    episode_id: uuid.UUID, body: ShipmentCreate, session: DbSession, actor: CurrentActor
) -> ShipmentOut:
    shipment = shipments.create_shipment(session, actor=actor, episode_id=episode_id, data=body)
    return shipment_out(session, shipment)


@router.get("/custody/episodes/{episode_id}/shipments", response_model=list[ShipmentOut])
def list_shipments(
    episode_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[ShipmentOut]:
    rows = shipments.list_shipments(session, actor=actor, episode_id=episode_id)
    return [shipment_out(session, s) for s in rows]


@router.get("/custody/shipments/{shipment_id}", response_model=ShipmentOut)
def get_shipment(shipment_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> ShipmentOut:
    return shipment_out(
        session, shipments.get_shipment(session, actor=actor, shipment_id=shipment_id)
    )


@router.post(
    "/custody/shipments/{shipment_id}/temperature",
    response_model=TemperatureImportOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    responses={422: {"description": "a malformed line: the message names it; nothing stored"}},
)
def import_temperature(
    shipment_id: uuid.UUID,
    body: RawBody,
    session: DbSession,
    actor: CurrentActor,
    filename: Annotated[str, Query(max_length=200)] = "logger.csv",
) -> TemperatureImportOut:
    record, quarantine = shipments.import_temperature_file(
        session, actor=actor, shipment_id=shipment_id, filename=filename, content=body
    )
    return TemperatureImportOut(
        id=record.id,
        shipment_id=record.shipment_id,
        filename=record.filename,
        sha256=record.sha256,
        reading_count=record.reading_count,
        first_at=record.first_at,
        last_at=record.last_at,
        min_celsius=record.min_celsius,
        max_celsius=record.max_celsius,
        excursion=record.excursion,
        findings=[FindingOut.model_validate(f) for f in record.findings],
        quarantine_id=quarantine.id if quarantine else None,
    )


@router.get("/custody/worklist", response_model=list[WorklistItem])
def incoming_worklist(session: DbSession, actor: CurrentActor) -> list[WorklistItem]:
    """What is on its way to your center (the product) or site (apheresis), and when it comes."""
    return [
        WorklistItem(
            shipment=shipment_out(session, shipment),
            patient_pseudonym=pseudonym,
            product_code=product_code,
        )
        for shipment, pseudonym, product_code in shipments.incoming(session, actor=actor)
    ]


@router.get("/custody/quarantines", response_model=list[QuarantineOut])
def list_quarantines(
    session: DbSession, actor: CurrentActor, status: QuarantineStatus | None = None
) -> list[QuarantineOut]:
    rows = quarantine_service.list_quarantines(session, actor=actor, status=status)
    return [
        quarantine_out(session, q, quarantine_service.quarantined_container_ids(session, q))
        for q in rows
    ]


@router.get("/custody/quarantines/{quarantine_id}", response_model=QuarantineOut)
def get_quarantine(
    quarantine_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> QuarantineOut:
    q = quarantine_service.get_quarantine(session, actor=actor, quarantine_id=quarantine_id)
    return quarantine_out(session, q, quarantine_service.quarantined_container_ids(session, q))


@router.post("/custody/quarantines/{quarantine_id}/decision", response_model=QuarantineOut)
def decide_quarantine(
    quarantine_id: uuid.UUID, body: QuarantineDecision, session: DbSession, actor: CurrentActor
) -> QuarantineOut:
    q = quarantine_service.decide_quarantine(
        session,
        actor=actor,
        quarantine_id=quarantine_id,
        decision=body.decision,
        reason=body.reason,
        password=body.password,
    )
    return quarantine_out(session, q, quarantine_service.quarantined_container_ids(session, q))
