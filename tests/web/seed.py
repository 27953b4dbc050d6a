"""The web tests' own synthetic network, committed into a database of its own: one user per
role with a known username (password `tests.factories.PASSWORD`) and episodes at each point a
worklist shows, built through the real services with the other domains' test factories (custody
hand-offs, a manufactured batch in QC and one ready for release, lymphodepletion, an infusion
with a grade-2 CRS assessment)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.grading_schemas import CrsAssessment, Hypotension, OxygenSupport
from cartflow.clinical.schemas_after import ToxicityAssessmentIn
from cartflow.clinical.toxicity_service import record_assessment
from cartflow.db.base import utcnow
from cartflow.models import Episode, EpisodeState, Patient, Role, User
from cartflow.models.custody import ContainerKind, CustodyContainer, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial
from cartflow.models.manufacturing import Batch
from tests.clinical.factories import Team, in_lymphodepletion, infused_episode, received_episode
from tests.clinical.factories import timeline as clinical_timeline
from tests.factories import Network, make_episode, make_network, make_patient, make_user
from tests.logistics.factories import advance, make_people, plan_shipment, register
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    verify_all,
)

USERNAMES: dict[str, tuple[Role, str]] = {
    "coord": (Role.COORDINATOR, "center"),
    "nurse": (Role.APHERESIS_NURSE, "center"),
    "clin": (Role.CLINICIAN, "center"),
    "clin2": (Role.CLINICIAN, "center"),
    "planner": (Role.PLANNER, "site"),
    "qc": (Role.QC_ANALYST, "site"),
    "qc2": (Role.QC_ANALYST, "site"),
    "qp": (Role.QUALIFIED_PERSON, "site"),
    "courier": (Role.COURIER, "network"),
    "analyst": (Role.REGISTRY_ANALYST, "network"),
    "admin": (Role.ADMIN, "network"),
    "coord-b": (Role.COORDINATOR, "center_b"),
}


@dataclass
class WebSeed:
    net: Network
    suffix: str
    users: dict[str, User] = field(default_factory=dict)
    episodes: dict[EpisodeState, Episode] = field(default_factory=dict)
    other_center_episode: Episode | None = None
    waiting_patient: Patient | None = None
    in_qc: Batch | None = None
    ready_for_release: Batch | None = None
    grade2: Episode | None = None
    bedside: Episode | None = None
    released: Episode | None = None
    released_containers: list[CustodyContainer] = field(default_factory=list)
    foreign_container: CustodyContainer | None = None

    def username(self, short: str) -> str:
        return f"{short}-{self.suffix.lower()}"


def seed(session: Session) -> WebSeed:
    suffix = uuid.uuid4().hex[:6].upper()
    net = make_network(session, suffix)
    data = WebSeed(net=net, suffix=suffix)
    scopes = {
        "center": {"center": net.center_a},
        "center_b": {"center": net.center_b},
        "site": {"site": net.site},
        "network": {},
    }
    for short, (role, where) in USERNAMES.items():
        data.users[short] = make_user(
            session,
            role,
            username=data.username(short),
            **scopes[where],  # type: ignore[arg-type]
        )
    make_specification(session, net)

    # The center's worklists: one episode at each early step, and a patient not yet referred.
    for state in (
        EpisodeState.REFERRED,
        EpisodeState.ELIGIBLE,
        EpisodeState.SLOT_BOOKED,
        EpisodeState.APHERESIS_COLLECTED,
    ):
        data.episodes[state] = make_episode(session, net, state=state)
    data.other_center_episode = make_episode(session, net, center=net.center_b)
    data.waiting_patient = make_patient(session, net.center_a)

    # Manufacturing: a batch in QC awaiting its results, another with every result verified.
    staff = make_staff(session, net)
    received = utcnow() - dt.timedelta(days=20)
    first = collected_episode(session, net, collected_at=received - dt.timedelta(days=1))
    data.in_qc = manufacture(session, staff, first, received_at=received)
    second = collected_episode(session, net, collected_at=received - dt.timedelta(days=1))
    data.ready_for_release = manufacture(session, staff, second, received_at=received)
    results = enter_results(session, staff.analyst, data.ready_for_release, ARI_0001_LOT_01)
    verify_all(session, staff.second_analyst, results)

    # Custody: a released product, labelled and scanned out, with its shipper and a planned
    # shipment, waiting for the courier; a container of another episode for the mismatch.
    people = make_people(session, net)
    released = make_episode(session, net, state=EpisodeState.SLOT_BOOKED)
    kit = advance(session, people, released, HandoffStep.RELEASE)
    kit.shippers = register(session, people.planner, released, ContainerKind.SHIPPER)
    plan_shipment(session, people.planner, released, ShipmentMaterial.CRYOPRESERVED_PRODUCT)
    data.released = released
    data.released_containers = [*kit.product, *kit.shippers]
    other = make_episode(session, net, state=EpisodeState.SLOT_BOOKED)
    data.foreign_container = advance(
        session, people, other, HandoffStep.COLLECTION
    ).collection_bags[0]

    # The ward: received (lymphodepletion to plan), in lymphodepletion (bedside check due), and an
    # infused patient whose latest CRS assessment is grade 2 (fever with low-flow oxygen).
    team = Team(
        net=net,
        clinician=data.users["clin"],
        second_clinician=data.users["clin2"],
        nurse=data.users["nurse"],
        coordinator=data.users["coord"],
        other_center_clinician=make_user(session, Role.CLINICIAN, center=net.center_b),
    )
    data.episodes[EpisodeState.RECEIVED] = received_episode(session, team, days_ago=3)
    data.bedside = in_lymphodepletion(session, team, clinical_timeline(days_ago=0))
    data.grade2, _ = infused_episode(session, team, clinical_timeline(days_ago=3))
    record_assessment(
        session,
        actor=Actor(team.clinician),
        episode_id=data.grade2.id,
        data=ToxicityAssessmentIn(
            assessed_at=utcnow() - dt.timedelta(hours=2),
            crs=CrsAssessment(
                temperature_c=39.1,
                hypotension=Hypotension.NONE,
                oxygen=OxygenSupport.LOW_FLOW,
            ),
        ),
    )
    data.episodes[EpisodeState.INFUSED] = data.grade2
    return data
