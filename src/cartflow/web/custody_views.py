"""What the custody pages show: which hand-offs this user may scan for an episode now, which of
its containers are due at a step, which containers may be labelled and which shipments planned.
Every rule is the custody domain's (`cartflow.logistics`); this only asks it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.scope import roles_on_episode
from cartflow.logistics import containers as containers_service
from cartflow.logistics.containers import REGISTER_STATES
from cartflow.logistics.shipments import PLAN_STATES, PLANNERS
from cartflow.logistics.workflow import REGISTRARS, STEPS, StepRule, kinds_at, next_step
from cartflow.models import Episode
from cartflow.models.custody import ContainerKind, ContainerStatus, CustodyContainer, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial

STEP_LABELS = {
    HandoffStep.COLLECTION: "Collection (end of apheresis)",
    HandoffStep.APHERESIS_PICKUP: "Courier pick-up of the apheresis",
    HandoffStep.SITE_RECEIPT: "Receipt at the manufacturing site",
    HandoffStep.CRYOPRESERVATION: "Into the site's cryostore",
    HandoffStep.RELEASE: "Released product out of quarantine storage",
    HandoffStep.PRODUCT_PICKUP: "Courier pick-up of the product",
    HandoffStep.CENTER_RECEIPT: "Receipt at the treatment center",
    HandoffStep.STORAGE: "Into the center's storage",
    HandoffStep.BEDSIDE: "Bedside (two-person identity check)",
}
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
class EpisodeCustody:
    containers: list[CustodyContainer]
    steps: list[StepRule]
    labellable: list[ContainerKind]
    plannable: list[ShipmentMaterial]


def episode_custody(session: Session, *, actor: Actor, episode: Episode) -> EpisodeCustody:
    return EpisodeCustody(
        containers=containers_service.list_containers(session, actor=actor, episode_id=episode.id),
        steps=allowed_steps(actor, episode),
        labellable=labellable(actor, episode),
        plannable=plannable(actor, episode),
    )
