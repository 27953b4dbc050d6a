"""Clinical test set-up: a care team, episodes walked to the clinical steps, and the bedside reads.

Steps owned by other domains (booking to receipt) are taken on their behalf, like
`tests.factories.make_episode`; the clinical steps under test always go through the clinical
services or the API. `backdate` moves an episode's history into the past so that a course can be
recorded in the past with real timestamps (the services refuse times in the future).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from cartflow.auth.actor import Actor
from cartflow.clinical.bedside import wristband_data
from cartflow.clinical.infusion_service import (
    confirm_bedside_check,
    record_infusion,
    start_bedside_check,
)
from cartflow.clinical.lymphodepletion_service import create_plan, start_lymphodepletion
from cartflow.clinical.schemas import BedsideScanIn, InfusionIn, LdPlanIn, LdStartIn
from cartflow.db.base import utcnow
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.models import (
    Episode,
    EpisodeState,
    EpisodeStateChange,
    Patient,
    Product,
    Role,
    User,
)
from cartflow.models.clinical_infusion import Infusion
from tests.factories import PASSWORD, Network, make_episode, make_network, make_user


@dataclass
class Team:
    net: Network
    clinician: User
    second_clinician: User
    nurse: User
    coordinator: User
    other_center_clinician: User

    def actor(self, user: User) -> Actor:
        return Actor(user)


def make_team(session: Session, unique: str) -> Team:
    net = make_network(session, unique)
    return Team(
        net=net,
        clinician=make_user(session, Role.CLINICIAN, center=net.center_a),
        second_clinician=make_user(session, Role.CLINICIAN, center=net.center_a),
        nurse=make_user(session, Role.APHERESIS_NURSE, center=net.center_a),
        coordinator=make_user(session, Role.COORDINATOR, center=net.center_a),
        other_center_clinician=make_user(session, Role.CLINICIAN, center=net.center_b),
    )


_OTHER_DOMAIN_STEPS: list[tuple[str, Role, str]] = [
    ("book_slot", Role.COORDINATOR, "center"),
    ("record_apheresis", Role.APHERESIS_NURSE, "center"),
    ("start_manufacturing", Role.PLANNER, "site"),
    ("submit_for_qc", Role.QC_ANALYST, "site"),
    ("release", Role.QUALIFIED_PERSON, "site"),
    ("ship", Role.COURIER, "network"),
    ("receive", Role.COORDINATOR, "center"),
]


def walk_to_received(session: Session, team: Team, episode: Episode) -> None:
    """From eligible to received, each step by its role on behalf of its owning domain."""
    today = dt.date.today()  # noqa: DTZ011 - a calendar date
    for name, role, where in _OTHER_DOMAIN_STEPS:
        scope = {"center": {"center": team.net.center_a}, "site": {"site": team.net.site}}
        user = make_user(session, role, **scope.get(where, {}))  # type: ignore[arg-type]
        apply_transition(
            session,
            actor=Actor(user),
            episode_id=episode.id,
            request=TransitionRequest(
                transition=name, planned_apheresis_date=today if name == "book_slot" else None
            ),
            on_behalf_of=TRANSITIONS[name].owner,
        )
    assert episode.state is EpisodeState.RECEIVED


def backdate(session: Session, episode: Episode, *, days: int) -> None:
    """Move the episode's recorded history `days` into the past (test set-up only)."""
    shift = dt.timedelta(days=days)
    changes = session.execute(
        select(EpisodeStateChange).where(EpisodeStateChange.episode_id == episode.id)
    ).scalars()
    for change in changes:
        change.occurred_at = change.occurred_at - shift
    episode.state_changed_at = episode.state_changed_at - shift
    session.flush()


def received_episode(
    session: Session, team: Team, *, patient: Patient | None = None, days_ago: int = 40
) -> Episode:
    """An episode of center A received at the center, its release `days_ago` in the past."""
    episode = make_episode(session, team.net, state=EpisodeState.RECEIVED, patient=patient)
    backdate(session, episode, days=days_ago)
    return episode


