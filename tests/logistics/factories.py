"""Factories for custody tests: the people of a network, an episode walked to a state with the
owning domains' steps taken on their behalf, containers registered through the service, and the
strings a scanner types for a container's label."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.scan import expiry_barcode_data
from cartflow.logistics.containers import register_containers
from cartflow.logistics.schemas import ShipmentCreate
from cartflow.logistics.service import HandoffOutcome, Witness, record_handoff
from cartflow.logistics.shipments import create_shipment
from cartflow.models import Episode, EpisodeState, Role, User
from cartflow.models.custody import ContainerKind, CustodyContainer, HandoffStep
from cartflow.models.logistics_shipment import Shipment, ShipmentMaterial
from tests.factories import PASSWORD, Network, make_episode, make_network, make_user

K = ContainerKind


@dataclass
class People:
    """One user per role the custody path needs, at the episode's center or site."""

    nurse: Actor
    coordinator: Actor
    clinician: Actor
    clinician2: Actor
    planner: Actor
    qc: Actor
    qp: Actor
    courier: Actor
    other_center_coordinator: Actor
    by_role: dict[Role, Actor] = field(default_factory=dict)


def make_people(session: Session, net: Network) -> People:
    def at_center(role: Role) -> Actor:
        return Actor(make_user(session, role, center=net.center_a))

    def at_site(role: Role) -> Actor:
        return Actor(make_user(session, role, site=net.site))

    return People(
        nurse=at_center(Role.APHERESIS_NURSE),
        coordinator=at_center(Role.COORDINATOR),
        clinician=at_center(Role.CLINICIAN),
        clinician2=at_center(Role.CLINICIAN),
        planner=at_site(Role.PLANNER),
        qc=at_site(Role.QC_ANALYST),
        qp=at_site(Role.QUALIFIED_PERSON),
        courier=Actor(make_user(session, Role.COURIER)),
        other_center_coordinator=Actor(make_user(session, Role.COORDINATOR, center=net.center_b)),
    )


# Who takes each episode step that is not a custody hand-off (set-up on the owner's behalf).
_STEP_ACTOR = {
    "start_manufacturing": "planner",
    "submit_for_qc": "qc",
    "release": "qp",
    "start_lymphodepletion": "clinician",
}


def move(session: Session, people: People, episode: Episode, transition: str) -> None:
    """Take a step owned by another domain (manufacturing, clinical) as that domain would."""
    actor: Actor = getattr(people, _STEP_ACTOR[transition])
    apply_transition(
        session,
        actor=actor,
        episode_id=episode.id,
        request=TransitionRequest(transition=transition),
        on_behalf_of=TRANSITIONS[transition].owner,
    )


@dataclass
class World:
    net: Network
    people: People
    episode: Episode


def make_world(
    session: Session, unique: str, *, state: EpisodeState = EpisodeState.SLOT_BOOKED
) -> World:
    net = make_network(session, unique)
    people = make_people(session, net)
    episode = make_episode(session, net, state=state)
    return World(net, people, episode)


def register(
    session: Session, actor: Actor, episode: Episode, kind: ContainerKind, count: int = 1
) -> list[CustodyContainer]:
    return register_containers(session, actor=actor, episode_id=episode.id, kind=kind, count=count)


def barcode(container: CustodyContainer, *, coi: str | None = None, flags: str = "00") -> str:
    """The structures on the container's label, concatenated as one bar code read (§10.2)."""
    parts = [Din.parse(container.din).barcode_data(flags)]
    if container.product_code:
        parts.append(ProductCode(container.product_code).barcode_data())
    if container.expires_at is not None:
        from zoneinfo import ZoneInfo

        parts.append(expiry_barcode_data(container.expires_at, ZoneInfo(container.label_timezone)))
    parts.append(ChainOfIdentityId.parse(coi or container.chain_of_identity).barcode_data())
    return "".join(parts)


def keyed(container: CustodyContainer, *, k: str | None = None) -> str:
    """The eye-readable DIN and its check character, as typed when a label will not scan."""
    din = Din.parse(container.din)
    return f"{din.eye_readable} {k or din.check_character}"


def witness(user: Actor | User) -> Witness:
    username = user.user.username if isinstance(user, Actor) else user.username
    return Witness(username, PASSWORD)


def scan(
    session: Session,
    actor: Actor,
    episode: Episode,
    step: HandoffStep,
    *raws: str,
    second: Actor | None = None,
    now: dt.datetime | None = None,
    shipment_id: uuid.UUID | None = None,
    temperature_c: float | None = None,
) -> HandoffOutcome:
    return record_handoff(
        session,
        actor=actor,
        episode_id=episode.id,
        step=step,
        scans=list(raws),
        location=f"{step.value} desk",
        witness=witness(second) if second else None,
        now=now,
        shipment_id=shipment_id,
        temperature_c=temperature_c,
    )


