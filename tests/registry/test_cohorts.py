"""Registry cohorts from episodes walked through the services and clinical records created through
the clinical services: intention-to-treat counts, filters, scoping and the survival times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.outcome_service import record_death, record_disease_event, record_response
from cartflow.clinical.response import DeathCause
from cartflow.clinical.schemas_after import (
    DeathIn,
    DiseaseEventIn,
    LuganoPetIn,
    ToxicityAssessmentIn,
)
from cartflow.clinical.toxicity_service import record_assessment
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.errors import Forbidden, InvalidInput, NotFound
from cartflow.models import Diagnosis, Episode, EpisodeState, Role, WithdrawalReason
from cartflow.models.clinical_outcome import DiseaseEventKind
from cartflow.registry.cohorts import CohortFilter, itt_counts, select_cohort
from cartflow.registry.km import kaplan_meier
from cartflow.registry.service import overall_survival, vein_to_vein_days
from tests.clinical.factories import Team, infused_episode, make_team, timeline
from tests.factories import make_episode, make_patient, make_user


@dataclass
class Cohort:
    team: Team
    died: Episode
    alive: Episode
    child: Episode


def _withdraw(session: Session, team: Team, episode: Episode, reason: WithdrawalReason) -> None:
    apply_transition(
        session,
        actor=Actor(team.coordinator),
        episode_id=episode.id,
        request=TransitionRequest(transition="withdraw", withdrawal_reason=reason),
    )


def build_cohort(session: Session, unique: str) -> Cohort:
    """Center A: two adults with DLBCL infused (one died on day 100, one alive, last seen on day
    28), one child with B-ALL infused and relapsed the next day, two withdrawn (ineligible at referral, manufacturing
    failure after apheresis) and one still referred. Center B: one referral."""
    team = make_team(session, unique)
    net, clinician = team.net, Actor(team.clinician)
    when = timeline(days_ago=200)
    died, _ = infused_episode(
        session,
        team,
        when,
        patient=make_patient(session, net.center_a, diagnosis=Diagnosis.DLBCL, age_years=60),
    )
    record_death(
        session,
        actor=clinician,
        episode_id=died.id,
        data=DeathIn(died_on=when.day0.date() + dt.timedelta(days=100), cause=DeathCause.INFECTION),
    )
    alive, _ = infused_episode(
        session,
        team,
        when,
        patient=make_patient(session, net.center_a, diagnosis=Diagnosis.DLBCL, age_years=45),
    )
    record_response(
        session,
        actor=clinician,
        episode_id=alive.id,
        data=LuganoPetIn(
            framework="lugano_pet",
            assessed_on=when.day0.date() + dt.timedelta(days=28),
            deauville=2,
            uptake_vs_baseline="reduced",
            new_fdg_avid_lesions=False,
        ),
    )
    # ASTCT worked examples (Lee 2019): 39.5 C, one vasopressor, low-flow O2 -> CRS grade 3;
    # 38.6 C on room air -> grade 1.
    for episode, crs in (
        (alive, {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}),
        (died, {"temperature_c": 38.6, "hypotension": "none", "oxygen": "none"}),
    ):
        record_assessment(
            session,
            actor=clinician,
            episode_id=episode.id,
            data=ToxicityAssessmentIn.model_validate({"assessed_at": when.at(1), "crs": crs}),
        )
    child_when = timeline(days_ago=20)
    child, _ = infused_episode(
        session,
        team,
        child_when,
        patient=make_patient(session, net.center_a, age_years=9),
    )
    record_disease_event(
        session,
        actor=clinician,
        episode_id=child.id,
        data=DiseaseEventIn(
            kind=DiseaseEventKind.RELAPSE, occurred_on=child_when.day0.date() + dt.timedelta(days=1)
        ),
    )
    # Test set-up: collection dates in the past (the walk records them at the time of the walk).
    for episode, days in ((died, 30), (alive, 40), (child, 26)):
        assert episode.infused_at is not None
        episode.apheresis_collected_at = episode.infused_at - dt.timedelta(days=days)
    session.flush()
    ineligible = make_episode(session, net)
    _withdraw(session, team, ineligible, WithdrawalReason.INELIGIBLE)
    failed = make_episode(session, net, state=EpisodeState.APHERESIS_COLLECTED)
    _withdraw(session, team, failed, WithdrawalReason.MANUFACTURING_FAILURE)
    make_episode(session, net)
    make_episode(session, net, center=net.center_b)
    return Cohort(team=team, died=died, alive=alive, child=child)


@pytest.fixture
def cohort(session: Session, unique: str) -> Cohort:
    return build_cohort(session, unique)


def _mine(cohort: Cohort, **kwargs: object) -> CohortFilter:
    return CohortFilter(product=cohort.team.net.product.code, **kwargs)  # type: ignore[arg-type]


def test_intention_to_treat_counts_and_dropouts(session: Session, cohort: Cohort) -> None:
    analyst = Actor(make_user(session, Role.REGISTRY_ANALYST))
    counts = itt_counts(select_cohort(session, actor=analyst, filters=_mine(cohort)))
    assert (counts.referred, counts.apheresed, counts.infused, counts.withdrawn) == (7, 4, 3, 2)
    dropouts = {(d.reason, d.from_state): d.count for d in counts.dropouts}
    assert dropouts == {
        (WithdrawalReason.INELIGIBLE, EpisodeState.REFERRED): 1,
        (WithdrawalReason.MANUFACTURING_FAILURE, EpisodeState.APHERESIS_COLLECTED): 1,
    }


def test_filters_by_center_indication_age_and_period(session: Session, cohort: Cohort) -> None:
    analyst = Actor(make_user(session, Role.REGISTRY_ANALYST))
    net = cohort.team.net

    def referred(**kwargs: object) -> int:
        return itt_counts(
            select_cohort(session, actor=analyst, filters=_mine(cohort, **kwargs))
        ).referred

    assert referred(center=net.center_b.code) == 1
    assert referred(center=net.center_a.code) == 6
    assert referred(indication=Diagnosis.DLBCL) == 2
    assert referred(age_group="pediatric") == 5  # the factory's patients are 12 years old
    assert referred(age_group="adult") == 2
    today = dt.date.today()  # noqa: DTZ011
    assert referred(referred_to=today - dt.timedelta(days=1)) == 0
    assert referred(referred_from=today, referred_to=today) == 7
    with pytest.raises(InvalidInput) as bad:
        CohortFilter(referred_from=today, referred_to=today - dt.timedelta(days=1))
    assert bad.value.field == "referred_to"


def test_center_users_see_only_their_center(session: Session, cohort: Cohort) -> None:
    net = cohort.team.net
    local = Actor(make_user(session, Role.REGISTRY_ANALYST, center=net.center_b))
    rows = select_cohort(session, actor=local, filters=_mine(cohort))
    assert len(rows) == 1 and {r.center_code for r in rows} == {net.center_b.code}
    coordinator = Actor(cohort.team.coordinator)
    assert {
        r.center_code for r in select_cohort(session, actor=coordinator, filters=_mine(cohort))
    } == {net.center_a.code}
    with pytest.raises(NotFound):
        select_cohort(session, actor=local, filters=_mine(cohort, center=net.center_a.code))
    with pytest.raises(Forbidden):
        select_cohort(
            session,
            actor=Actor(make_user(session, Role.PLANNER, site=net.site)),
            filters=_mine(cohort),
        )


def test_overall_survival_times_and_vein_to_vein(session: Session, cohort: Cohort) -> None:
    analyst = Actor(make_user(session, Role.REGISTRY_ANALYST))
    members = select_cohort(
        session, actor=analyst, filters=_mine(cohort, indication=Diagnosis.DLBCL)
    )
    times = overall_survival(session, members, today=dt.date.today())  # noqa: DTZ011
    # Died on day 100 (event); alive, last contact the day-28 response (censored).
    assert sorted(zip(times.days, times.events, strict=True)) == [(28.0, 0), (100.0, 1)]
    curve = kaplan_meier(times.days, times.events)
    assert curve.estimate.tolist() == [1.0, 0.0]
    assert sorted(vein_to_vein_days(members)) == [30.0, 40.0]
