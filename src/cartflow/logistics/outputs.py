"""Turning custody records into API shapes, with the codes and names of the people and places.

One query per kind of name (centers, sites, users) for a whole list, so a timeline of any length
costs three lookups, not one per event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.i18n import gettext
from cartflow.identity.isbt128 import Din
from cartflow.logistics.schemas import (
    ContainerOut,
    CustodianOut,
    CustodyEventOut,
    DeviationOut,
    FindingOut,
    HandoffOut,
    HandoffRefusalOut,
    QuarantineOut,
    ScanResultOut,
    ShipmentOut,
)
from cartflow.logistics.service import HandoffOutcome, ScanResult
from cartflow.logistics.shipments import expected_arrival, place_names
from cartflow.logistics.workflow import next_step
from cartflow.models import Episode, ManufacturingSite, TreatmentCenter, User
from cartflow.models.custody import (
    CustodianKind,
    CustodyContainer,
    CustodyDeviation,
    CustodyEvent,
)
from cartflow.models.logistics_shipment import Quarantine, Shipment


@dataclass(frozen=True)
class Names:
    centers: dict[uuid.UUID, TreatmentCenter]
    sites: dict[uuid.UUID, ManufacturingSite]
    users: dict[uuid.UUID, User]

    @classmethod
    def load(
        cls,
        session: Session,
        *,
        centers: Iterable[uuid.UUID | None] = (),
        sites: Iterable[uuid.UUID | None] = (),
        users: Iterable[uuid.UUID | None] = (),
    ) -> Names:
        center_ids = {i for i in centers if i is not None}
        site_ids = {i for i in sites if i is not None}
        user_ids = {i for i in users if i is not None}
        return cls(
            centers={
                c.id: c
                for c in session.execute(
                    select(TreatmentCenter).where(TreatmentCenter.id.in_(center_ids))
                ).scalars()
            },
            sites={
                s.id: s
                for s in session.execute(
                    select(ManufacturingSite).where(ManufacturingSite.id.in_(site_ids))
                ).scalars()
            },
            users={
                u.id: u
                for u in session.execute(select(User).where(User.id.in_(user_ids))).scalars()
            },
        )

    def username(self, user_id: uuid.UUID | None) -> str | None:
        return self.users[user_id].username if user_id in self.users else None

    def custodian(
        self,
        kind: CustodianKind | None,
        center_id: uuid.UUID | None,
        site_id: uuid.UUID | None,
        user_id: uuid.UUID | None,
    ) -> CustodianOut | None:
        if kind is None:
            return None
        if kind is CustodianKind.CENTER and center_id in self.centers:
            center = self.centers[center_id]
            return CustodianOut(kind=kind, code=center.code, name=center.name)
        if kind is CustodianKind.SITE and site_id in self.sites:
            site = self.sites[site_id]
            return CustodianOut(kind=kind, code=site.code, name=site.name)
        if kind is CustodianKind.COURIER and user_id in self.users:
            user = self.users[user_id]
            return CustodianOut(kind=kind, code=user.username, name=user.full_name)
        return CustodianOut(kind=kind, code=kind.value, name=gettext("the patient"))


def names_for_containers(session: Session, containers: Sequence[CustodyContainer]) -> Names:
    return Names.load(
        session,
        centers=(c.custodian_center_id for c in containers),
        sites=(c.custodian_site_id for c in containers),
        users=(c.custodian_user_id for c in containers),
    )


def container_out(container: CustodyContainer, names: Names) -> ContainerOut:
    din = Din.parse(container.din)
    return ContainerOut(
        id=container.id,
        episode_id=container.episode_id,
        kind=container.kind,
        din=din.eye_readable,
        din_check_character=din.check_character,
        product_code=container.product_code,
        chain_of_identity=container.chain_of_identity,
        status=container.status,
        status_reason=container.status_reason,
        expires_at=container.expires_at,
        custodian=names.custodian(
            container.custodian_kind,
            container.custodian_center_id,
            container.custodian_site_id,
            container.custodian_user_id,
        ),
        location=container.location,
        last_step=container.last_step,
        next_step=next_step(container.kind, container.last_step),
        last_event_at=container.last_event_at,
    )


def containers_out(session: Session, containers: Sequence[CustodyContainer]) -> list[ContainerOut]:
    names = names_for_containers(session, containers)
    return [container_out(c, names) for c in containers]


def events_out(
    session: Session, rows: Sequence[tuple[CustodyEvent, CustodyContainer]]
) -> list[CustodyEventOut]:
    events = [e for e, _ in rows]
    names = Names.load(
        session,
        centers=[e.from_center_id for e in events] + [e.to_center_id for e in events],
        sites=[e.from_site_id for e in events] + [e.to_site_id for e in events],
        users=[
            u for e in events for u in (e.from_user_id, e.to_user_id, e.scanned_by_id, e.witness_id)
        ],
    )
    out = []
    for event, container in rows:
        to = names.custodian(event.to_kind, event.to_center_id, event.to_site_id, event.to_user_id)
        assert to is not None
        out.append(
            CustodyEventOut(
                id=event.id,
                handoff_id=event.handoff_id,
                container_id=container.id,
                din=Din.parse(container.din).eye_readable,
                kind=container.kind,
                step=event.step,
                from_custodian=names.custodian(
                    event.from_kind, event.from_center_id, event.from_site_id, event.from_user_id
                ),
                to_custodian=to,
                occurred_at=event.occurred_at,
                scanned_by=names.username(event.scanned_by_id) or "",
                witness=names.username(event.witness_id),
                witness_signature_id=event.witness_signature_id,
                location=event.location,
                temperature_c=event.temperature_c,
                raw_scan=event.raw_scan,
                shipment_id=event.shipment_id,
            )
        )
    return out


def deviations_out(session: Session, deviations: Sequence[CustodyDeviation]) -> list[DeviationOut]:
    names = Names.load(
        session,
        users=[d.reported_by_id for d in deviations] + [d.closed_by_id for d in deviations],
    )
    return [
        DeviationOut(
            id=d.id,
            episode_id=d.episode_id,
            step=d.step,
            rule=d.rule,
            message=d.message,
            raw_scan=d.raw_scan,
            location=d.location,
            occurred_at=d.occurred_at,
            reported_by=names.username(d.reported_by_id) or "",
            status=d.status,
            closed_at=d.closed_at,
            closed_by=names.username(d.closed_by_id),
            closure_note=d.closure_note,
        )
        for d in deviations
    ]


def shipment_out(session: Session, shipment: Shipment) -> ShipmentOut:
    episode = session.get(Episode, shipment.episode_id)
    assert episode is not None and episode.chain_of_identity is not None
    origin, destination = place_names(session, shipment)
    return ShipmentOut(
        id=shipment.id,
        episode_id=shipment.episode_id,
        chain_of_identity=episode.chain_of_identity,
        material=shipment.material,
        origin=origin,
        destination=destination,
        shipper_serial=shipment.shipper_serial,
        courier=shipment.courier,
        tracking_number=shipment.tracking_number,
        planned_departure_at=shipment.planned_departure_at,
        planned_arrival_at=shipment.planned_arrival_at,
        expected_arrival_at=expected_arrival(shipment),
        departed_at=shipment.departed_at,
        arrived_at=shipment.arrived_at,
        min_celsius=shipment.min_celsius,
        max_celsius=shipment.max_celsius,
        max_transit_hours=shipment.max_transit_hours,
        status=shipment.status,
    )


def quarantine_out(
    session: Session, quarantine: Quarantine, container_ids: list[uuid.UUID]
) -> QuarantineOut:
    names = Names.load(session, users=[quarantine.decided_by_id])
    return QuarantineOut(
        id=quarantine.id,
        episode_id=quarantine.episode_id,
        shipment_id=quarantine.shipment_id,
        reason=quarantine.reason,
        findings=[FindingOut.model_validate(f) for f in quarantine.findings],
        opened_at=quarantine.opened_at,
        status=quarantine.status,
        decided_at=quarantine.decided_at,
        decided_by=names.username(quarantine.decided_by_id),
        decision_reason=quarantine.decision_reason,
        signature_id=quarantine.signature_id,
        container_ids=container_ids,
    )


def results_out(results: Sequence[ScanResult]) -> list[ScanResultOut]:
    out = []
    for result in results:
        out.append(
            ScanResultOut(
                raw=result.raw,
                din=result.din,
                container_id=result.container_id,
                accepted=result.verdict.accepted,
                duplicate=result.verdict.duplicate,
                rule=result.verdict.rule,
                message=str(result.verdict.message),
            )
        )
    return out


def handoff_out(session: Session, outcome: HandoffOutcome) -> HandoffOut | HandoffRefusalOut:
    """The accepted hand-off, or the refusal with the deviations it opened."""
    results = results_out(outcome.results)
    if outcome.refusal is not None:
        return HandoffRefusalOut(
            code=outcome.refusal.code,
            message=outcome.refusal.message,
            deviation_ids=[d.id for d in outcome.deviations],
            results=results,
        )
    containers = {
        c.id: c
        for c in session.execute(
            select(CustodyContainer).where(
                CustodyContainer.id.in_([e.container_id for e in outcome.events])
            )
        ).scalars()
    }
    rows = [(e, containers[e.container_id]) for e in outcome.events]
    return HandoffOut(
        handoff_id=outcome.handoff_id,
        step=outcome.step,
        episode_id=outcome.episode.id,
        episode_state=outcome.episode.state,
        transition=outcome.transition,
        quarantine_id=outcome.quarantine.id if outcome.quarantine else None,
        events=events_out(session, rows),
        results=results,
    )