def plan_shipment(
    session: Session,
    actor: Actor,
    episode: Episode,
    material: ShipmentMaterial,
    *,
    hours: int = 20,
    max_transit_hours: int | None = None,
) -> Shipment:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return create_shipment(
        session,
        actor=actor,
        episode_id=episode.id,
        data=ShipmentCreate(
            material=material,
            shipper_serial=f"DS-{uuid.uuid4().hex[:6].upper()}",
            courier="Test Courier Ltd",
            planned_departure_at=start,
            planned_arrival_at=start + dt.timedelta(hours=hours),
            max_transit_hours=max_transit_hours,
        ),
    )


def accepted(outcome: HandoffOutcome) -> HandoffOutcome:
    assert outcome.refusal is None, outcome.refusal.message
    return outcome


@dataclass
class Kit:
    """The containers and shipments of one episode, as far as `advance` took them."""

    collection_bags: list[CustodyContainer] = field(default_factory=list)
    product_bags: list[CustodyContainer] = field(default_factory=list)
    cassettes: list[CustodyContainer] = field(default_factory=list)
    shippers: list[CustodyContainer] = field(default_factory=list)
    apheresis_shipment: Shipment | None = None
    product_shipment: Shipment | None = None

    @property
    def product(self) -> list[CustodyContainer]:
        return [*self.product_bags, *self.cassettes]


def advance(
    session: Session,
    people: People,
    episode: Episode,
    until: HandoffStep,
    *,
    product_bags: int = 1,
) -> Kit:
    """Label and scan the episode's containers through the path, up to and including `until`,
    taking the other domains' steps (manufacturing, release, lymphodepletion) on their behalf."""
    order = list(HandoffStep)
    kit = Kit()

    def reached(step: HandoffStep) -> bool:
        return order.index(step) > order.index(until)

    kit.collection_bags = register(session, people.nurse, episode, K.COLLECTION_BAG)
    bags = [barcode(c) for c in kit.collection_bags]
    accepted(scan(session, people.nurse, episode, HandoffStep.COLLECTION, *bags))
    if reached(HandoffStep.APHERESIS_PICKUP):
        return kit
    kit.apheresis_shipment = plan_shipment(
        session, people.coordinator, episode, ShipmentMaterial.FRESH_APHERESIS
    )
    accepted(scan(session, people.courier, episode, HandoffStep.APHERESIS_PICKUP, *bags))
    if reached(HandoffStep.SITE_RECEIPT):
        return kit
    accepted(scan(session, people.planner, episode, HandoffStep.SITE_RECEIPT, *bags))
    if reached(HandoffStep.CRYOPRESERVATION):
        return kit
    move(session, people, episode, "start_manufacturing")
    kit.product_bags = register(session, people.planner, episode, K.PRODUCT_BAG, product_bags)
    kit.cassettes = register(session, people.planner, episode, K.CASSETTE)
    product = [barcode(c) for c in kit.product]
    accepted(scan(session, people.planner, episode, HandoffStep.CRYOPRESERVATION, *product))
    if reached(HandoffStep.RELEASE):
        return kit
    move(session, people, episode, "submit_for_qc")
    move(session, people, episode, "release")
    accepted(scan(session, people.qp, episode, HandoffStep.RELEASE, *product))
    if reached(HandoffStep.PRODUCT_PICKUP):
        return kit
    kit.shippers = register(session, people.planner, episode, K.SHIPPER)
    kit.product_shipment = plan_shipment(
        session, people.planner, episode, ShipmentMaterial.CRYOPRESERVED_PRODUCT
    )
    everything = [*product, barcode(kit.shippers[0])]
    accepted(scan(session, people.courier, episode, HandoffStep.PRODUCT_PICKUP, *everything))
    if reached(HandoffStep.CENTER_RECEIPT):
        return kit
    accepted(
        scan(
            session,
            people.coordinator,
            episode,
            HandoffStep.CENTER_RECEIPT,
            *everything,
            second=people.clinician,
        )
    )
    if reached(HandoffStep.STORAGE):
        return kit
    accepted(scan(session, people.nurse, episode, HandoffStep.STORAGE, *product))
    if reached(HandoffStep.BEDSIDE):
        return kit
    move(session, people, episode, "start_lymphodepletion")
    first_bag = barcode(kit.product_bags[0])
    accepted(
        scan(
            session,
            people.clinician,
            episode,
            HandoffStep.BEDSIDE,
            first_bag,
            second=people.clinician2,
        )
    )
    return kit


__all__ = [
    "PASSWORD",
    "K",
    "Kit",
    "People",
    "World",
    "accepted",
    "advance",
    "barcode",
    "keyed",
    "make_people",
    "make_world",
    "move",
    "plan_shipment",
    "register",
    "scan",
    "witness",
]
