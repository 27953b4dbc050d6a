"""50 scans of the same container at the same hand-off, from 50 threads each with its own
session, on a committed database: one custody event, and every scanner told the same event.

The set-up is committed (threads cannot see a test's open transaction) and deleted afterwards;
audit events stay, because the audit trail refuses deletes (on PostgreSQL, by trigger).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cartflow.app import create_app
from cartflow.audit.service import verify_audit_trail
from cartflow.auth.actor import Actor
from cartflow.config import Settings
from cartflow.identity.isbt128 import Din
from cartflow.logistics.service import record_handoff
from cartflow.models import (
    Episode,
    EpisodeState,
    User,
)
from cartflow.models.custody import CustodyDeviation, CustodyEvent, HandoffStep
from tests.factories import auth
from tests.logistics.committed import purge
from tests.logistics.factories import K, barcode, make_world, register

THREADS = 50


def test_fifty_parallel_scans_give_one_custody_event(committed_engine: Engine, unique: str) -> None:
    with Session(committed_engine, expire_on_commit=False) as setup:
        world = make_world(setup, unique, state=EpisodeState.IN_MANUFACTURING)
        [bag] = register(setup, world.people.planner, world.episode, K.PRODUCT_BAG)
        setup.commit()
    raw = barcode(bag)
    planner_id, episode_id = world.people.planner.id, world.episode.id
    barrier = threading.Barrier(THREADS)

    def one_scan(_: int) -> tuple[bool, uuid.UUID, bool]:
        with Session(committed_engine, expire_on_commit=False) as s:
            user = s.get(User, planner_id)
            assert user is not None
            actor = Actor(user)
            s.commit()  # hold no transaction (SQLite: no write lock) while waiting
            barrier.wait(timeout=60)
            outcome = record_handoff(
                s,
                actor=actor,
                episode_id=episode_id,
                step=HandoffStep.CRYOPRESERVATION,
                scans=[raw],
            )
            s.commit()
            [event] = outcome.events
            return outcome.accepted, event.id, outcome.results[0].verdict.duplicate

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            results = list(pool.map(one_scan, range(THREADS)))
        with Session(committed_engine) as check:
            count = check.execute(
                select(func.count()).where(
                    CustodyEvent.container_id == bag.id,
                    CustodyEvent.step == HandoffStep.CRYOPRESERVATION,
                )
            ).scalar_one()
            assert count == 1
            assert all(accepted for accepted, _, _ in results)
            assert len({event_id for _, event_id, _ in results}) == 1
            assert sum(not duplicate for _, _, duplicate in results) == 1
            deviations = check.execute(
                select(func.count()).where(CustodyDeviation.episode_id == episode_id)
            ).scalar_one()
            assert deviations == 0
            assert verify_audit_trail(check).ok
    finally:
        purge(committed_engine, site_id=world.net.site.id, extra_users=[world.people.courier.id])


def test_a_refused_hand_off_commits_its_deviation_through_the_real_app(
    committed_engine: Engine, database_url: str, unique: str
) -> None:
    """The app's own unit of work (no test override): the 409 is returned, the deviation kept."""
    with Session(committed_engine, expire_on_commit=False) as setup:
        world = make_world(setup, unique)
        [bag] = register(setup, world.people.nurse, world.episode, K.COLLECTION_BAG)
        headers = auth(setup, world.people.nurse.user)
        setup.commit()
    wrong = Din.parse(bag.din[:7] + "999998").barcode_data()
    try:
        app = create_app(Settings(environment="test", database_url=database_url))
        with TestClient(app) as client:
            response = client.post(
                f"/api/v1/custody/episodes/{world.episode.id}/handoffs",
                json={"step": "collection", "scans": [barcode(bag), wrong]},
                headers=headers,
            )
        app.state.engine.dispose()
        assert response.status_code == 409
        assert response.json()["code"] == "CUSTODY-UNKNOWN-CONTAINER"
        with Session(committed_engine) as check:
            kept = check.execute(
                select(CustodyDeviation).where(CustodyDeviation.episode_id == world.episode.id)
            ).scalar_one()
            assert str(kept.id) == response.json()["deviation_ids"][0]
            moved = check.execute(
                select(func.count()).where(CustodyEvent.episode_id == world.episode.id)
            ).scalar_one()
            assert moved == 0
            episode = check.get(Episode, world.episode.id)
            assert episode is not None and episode.state is EpisodeState.SLOT_BOOKED
    finally:
        purge(committed_engine, site_id=world.net.site.id, extra_users=[world.people.courier.id])
