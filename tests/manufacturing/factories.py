"""Factories for manufacturing tests: the site's staff, a product specification, an episode whose
cells were collected at a chosen time, and a batch walked through its steps. Set-up goes through
the real services (the network service adds the specification, the episode service moves the
episode), so what a test checks is never built by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.episodes.schemas import EpisodeCreate, TransitionRequest
from cartflow.episodes.service import apply_transition, refer_episode
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.manufacturing import qc, service, steps
from cartflow.manufacturing.schemas import BatchStart, QcResultIn, StepRecord, SubmitForQc
from cartflow.models import Episode, Patient, ReleaseSpecification, Role
from cartflow.models.manufacturing import Batch, StepKind
from cartflow.models.manufacturing_qc import QcResult
from cartflow.network.schemas import SpecificationIn
from cartflow.network.service import add_specification
from tests.factories import Network, make_patient, make_user

# ARI-0001's release specification as published (Castella et al., Mol Ther Methods Clin Dev
# 2018;12:134, Table 2, PMC6319086).
ARI_0001_CRITERIA: dict[str, Any] = {
    "appearance": {"equals": "conforms", "description": "cloudy liquid solution"},
    "car_t_dose": {"basis": "per_kg", "min": 0.5e6},
    "car_positive_percent": {"min": 20},
    "cd3_positive_percent": {"min": 70},
    "viability_percent": {"min": 70},
    "sterility": {"equals": "no growth"},
    "mycoplasma": {"equals": "not detected"},
    "endotoxin_eu_per_ml": {"max": 0.5},
    "vector_copy_number_per_cell": {"max": 10},
    "replication_competent_lentivirus": {"equals": "not detected"},
}

# Lot ARI0001/01 of the same table: every value within its specification. The table reports
# endotoxin only as "<= 0.5 EU/mL", entered here as 0.5, the limit itself.
ARI_0001_LOT_01: dict[str, float | str] = {
    "appearance": "conforms",
    "car_t_dose": 1495e6,
    "car_positive_percent": 26.0,
    "cd3_positive_percent": 97.9,
    "viability_percent": 97.9,
    "sterility": "no growth",
    "mycoplasma": "not detected",
    "endotoxin_eu_per_ml": 0.5,
    "vector_copy_number_per_cell": 1.45,
    "replication_competent_lentivirus": "not detected",
}


@dataclass
class Staff:
    planner: Actor
    analyst: Actor
    second_analyst: Actor
    qp: Actor
    second_qp: Actor
    clinician: Actor
    coordinator: Actor


def make_staff(session: Session, net: Network) -> Staff:
    def at_site(role: Role, name: str) -> Actor:
        user = make_user(session, role, site=net.site)
        user.full_name = name
        return Actor(user)

    clinician = make_user(session, Role.CLINICIAN, center=net.center_a)
    clinician.full_name = "Dr Anna Petrova"
    return Staff(
        planner=at_site(Role.PLANNER, "Pavel Planner"),
        analyst=at_site(Role.QC_ANALYST, "Alla Analyst"),
        second_analyst=at_site(Role.QC_ANALYST, "Boris Verifier"),
        qp=at_site(Role.QUALIFIED_PERSON, "Queenie Qualified"),
        second_qp=at_site(Role.QUALIFIED_PERSON, "Quentin Second"),
        clinician=Actor(clinician),
        coordinator=Actor(make_user(session, Role.COORDINATOR, center=net.center_a)),
    )


def make_specification(
    session: Session, net: Network, criteria: dict[str, Any] | None = None
) -> ReleaseSpecification:
    admin = Actor(make_user(session, Role.ADMIN))
    return add_specification(
        session,
        actor=admin,
        product_code=net.product.code,
        data=SpecificationIn(criteria=criteria or ARI_0001_CRITERIA, source="ARI-0001 Table 2"),
    )


def collected_episode(
    session: Session,
    net: Network,
    *,
    collected_at: dt.datetime,
    patient: Patient | None = None,
) -> Episode:
    """An episode of `net.product` whose cells were collected at `collected_at` (the path is
    walked with the services, each step on the date it would have happened)."""
    patient = patient or make_patient(session, net.center_a)
    day = collected_at.date()
    coordinator = Actor(make_user(session, Role.COORDINATOR, center=net.center_a))
    clinician = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    nurse = Actor(make_user(session, Role.APHERESIS_NURSE, center=net.center_a))
    episode = refer_episode(
        session,
        actor=coordinator,
        data=EpisodeCreate(
            patient_id=patient.id,
            product=net.product.code,
            earliest_apheresis_date=day,
            latest_infusion_date=day + dt.timedelta(days=60),
        ),
        today=day,
    )
    for name, actor in (
        ("confirm_eligibility", clinician),
        ("book_slot", coordinator),
        ("record_apheresis", nurse),
    ):
        apply_transition(
            session,
            actor=actor,
            episode_id=episode.id,
            request=TransitionRequest(
                transition=name, planned_apheresis_date=day if name == "book_slot" else None
            ),
            now=collected_at,
            on_behalf_of=TRANSITIONS[name].owner,
        )
    return episode


# A CliniMACS Prodigy run: about 12 days from activation to harvest (PMID 29287970).
PROCESS: list[tuple[StepKind, float, float]] = [
    (StepKind.ACTIVATION, 0.1, 1.0),
    (StepKind.TRANSDUCTION, 1.0, 2.0),
    (StepKind.EXPANSION, 2.0, 11.5),
    (StepKind.HARVEST, 11.5, 11.6),
    (StepKind.FORMULATION, 11.6, 11.7),
    (StepKind.CRYOPRESERVATION, 11.7, 11.8),
]


def start_batch(
    session: Session, staff: Staff, episode: Episode, *, received_at: dt.datetime
) -> Batch:
    return service.start_batch(
        session,
        actor=staff.planner,
        data=BatchStart(episode_id=episode.id, device="DEV-1", received_at=received_at),
    )


def manufacture(
    session: Session, staff: Staff, episode: Episode, *, received_at: dt.datetime
) -> Batch:
    """Start the batch on DEV-1, record every step, and submit it for QC."""
    batch = start_batch(session, staff, episode, received_at=received_at)
    for step, start_day, end_day in PROCESS:
        steps.record_step(
            session,
            actor=staff.planner,
            batch_id=batch.id,
            data=StepRecord(
                step=step,
                started_at=received_at + dt.timedelta(days=start_day),
                completed_at=received_at + dt.timedelta(days=end_day),
            ),
        )
    return service.submit_for_qc(
        session, actor=staff.planner, batch_id=batch.id, data=SubmitForQc()
    )


def enter_results(
    session: Session, analyst: Actor, batch: Batch, values: dict[str, float | str]
) -> list[QcResult]:
    return [
        qc.enter_result(
            session, actor=analyst, batch_id=batch.id, data=QcResultIn(test=test, value=value)
        )
        for test, value in values.items()
    ]


def verify_all(session: Session, verifier: Actor, results: list[QcResult]) -> None:
    for result in results:
        qc.verify_result(session, actor=verifier, result_id=result.id)
