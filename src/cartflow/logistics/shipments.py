"""Shipments of the cold chain: planning, the data logger's file, and the center's worklist.

Invariants: a shipment belongs to one episode and carries one material, apheresis from the
center to the site or the product from the site to the center; its limits are copied from the
product's rules when planned (`temperature.limits_for`); its departure and arrival are set by
the scanned pick-up and receipt, never typed; a temperature file is parsed whole before anything
is written, so a malformed line leaves no trace but the refusal; an excursion quarantines what
travelled (`quarantine.quarantine_shipment`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Final

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import episode_scope
from cartflow.db.base import utcnow
from cartflow.episodes.service import get_episode
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.i18n.labels import state_in_text, states_listing
from cartflow.logistics.containers import require_any_role
from cartflow.logistics.errors import (
    DuplicateTemperatureFile,
    MalformedTemperatureFile,
    ShipmentNotFound,
    ShipmentState,
    StepNotNow,
)
from cartflow.logistics.quarantine import quarantine_shipment
from cartflow.logistics.schemas import ShipmentCreate
from cartflow.logistics.temperature import (
    ColdChainLimits,
    limits_for,
    parse_temperature_csv,
    temperature_findings,
)
from cartflow.logistics.workflow import CENTER_STAFF
from cartflow.models import (
    Episode,
    EpisodeState,
    ManufacturingSite,
    Patient,
    Product,
    Role,
    TreatmentCenter,
)
from cartflow.models.logistics_shipment import (
    Quarantine,
    Shipment,
    ShipmentMaterial,
    ShipmentStatus,
    TemperatureImport,
    TemperatureReading,
)

S = EpisodeState
M = ShipmentMaterial
APHERESIS: Final = frozenset({M.FRESH_APHERESIS, M.CRYOPRESERVED_APHERESIS})
PLANNERS: Final = {
    "apheresis": frozenset({Role.COORDINATOR, Role.APHERESIS_NURSE, Role.COURIER}),
    "product": frozenset({Role.PLANNER, Role.QUALIFIED_PERSON, Role.COURIER}),
}
PLAN_STATES: Final = {
    "apheresis": frozenset({S.SLOT_BOOKED, S.APHERESIS_COLLECTED}),
    "product": frozenset({S.QC, S.RELEASED}),
}
LOGGER_READERS: Final = CENTER_STAFF | {
    Role.COURIER,
    Role.PLANNER,
    Role.QC_ANALYST,
    Role.QUALIFIED_PERSON,
}
MAX_FILE_BYTES: Final = 20_000_000


def _leg(material: ShipmentMaterial) -> str:
    return "apheresis" if material in APHERESIS else "product"


def shipment_limits(shipment: Shipment) -> ColdChainLimits:
    return ColdChainLimits(shipment.min_celsius, shipment.max_celsius, shipment.max_transit_hours)


def create_shipment(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: ShipmentCreate
) -> Shipment:
    """Plan a shipment; the cold-chain limits come from the material and the product."""
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    leg = _leg(data.material)
    apheresis = leg == "apheresis"
    require_any_role(
        actor,
        episode,
        PLANNERS[leg],
        _("planning an apheresis shipment") if apheresis else _("planning a product shipment"),
    )
    if episode.state not in PLAN_STATES[leg]:
        allowed = states_listing(PLAN_STATES[leg])
        message = (
            _(
                "an apheresis shipment is planned when the episode is {allowed}; it is {state}",
                allowed=allowed,
                state=state_in_text(episode.state),
            )
            if apheresis
            else _(
                "a product shipment is planned when the episode is {allowed}; it is {state}",
                allowed=allowed,
                state=state_in_text(episode.state),
            )
        )
        raise StepNotNow(message)
    product = episode.product
    try:
        limits = limits_for(
            data.material,
            storage_max_c=product.storage_temperature_max_c,
            fresh_max_hours=product.fresh_apheresis_max_hours,
            max_transit_hours=data.max_transit_hours,
        )
    except ValueError as error:
        field = "max_transit_hours" if data.max_transit_hours is not None else "material"
        raise InvalidInput(
            _("{product}: {reason}", product=product.code, reason=error.args[0]), field=field
        ) from None
    shipment = Shipment(
        episode_id=episode.id,
        material=data.material,
        center_id=episode.center_id,
        site_id=episode.manufacturing_site_id,
        shipper_serial=data.shipper_serial,
        courier=data.courier,
        tracking_number=data.tracking_number,
        planned_departure_at=data.planned_departure_at,
        planned_arrival_at=data.planned_arrival_at,
        min_celsius=limits.min_celsius,
        max_celsius=limits.max_celsius,
        max_transit_hours=limits.max_transit_hours,
        status=ShipmentStatus.PLANNED,
        created_by_id=actor.id,
    )
    session.add(shipment)
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="shipment",
        record_id=shipment.id,
        action="plan",
        after=snapshot(shipment, exclude=frozenset({"created_at", "updated_at"})),
    )
    return shipment


def get_shipment(session: Session, *, actor: Actor, shipment_id: uuid.UUID) -> Shipment:
    shipment = session.execute(
        select(Shipment)
        .join(Episode, Episode.id == Shipment.episode_id)
        .where(Shipment.id == shipment_id, episode_scope(actor))
    ).scalar_one_or_none()
    if shipment is None:
        raise ShipmentNotFound(_("no shipment {shipment_id}", shipment_id=shipment_id))
    return shipment


def list_shipments(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> list[Shipment]:
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    return list(
        session.execute(
            select(Shipment)
            .where(Shipment.episode_id == episode.id)
            .order_by(Shipment.planned_departure_at)
        ).scalars()
    )


def open_shipment(
    session: Session,
    *,
    episode: Episode,
    materials: frozenset[ShipmentMaterial],
    statuses: frozenset[ShipmentStatus],
    shipment_id: uuid.UUID | None,
) -> Shipment | None:
    """The one shipment of these materials and statuses (the named one if given), locked."""
    stmt = (
        select(Shipment)
        .where(
            Shipment.episode_id == episode.id,
            Shipment.material.in_(materials),
            Shipment.status.in_(statuses),
        )
        .order_by(Shipment.planned_departure_at)
        .with_for_update()
    )
    if shipment_id is not None:
        stmt = stmt.where(Shipment.id == shipment_id)
    rows = list(session.execute(stmt).scalars())
    if len(rows) > 1:
        raise ShipmentState(
            _(
                "the episode has {count} such shipments; name the one with shipment_id",
                count=len(rows),
            )
        )
    return rows[0] if rows else None


def expected_arrival(shipment: Shipment) -> dt.datetime:
    """Planned arrival, pushed back by as much as the pick-up was late."""
    if shipment.arrived_at is not None:
        return shipment.arrived_at
    if shipment.departed_at is None:
        return shipment.planned_arrival_at
    return max(
        shipment.planned_arrival_at,
        shipment.departed_at + (shipment.planned_arrival_at - shipment.planned_departure_at),
    )


def incoming(session: Session, *, actor: Actor) -> list[tuple[Shipment, str, str]]:
    """What is on its way to the actor's centers (product) and sites (apheresis), soonest
    first: (shipment, patient pseudonym, product code)."""
    centers = actor.center_ids(*CENTER_STAFF)
    sites = actor.site_ids(Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON)
    if not centers and not sites:
        raise RoleRequired(
            _("the incoming worklist is for staff of a center or a manufacturing site")
        )
    rows = session.execute(
        select(Shipment, Patient.pseudonym, Product.code)
        .join(Episode, Episode.id == Shipment.episode_id)
        .join(Patient, Patient.id == Episode.patient_id)
        .join(Product, Product.id == Episode.product_id)
        .where(
            Shipment.status.in_([ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT]),
            or_(
                Shipment.center_id.in_(centers) & (Shipment.material == M.CRYOPRESERVED_PRODUCT),
                Shipment.site_id.in_(sites) & Shipment.material.in_(APHERESIS),
            ),
        )
    ).all()
    items = [(shipment, pseudonym, code) for shipment, pseudonym, code in rows]
    return sorted(items, key=lambda item: (expected_arrival(item[0]), str(item[0].id)))


def place_names(session: Session, shipment: Shipment) -> tuple[str, str]:
    """(origin, destination) codes of a shipment."""
    center = session.get(TreatmentCenter, shipment.center_id)
    site = session.get(ManufacturingSite, shipment.site_id)
    assert center is not None and site is not None  # foreign keys
    if shipment.material in APHERESIS:
        return center.code, site.code
    return site.code, center.code


def import_temperature_file(
    session: Session,
    *,
    actor: Actor,
    shipment_id: uuid.UUID,
    filename: str,
    content: bytes,
    now: dt.datetime | None = None,
) -> tuple[TemperatureImport, Quarantine | None]:
    """Store a data logger file whole and apply the cold-chain limits to its transit readings."""
    shipment = get_shipment(session, actor=actor, shipment_id=shipment_id)
    episode = get_episode(session, actor=actor, episode_id=shipment.episode_id)
    require_any_role(actor, episode, LOGGER_READERS, _("importing a temperature file"))
    if shipment.status not in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED):
        raise ShipmentState(
            _(
                "the shipment is {status}; a logger file is read once it has left",
                status=shipment.status.value,
            )
        )
    if len(content) > MAX_FILE_BYTES:
        raise MalformedTemperatureFile(_("the file is over {limit} bytes", limit=MAX_FILE_BYTES))
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise MalformedTemperatureFile(_("not UTF-8 text"), line=line) from None
    readings = parse_temperature_csv(text)
    digest = hashlib.sha256(content).hexdigest()
    if session.execute(
        select(TemperatureImport.id).where(
            TemperatureImport.shipment_id == shipment.id, TemperatureImport.sha256 == digest
        )
    ).first():
        raise DuplicateTemperatureFile(_("this file was already imported for the shipment"))
    findings = temperature_findings(
        readings, shipment_limits(shipment), start=shipment.departed_at, end=shipment.arrived_at
    )
    moment = now or utcnow()
    record = TemperatureImport(
        shipment_id=shipment.id,
        filename=filename[:200] or "logger.csv",
        sha256=digest,
        reading_count=len(readings),
        first_at=readings[0].recorded_at,
        last_at=readings[-1].recorded_at,
        min_celsius=min(r.celsius for r in readings),
        max_celsius=max(r.celsius for r in readings),
        excursion=bool(findings),
        findings=[f.as_dict() for f in findings],
        imported_by_id=actor.id,
        imported_at=moment,
    )
    session.add(record)
    session.flush()
    session.execute(
        insert(TemperatureReading),
        [
            {
                "id": uuid.uuid4(),
                "import_id": record.id,
                "line": r.line,
                "recorded_at": r.recorded_at,
                "celsius": r.celsius,
            }
            for r in readings
        ],
    )
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="shipment",
        record_id=shipment.id,
        action="import_temperature",
        after=snapshot(record),
        occurred_at=moment,
    )
    quarantine = None
    if findings:
        quarantine = quarantine_shipment(
            session, actor=actor.as_audit_actor(), shipment=shipment, findings=findings, now=moment
        )
    return record, quarantine
