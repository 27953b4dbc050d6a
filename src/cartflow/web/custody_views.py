"""What the custody pages show: which hand-offs this user may scan for an episode now, which of
its containers are due at a step, which containers may be labelled and which shipments planned.
Every rule is the custody domain's (`cartflow.logistics`); this only asks it.

Times: a shipment's departure is shown in the time zone of the place it leaves and its arrival in
the zone of the place it reaches (`ShipmentRow`), each with the zone named, so a coordinator in
one city and a site in another read the same moment without converting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.scope import roles_on_episode
from cartflow.i18n import Message, _
from cartflow.logistics import containers as containers_service
from cartflow.logistics.containers import REGISTER_STATES
from cartflow.logistics.labels import STEP_LABELS
from cartflow.logistics.shipments import PLAN_STATES, PLANNERS, list_shipments
from cartflow.logistics.workflow import (
    CENTER_STAFF,
    KIND_LABELS,
    REGISTRARS,
    STATUS_LABELS,
    STEPS,
    StepRule,
    kinds_at,
    next_step,
)
from cartflow.models import Episode
from cartflow.models.custody import ContainerKind, ContainerStatus, CustodyContainer, HandoffStep
from cartflow.models.logistics_shipment import Shipment, ShipmentMaterial, ShipmentStatus

MATERIAL_LABELS: Final[Mapping[ShipmentMaterial, Message]] = MappingProxyType(
    {
        ShipmentMaterial.FRESH_APHERESIS: _("fresh apheresis"),
        ShipmentMaterial.CRYOPRESERVED_APHERESIS: _("cryopreserved apheresis"),
        ShipmentMaterial.CRYOPRESERVED_PRODUCT: _("cryopreserved product"),
    }
)
SHIPMENT_STATUS_LABELS: Final[Mapping[ShipmentStatus, Message]] = MappingProxyType(
    {
        ShipmentStatus.PLANNED: _("planned"),
        ShipmentStatus.IN_TRANSIT: _("in transit"),
        ShipmentStatus.DELIVERED: _("delivered"),
        ShipmentStatus.CANCELLED: _("cancelled"),
    }
)
MATERIAL_LEG = {
    ShipmentMaterial.FRESH_APHERESIS: "apheresis",
    ShipmentMaterial.CRYOPRESERVED_APHERESIS: "apheresis",
    ShipmentMaterial.CRYOPRESERVED_PRODUCT: "product",
}


def allowed_steps(actor: Actor, episode: Episode) -> list[StepRule]:
    held = roles_on_episode(actor, episode)
    return [r for r in STEPS.values() if held & r.roles and episode.state in r.episode_states]


def due_at(containers: list[CustodyContainer], step: HandoffStep) -> list[CustodyContainer]:
    live = (ContainerStatus.IN_USE, ContainerStatus.QUARANTINED)
    return [
        c
        for c in containers
        if c.kind in kinds_at(step) and c.status in live and next_step(c.kind, c.last_step) is step
    ]


def labellable(actor: Actor, episode: Episode) -> list[ContainerKind]:
    held = roles_on_episode(actor, episode)
    return [
        kind
        for kind in ContainerKind
        if held & REGISTRARS[kind] and episode.state in REGISTER_STATES[kind]
    ]


def plannable(actor: Actor, episode: Episode) -> list[ShipmentMaterial]:
    held = roles_on_episode(actor, episode)
    return [
        m
        for m in ShipmentMaterial
        if held & PLANNERS[MATERIAL_LEG[m]] and episode.state in PLAN_STATES[MATERIAL_LEG[m]]
    ]


@dataclass(frozen=True)
class ShipmentRow:
    """A shipment with the time zones of its two ends: it leaves `origin` and reaches
    `destination` (codes), departure times in `origin_zone`, arrival times in
    `destination_zone`."""

    shipment: Shipment
    origin: str
    destination: str
    origin_zone: str
    destination_zone: str

    @property
    def departure(self) -> dt.datetime:
        return self.shipment.departed_at or self.shipment.planned_departure_at

    @property
    def arrival(self) -> dt.datetime:
        return self.shipment.arrived_at or self.shipment.planned_arrival_at


@dataclass(frozen=True)
class Route:
    """Where a material travels: the codes and time zones of its two ends."""

    origin: str
    destination: str
    origin_zone: str
    destination_zone: str


def route(episode: Episode, material: ShipmentMaterial) -> Route:
    center, site = episode.center, episode.manufacturing_site
    if MATERIAL_LEG[material] == "apheresis":
        return Route(center.code, site.code, center.timezone, site.timezone)
    return Route(site.code, center.code, site.timezone, center.timezone)


def shipment_row(episode: Episode, shipment: Shipment) -> ShipmentRow:
    ends = route(episode, shipment.material)
    return ShipmentRow(
        shipment, ends.origin, ends.destination, ends.origin_zone, ends.destination_zone
    )


def labels() -> dict[str, object]:
    """What the custody templates call steps, kinds, statuses and materials (enum values stay
    the data's)."""
    return {
        "labels": STEP_LABELS,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "material_labels": MATERIAL_LABELS,
        "shipment_status_labels": SHIPMENT_STATUS_LABELS,
    }


def page_zone(actor: Actor, episode: Episode) -> str:
    """The zone a custody page shows its times in: the center's for the center's staff, else
    the manufacturing site's (site staff and couriers of the product)."""
    if roles_on_episode(actor, episode) & CENTER_STAFF:
        return episode.center.timezone
    return episode.manufacturing_site.timezone


@dataclass(frozen=True)
class EpisodeCustody:
    containers: list[CustodyContainer]
    steps: list[StepRule]
    labellable: list[ContainerKind]
    plannable: list[ShipmentMaterial]
    shipments: list[ShipmentRow]


def episode_custody(session: Session, *, actor: Actor, episode: Episode) -> EpisodeCustody:
    return EpisodeCustody(
        containers=containers_service.list_containers(session, actor=actor, episode_id=episode.id),
        steps=allowed_steps(actor, episode),
        labellable=labellable(actor, episode),
        plannable=plannable(actor, episode),
        shipments=[
            shipment_row(episode, s)
            for s in list_shipments(session, actor=actor, episode_id=episode.id)
        ],
    )
