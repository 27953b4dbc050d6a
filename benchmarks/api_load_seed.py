"""The load benchmark's data: the demo network (`cartflow.demo.seed.seed_demo` without episodes),
ward users who are both apheresis nurse and clinician at one center (one log-in per client covers
every request kind), episodes at slot_booked with labelled collection bags, and infused episodes,
all written through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from cartflow.audit.service import SYSTEM_ACTOR
from cartflow.auth.actor import Actor
from cartflow.auth.service import RoleGrant, create_user
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.demo.seed import seed_demo
from cartflow.episodes.patients import register_patient
from cartflow.episodes.schemas import EpisodeCreate, PatientCreate, TransitionRequest
from cartflow.episodes.service import apply_transition, refer_episode
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.identity.isbt128 import ChainOfIdentityId, Din
from cartflow.logistics.containers import register_containers
from cartflow.models import Diagnosis, DiseaseStatus, Role, Sex, User
from cartflow.models.custody import ContainerKind

CENTER = "NMRC-HEM"
PRODUCT = "GEMA"
PASSWORD = "load-benchmark-Passw0rd"  # noqa: S105 - synthetic users in a throwaway database
WARD_USERS = 8
BAGS_PER_EPISODE = 10
# (transition, demo username that takes it) from referral to infusion.
PATH = [
    ("confirm_eligibility", "clinician.nmrc-hem"),
    ("book_slot", "coordinator.nmrc-hem"),
    ("record_apheresis", "nurse.nmrc-hem"),
    ("start_manufacturing", "planner.nmrc-hem-gmp"),
    ("submit_for_qc", "qc_analyst.nmrc-hem-gmp"),
    ("release", "qualified_person.nmrc-hem-gmp"),
    ("ship", "courier"),
    ("receive", "coordinator.nmrc-hem"),
    ("start_lymphodepletion", "clinician.nmrc-hem"),
    ("infuse", "clinician.nmrc-hem"),
]


def barcode(din: str, coi: str) -> str:
    """A collection bag's label read as one bar code: DIN then chain of identity (no product
    code or expiry on a collection bag), as `tests/logistics/factories.barcode` builds it."""
    return Din.parse(din).barcode_data("00") + ChainOfIdentityId.parse(coi).barcode_data()


@dataclass
class Seed:
    booked: list[str]  # episode ids at slot_booked, with bags to scan
    bags: list[tuple[str, str]]  # (episode id, bar code), interleaved across episodes
    foreign: dict[str, str]  # episode id -> a bar code of another episode's bag
    infused: list[str]
    usernames: list[str]


def seed(url: str, *, booked: int, infused: int) -> Seed:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        seed_demo(session, today=dt.date.today(), episodes=0)  # noqa: DTZ011 - calendar day
        ward = [
            create_user(
                session,
                actor=SYSTEM_ACTOR,
                username=f"ward{n}.load",
                full_name=f"Ward nurse-clinician {n}",
                password=PASSWORD,
                grants=[
                    RoleGrant(Role.APHERESIS_NURSE, center_code=CENTER),
                    RoleGrant(Role.CLINICIAN, center_code=CENTER),
                ],
            ).username
            for n in range(WARD_USERS)
        ]
        people = {u.username: Actor(u) for u in session.scalars(select(User))}

        def episode(serial: int, steps: int) -> tuple[str, str]:
            today = dt.date.today()  # noqa: DTZ011
            patient = register_patient(
                session,
                actor=people["coordinator.nmrc-hem"],
                data=PatientCreate(
                    mrn=f"LOAD-{serial:05d}",
                    family_name="Synthetic",
                    given_name=f"Load {serial}",
                    date_of_birth=today - dt.timedelta(days=45 * 365),
                    sex=Sex.FEMALE,
                    weight_kg=70,
                    height_cm=170,
                    diagnosis=Diagnosis.DLBCL,
                    disease_status=DiseaseStatus.REFRACTORY,
                    prior_lines_of_therapy=3,
                ),
                is_synthetic=True,
            )
            ep = refer_episode(
                session,
                actor=people["coordinator.nmrc-hem"],
                data=EpisodeCreate(
                    patient_id=patient.id,
                    product=PRODUCT,
                    earliest_apheresis_date=today,
                    latest_infusion_date=today + dt.timedelta(days=90),
                ),
            )
            for name, username in PATH[:steps]:
                apply_transition(
                    session,
                    actor=people[username],
                    episode_id=ep.id,
                    request=TransitionRequest(
                        transition=name,
                        planned_apheresis_date=today if name == "book_slot" else None,
                    ),
                    on_behalf_of=TRANSITIONS[name].owner,
                )
            return str(ep.id), ep.chain_of_identity or ""

        per_episode: list[list[tuple[str, str]]] = []
        for serial in range(booked):
            ep_id, _ = episode(serial, steps=2)
            bags = register_containers(
                session,
                actor=people["nurse.nmrc-hem"],
                episode_id=ep_id,  # type: ignore[arg-type]
                kind=ContainerKind.COLLECTION_BAG,
                count=BAGS_PER_EPISODE,
            )
            per_episode.append([(ep_id, barcode(b.din, b.chain_of_identity)) for b in bags])
        infused_ids = [episode(booked + n, steps=len(PATH))[0] for n in range(infused)]
    engine.dispose()
    ids = [bags[0][0] for bags in per_episode]
    return Seed(
        booked=ids,
        bags=[bag for row in zip(*per_episode, strict=True) for bag in row],
        # The next episode's first bag: the wrong patient's bag at this patient's hand-off.
        foreign={ids[i]: per_episode[(i + 1) % len(ids)][0][1] for i in range(len(ids))},
        infused=infused_ids,
        usernames=ward,
    )
