"""What a shipment's scanned pick-up and receipt do to the shipment.

The pick-up's first scan is the departure; the receipt's first scan is the arrival. When every
container picked up in the shipment has been received, the shipment is delivered and its
transit rules are applied (`temperature.transit_findings`, and any temperature read by hand at
receipt); a finding quarantines what travelled.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.logistics.quarantine import quarantine_shipment
from cartflow.logistics.shipments import shipment_limits
from cartflow.logistics.temperature import Finding, reading_at_handoff, transit_findings
from cartflow.logistics.workflow import ShipmentLeg, StepRule
from cartflow.models.custody import CustodyEvent, HandoffStep
from cartflow.models.logistics_shipment import (
    Quarantine,
    Shipment,
    ShipmentMaterial,
    ShipmentStatus,
)


def _audit(
    session: Session, actor: Actor, shipment: Shipment, action: str, at: dt.datetime
) -> None:
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="shipment",
        record_id=shipment.id,
        action=action,
        after={
            "status": shipment.status,
            "departed_at": shipment.departed_at,
            "arrived_at": shipment.arrived_at,
        },
        occurred_at=at,
    )


def after_shipment_scan(
    session: Session, *, actor: Actor, shipment: Shipment, rule: StepRule, now: dt.datetime
) -> Quarantine | None:
    if rule.shipment_leg is ShipmentLeg.PICKUP:
        if shipment.departed_at is None:
            shipment.departed_at = now
            shipment.status = ShipmentStatus.IN_TRANSIT
            session.flush()
            _audit(session, actor, shipment, "depart", now)
        return None
    if shipment.arrived_at is None:
        shipment.arrived_at = now
        session.flush()
        _audit(session, actor, shipment, "arrive", now)
    picked_up = set(
        session.execute(
            select(CustodyEvent.container_id).where(
                CustodyEvent.shipment_id == shipment.id, CustodyEvent.step != rule.step
            )
        ).scalars()
    )
    receipts = list(
        session.execute(
            select(CustodyEvent).where(
                CustodyEvent.shipment_id == shipment.id, CustodyEvent.step == rule.step
            )
        ).scalars()
    )
    if picked_up - {e.container_id for e in receipts}:
        return None
    shipment.status = ShipmentStatus.DELIVERED
    session.flush()
    _audit(session, actor, shipment, "deliver", now)
    return _apply_transit_rules(session, actor=actor, shipment=shipment, receipts=receipts, now=now)


def _apply_transit_rules(
    session: Session,
    *,
    actor: Actor,
    shipment: Shipment,
    receipts: list[CustodyEvent],
    now: dt.datetime,
) -> Quarantine | None:
    limits = shipment_limits(shipment)
    assert shipment.departed_at is not None and shipment.arrived_at is not None
    fresh = shipment.material is ShipmentMaterial.FRESH_APHERESIS
    collected_at = None
    if fresh:
        collected_at = session.execute(
            select(func.min(CustodyEvent.occurred_at)).where(
                CustodyEvent.step == HandoffStep.COLLECTION,
                CustodyEvent.container_id.in_([e.container_id for e in receipts]),
            )
        ).scalar_one_or_none()
    findings: list[Finding] = transit_findings(
        limits,
        departed_at=shipment.departed_at,
        arrived_at=shipment.arrived_at,
        collected_at=collected_at,
        fresh=fresh,
    )
    for celsius in sorted({e.temperature_c for e in receipts if e.temperature_c is not None}):
        findings.extend(reading_at_handoff(limits, celsius))
    if not findings:
        return None
    return quarantine_shipment(
        session, actor=actor.as_audit_actor(), shipment=shipment, findings=findings, now=now
    )