def bag_read(episode: Episode) -> str:
    """The product bag's bar code: product code (Data Structure 003) and chain of identity (040)."""
    session = object_session(episode)
    product = session.get(Product, episode.product_id) if session is not None else None
    assert episode.chain_of_identity is not None and product is not None
    return f"=<{product.isbt_product_code}&/{episode.chain_of_identity}"


def wristband_read(episode: Episode) -> str:
    session = object_session(episode)
    patient = session.get(Patient, episode.patient_id) if session is not None else None
    assert episode.chain_of_identity is not None and patient is not None
    return wristband_data(pseudonym=patient.pseudonym, coi=episode.chain_of_identity)


@dataclass(frozen=True)
class Timeline:
    """The course of one infusion, `day0` being the start of the infusion."""

    day0: dt.datetime

    @property
    def ld_start(self) -> dt.datetime:
        return self.day0 - dt.timedelta(days=5)

    @property
    def first_scan(self) -> dt.datetime:
        return self.day0 - dt.timedelta(minutes=40)

    @property
    def second_scan(self) -> dt.datetime:
        return self.day0 - dt.timedelta(minutes=35)

    @property
    def thaw_start(self) -> dt.datetime:
        return self.day0 - dt.timedelta(minutes=20)

    @property
    def thaw_end(self) -> dt.datetime:
        return self.day0 - dt.timedelta(minutes=15)

    @property
    def infusion_end(self) -> dt.datetime:
        return self.day0 + dt.timedelta(minutes=10)

    def at(self, days: float, hours: float = 0) -> dt.datetime:
        return self.day0 + dt.timedelta(days=days, hours=hours)


def timeline(days_ago: int = 30) -> Timeline:
    start = utcnow().replace(second=0, microsecond=0) - dt.timedelta(days=days_ago)
    return Timeline(day0=start)


def in_lymphodepletion(
    session: Session, team: Team, when: Timeline, *, patient: Patient | None = None
) -> Episode:
    days_ago = (utcnow() - when.day0).days + 10
    episode = received_episode(session, team, patient=patient, days_ago=days_ago)
    clinician = Actor(team.clinician)
    create_plan(
        session,
        actor=clinician,
        episode_id=episode.id,
        data=LdPlanIn(infusion_date=when.day0.date(), regimen="tisa-cel-all", crcl_ml_min=95),
    )
    start_lymphodepletion(
        session, actor=clinician, episode_id=episode.id, data=LdStartIn(started_at=when.ld_start)
    )
    return episode


def infused_episode(
    session: Session, team: Team, when: Timeline, *, patient: Patient | None = None
) -> tuple[Episode, Infusion]:
    """Walked through lymphodepletion, the two-person bedside check and the infusion."""
    episode = in_lymphodepletion(session, team, when, patient=patient)
    first = start_bedside_check(
        session,
        actor=Actor(team.nurse),
        episode_id=episode.id,
        data=BedsideScanIn.model_validate(
            {
                "bag_scan": bag_read(episode),
                "wristband_scan": wristband_read(episode),
                "password": PASSWORD,
                "scanned_at": when.first_scan,
            }
        ),
    )
    confirm_bedside_check(
        session,
        actor=Actor(team.clinician),
        check_id=first.id,
        data=BedsideScanIn.model_validate(
            {
                "bag_scan": bag_read(episode),
                "wristband_scan": wristband_read(episode),
                "password": PASSWORD,
                "scanned_at": when.second_scan,
            }
        ),
    )
    infusion = record_infusion(
        session,
        actor=Actor(team.clinician),
        episode_id=episode.id,
        data=InfusionIn(
            bedside_check_id=first.id,
            thaw_started_at=when.thaw_start,
            thaw_completed_at=when.thaw_end,
            infusion_started_at=when.day0,
            infusion_ended_at=when.infusion_end,
            cells_infused_1e6=120.0,
            volume_ml=40.0,
        ),
    )
    return episode, infusion
