"""50 scans of the same container at the same hand-off, from 50 threads each with its own
session, on a committed database: one custody event, and every scanner told the same event.

The set-up is committed (threads cannot see a test's open transaction) and deleted afterwards;
audit events stay, because the audit trail refuses deletes (on PostgreSQL, by trigger).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, or_, select
from sqlalchemy.orm import Session

from cartflow.app import create_app
from cartflow.audit.service import verify_audit_trail
from cartflow.auth.actor import Actor
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.identity.isbt128 import Din
from cartflow.logistics.service import record_handoff
from cartflow.models import (
    AuthSession,
    CenterSiteRoute,
    Device,
    ElectronicSignature,
    Episode,
    EpisodeState,
    EpisodeStateChange,
    IdentifierSequence,
    ManufacturingSite,
    Patient,
    Product,
    ProductIndication,
    ReleaseSpecification,
    RoleAssignment,
    TreatmentCenter,
    User,
)
from cartflow.models.custody import CustodyContainer, CustodyDeviation, CustodyEvent, HandoffStep
from tests.factories import auth
from tests.logistics.factories import K, barcode, make_world, register

THREADS = 50


@pytest.fixture
def committed_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=20, max_overflow=0, pool_timeout=120)
    yield engine
    engine.dispose()


def _purge(engine: Engine, *, site_id: uuid.UUID, extra_users: list[uuid.UUID]) -> None:
    """Delete the network, people and episodes the test committed (not their audit events)."""
    with Session(engine) as s, s.begin():
        site = s.get(ManufacturingSite, site_id)
        assert site is not None
        centers = list(
            s.execute(
                select(CenterSiteRoute.center_id).where(CenterSiteRoute.site_id == site_id)
            ).scalars()
        )
        products = list(
            s.execute(select(Product.id).where(Product.manufacturing_site_id == site_id)).scalars()
        )
        episodes = list(
            s.execute(select(Episode.id).where(Episode.center_id.in_(centers))).scalars()
        )
        users = set(extra_users) | set(
            s.execute(
                select(RoleAssignment.user_id).where(
                    or_(RoleAssignment.center_id.in_(centers), RoleAssignment.site_id == site_id)
                )
            ).scalars()
        )
        for statement in (
            delete(CustodyEvent).where(CustodyEvent.episode_id.in_(episodes)),
            delete(CustodyDeviation).where(CustodyDeviation.episode_id.in_(episodes)),
            delete(CustodyContainer).where(CustodyContainer.episode_id.in_(episodes)),
            delete(EpisodeStateChange).where(EpisodeStateChange.episode_id.in_(episodes)),
            delete(Episode).where(Episode.id.in_(episodes)),
            delete(Patient).where(Patient.center_id.in_(centers)),
            delete(ElectronicSignature).where(ElectronicSignature.signer_id.in_(users)),
            delete(AuthSession).where(AuthSession.user_id.in_(users)),
            delete(RoleAssignment).where(RoleAssignment.user_id.in_(users)),
            delete(User).where(User.id.in_(users)),
            delete(IdentifierSequence).where(
                IdentifierSequence.facility_identification_number
                == site.facility_identification_number
            ),
            delete(CenterSiteRoute).where(CenterSiteRoute.site_id == site_id),
            delete(Device).where(Device.site_id == site_id),
            delete(ProductIndication).where(ProductIndication.product_id.in_(products)),
            delete(ReleaseSpecification).where(ReleaseSpecification.product_id.in_(products)),
            delete(Product).where(Product.id.in_(products)),
            delete(TreatmentCenter).where(TreatmentCenter.id.in_(centers)),
            delete(ManufacturingSite).where(ManufacturingSite.id == site_id),
        ):
            s.execute(statement)


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
        _purge(committed_engine, site_id=world.net.site.id, extra_users=[world.people.courier.id])


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
        _purge(committed_engine, site_id=world.net.site.id, extra_users=[world.people.courier.id])
