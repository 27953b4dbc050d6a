"""The demo seed's recent episodes are real records in every domain: seeded into a fresh database
of its own, the QC, QP, courier and clinician worklists have rows for the demo's users, the
records behind each state exist, and the audit trail verifies.

Seeds 14 episodes, all full-fidelity (the first dozen targets already cover every worklist), to
keep the run short; `cartflow demo` seeds 200, the older ones on the shortcut (tests/cli)."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cartflow.app import create_app
from cartflow.audit.service import verify_audit_trail
from cartflow.auth.actor import Actor
from cartflow.clinical.worklists import toxicity_worklist
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.demo import plan
from cartflow.demo.seed import DEMO_PASSWORD, seed_demo
from cartflow.logistics.custody import holdings
from cartflow.logistics.shipments import incoming
from cartflow.manufacturing.worklists import qc_worklist, qp_worklist
from cartflow.models import Episode, EpisodeState, User
from cartflow.models.clinical_infusion import Infusion
from cartflow.models.manufacturing import Batch, BatchState
from cartflow.models.scheduling import SlotBooking
from tests.conftest import BACKEND, _create_pg_database, _drop_pg_database

S = EpisodeState
EPISODES = 14
FULL = min(EPISODES, len(plan.FULL_FIDELITY_STATES))


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"cartflow_demo_{os.getpid()}"
    if BACKEND == "postgresql":
        url = _create_pg_database(name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_demo(session, today=dt.datetime.now(dt.UTC).date(), episodes=EPISODES)
        session.commit()
    engine.dispose()
    yield url
    if BACKEND == "postgresql":
        _drop_pg_database(name)


@pytest.fixture(scope="module")
def demo_engine(demo_url: str) -> Iterator[Engine]:
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_session(demo_engine: Engine) -> Iterator[Session]:
    # Its own short transaction: SQLite's are IMMEDIATE here and would block the API's log-ins.
    with Session(demo_engine) as session:
        yield session
        session.rollback()


def actor(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Actor(user)


SITES = ("nmrc-hem-gmp", "nvs-stein")
CENTERS = ("nmrc-hem", "morozov", "rogachev", "blokhin", "radiology", "petrov")


def test_qc_analysts_have_results_to_enter_or_verify(demo_session: Session) -> None:
    rows = [
        item
        for site in SITES
        for item in qc_worklist(demo_session, actor=actor(demo_session, f"qc_analyst.{site}"))
    ]
    assert rows
    assert all(item.awaiting_entry or item.awaiting_verification for item in rows)


def test_qualified_persons_have_batches_in_qc(demo_session: Session) -> None:
    rows = [
        item
        for site in SITES
        for item in qp_worklist(demo_session, actor=actor(demo_session, f"qualified_person.{site}"))
    ]
    assert rows


def test_courier_holds_containers_on_their_way(demo_session: Session) -> None:
    held = holdings(demo_session, actor=actor(demo_session, "courier"))
    assert held
    on_the_way = [
        row
        for center in CENTERS
        for row in incoming(demo_session, actor=actor(demo_session, f"coordinator.{center}"))
    ]
    assert on_the_way
    assert {c.episode_id for c in held} <= {s.episode_id for s, _, _ in on_the_way} | {
        c.episode_id for c in held if c.kind.value == "collection_bag"
    }


def test_clinicians_see_a_grade_two_or_worse_toxicity(demo_session: Session) -> None:
    rows = [
        row
        for center in CENTERS
        for row in toxicity_worklist(demo_session, actor=actor(demo_session, f"clinician.{center}"))
    ]
    assert rows
    assert max(max(r.crs_grade or 0, r.icans_grade or 0) for r in rows) >= 2


def test_the_recent_episodes_spread_over_the_path(demo_session: Session) -> None:
    """Each full-fidelity episode is placed to be in its target state today; a device that is
    busy may delay one by a few days, so only the states with long stays are required."""
    recent = dt.date.today() - dt.timedelta(days=plan.LEGACY_MIN_DAYS)  # noqa: DTZ011
    states = dict(
        demo_session.execute(
            select(Episode.state, func.count())
            .where(Episode.referred_on > recent)
            .group_by(Episode.state)
        ).all()
    )
    assert sum(states.values()) == FULL
    assert {S.REFERRED, S.SLOT_BOOKED, S.IN_MANUFACTURING, S.QC, S.INFUSED} <= set(states)


def test_records_stand_behind_each_recent_state(demo_session: Session) -> None:
    recent = dt.date.today() - dt.timedelta(days=plan.LEGACY_MIN_DAYS)  # noqa: DTZ011
    episodes = demo_session.execute(select(Episode).where(Episode.referred_on > recent)).scalars()
    order = list(S)
    for episode in episodes:
        bookings = demo_session.execute(
            select(func.count()).where(SlotBooking.episode_id == episode.id)
        ).scalar_one()
        batches = list(
            demo_session.execute(select(Batch).where(Batch.episode_id == episode.id)).scalars()
        )
        infusions = demo_session.execute(
            select(func.count()).where(Infusion.episode_id == episode.id)
        ).scalar_one()
        position = order.index(episode.state)
        assert bookings == (position >= order.index(S.SLOT_BOOKED)), episode.state
        assert len(batches) == (position >= order.index(S.IN_MANUFACTURING)), episode.state
        released = position >= order.index(S.RELEASED)
        assert all((b.state is BatchState.RELEASED) == released for b in batches)
        assert infusions == (position >= order.index(S.INFUSED)), episode.state


def test_the_audit_trail_verifies(demo_session: Session) -> None:
    result = verify_audit_trail(demo_session)
    assert result.first_broken_id is None and result.verified > 0


def test_the_plan_is_the_same_for_the_same_seed() -> None:
    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    first = plan.plan_full_fidelity(random.Random(7), now=now, count=30)
    again = plan.plan_full_fidelity(random.Random(7), now=now, count=30)
    assert first == again
    assert all(now.date() - p.referred < dt.timedelta(days=plan.LEGACY_MIN_DAYS) for p in first)


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("qc_analyst.{site}", "/api/v1/worklists/qc"),
        ("qualified_person.{site}", "/api/v1/worklists/qualified-person"),
        ("courier", "/api/v1/custody/holdings"),
        ("clinician.{center}", "/api/v1/clinical/worklists/toxicity"),
    ],
)
def test_the_demo_log_ins_see_rows_in_the_api(demo_url: str, username: str, path: str) -> None:
    """Logged in with the printed demo password, some user of the role gets rows."""
    with TestClient(create_app(Settings(environment="test", database_url=demo_url))) as client:
        rows = 0
        names = {username.format(site=s, center=c) for s in SITES for c in CENTERS}
        for name in sorted(names):
            login = client.post(
                "/api/v1/auth/login", json={"username": name, "password": DEMO_PASSWORD}
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            rows += len(response.json())
    assert rows > 0
