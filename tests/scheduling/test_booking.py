"""Booking a chair and a device run: capacity is the database's to decide, so the last slot goes
to exactly one of many coordinators booking at the same moment."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.errors import CartflowError
from cartflow.models import Episode, EpisodeState, Role, User
from cartflow.models.scheduling import ChairDay, DeviceDay, SlotBooking
from cartflow.scheduling.schemas import BookingRequest
from cartflow.scheduling.service import book_slot
from tests.factories import Network, auth, make_episode, make_network, make_user

TODAY = dt.date.today()  # noqa: DTZ011


def _book(
    client: TestClient,
    episode_id: uuid.UUID,
    headers: dict[str, str],
    day: dt.date,
    device: str = "DEV-1",
) -> object:
    return client.post(
        f"/api/v1/episodes/{episode_id}/booking",
        json={"apheresis_date": str(day), "device": device},
        headers=headers,
    )


def test_booking_reserves_chair_and_device_and_moves_the_episode(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    day = TODAY + dt.timedelta(days=4)
    response = _book(client, episode.id, headers, day)
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    # Transit 1 day to the site, 12 manufacturing + 3 QC days, 1 day back (the test network).
    assert body["manufacturing_start"] == str(day + dt.timedelta(days=1))
    assert body["planned_release_date"] == str(day + dt.timedelta(days=16))
    assert body["planned_infusion_date"] == str(day + dt.timedelta(days=17))
    read = client.get(f"/api/v1/episodes/{episode.id}", headers=headers).json()
    assert read["state"] == "slot_booked" and read["planned_apheresis_date"] == str(day)
    assert (
        session.execute(select(func.count(DeviceDay.id)).where(DeviceDay.day >= day)).scalar_one()
        >= 12
    )
    assert (
        client.get(f"/api/v1/episodes/{episode.id}/booking", headers=headers).json()["chair_number"]
        == 1
    )


def test_chairs_and_devices_run_out(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)  # 2 chairs a day at each center, one device at the site
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    day = TODAY + dt.timedelta(days=5)
    first, second, third = (
        make_episode(session, net, state=EpisodeState.ELIGIBLE) for _ in range(3)
    )
    assert _book(client, first.id, headers, day).status_code == 201  # type: ignore[attr-defined]
    taken = _book(client, second.id, headers, day)
    assert taken.status_code == 409 and taken.json()["code"] == "BOOK-DEVICE-TAKEN"  # type: ignore[attr-defined]
    assert (
        session.execute(select(SlotBooking).where(SlotBooking.episode_id == second.id)).first()
        is None
    )
    # A second device frees the run; the third patient that day finds no chair.
    from cartflow.models import Device

    session.add(Device(site_id=net.site.id, code="DEV-2", kind="CliniMACS Prodigy"))
    session.flush()
    assert _book(client, second.id, headers, day, "DEV-2").status_code == 201  # type: ignore[attr-defined]
    session.add(Device(site_id=net.site.id, code="DEV-3", kind="CliniMACS Prodigy"))
    session.flush()
    no_chair = _book(client, third.id, headers, day, "DEV-3")
    assert no_chair.status_code == 409 and no_chair.json()["code"] == "BOOK-NO-CHAIR"  # type: ignore[attr-defined]


def test_withdrawal_frees_the_slot(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    day = TODAY + dt.timedelta(days=6)
    first, second = (make_episode(session, net, state=EpisodeState.ELIGIBLE) for _ in range(2))
    assert _book(client, first.id, headers, day).status_code == 201  # type: ignore[attr-defined]
    withdrawn = client.post(
        f"/api/v1/episodes/{first.id}/transitions",
        json={"transition": "withdraw", "withdrawal_reason": "death", "reason": "died waiting"},
        headers=headers,
    )
    assert withdrawn.status_code == 200
    assert _book(client, second.id, headers, day).status_code == 201  # type: ignore[attr-defined]
    cancelled = session.execute(
        select(SlotBooking).where(SlotBooking.episode_id == first.id)
    ).scalar_one()
    assert cancelled.status.value == "cancelled" and "died waiting" in cancelled.cancel_reason


def test_booking_refusals(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    coordinator = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    assert (
        _book(client, episode.id, coordinator, TODAY + dt.timedelta(days=3), "NOPE").json()["field"]
        == "device"
    )  # type: ignore[attr-defined]
    too_late = _book(client, episode.id, coordinator, TODAY + dt.timedelta(days=50))
    assert too_late.status_code == 409 and too_late.json()["code"] == "BOOK-TOO-LATE"  # type: ignore[attr-defined]
    nurse = auth(session, make_user(session, Role.APHERESIS_NURSE, center=net.center_a))
    assert _book(client, episode.id, nurse, TODAY + dt.timedelta(days=3)).status_code == 403  # type: ignore[attr-defined]
    stranger = auth(session, make_user(session, Role.COORDINATOR, center=net.center_b))
    assert _book(client, episode.id, stranger, TODAY + dt.timedelta(days=3)).status_code == 404  # type: ignore[attr-defined]
    referred = make_episode(session, net)
    not_eligible = _book(client, referred.id, coordinator, TODAY + dt.timedelta(days=3))
    assert not_eligible.status_code == 409 and not_eligible.json()["code"] == "STATE-001"  # type: ignore[attr-defined]
    assert (
        session.execute(
            select(ChairDay)
            .join(SlotBooking, SlotBooking.id == ChairDay.booking_id)
            .where(SlotBooking.episode_id == referred.id)
        ).first()
        is None
    )


@pytest.fixture
def committed_network(database_url: str) -> tuple[Engine, Network, list[uuid.UUID], uuid.UUID]:
    """A network with one device and many eligible episodes, committed so threads can see it."""
    # 100 threads share 16 connections: PostgreSQL's default limit is 100 clients in all.
    engine = (
        make_engine(database_url, pool_size=16, max_overflow=0, pool_timeout=120)
        if (database_url.startswith("postgresql"))
        else make_engine(database_url)
    )
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        net = make_network(session, uuid.uuid4().hex[:8].upper())
        coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
        episodes = [
            make_episode(session, net, state=EpisodeState.ELIGIBLE).id for _ in range(PARALLEL)
        ]
        coordinator_id = coordinator.id
    return engine, net, episodes, coordinator_id


PARALLEL = 100


def test_parallel_bookings_of_the_last_slot_one_wins(
    committed_network: tuple[Engine, Network, list[uuid.UUID], uuid.UUID],
) -> None:
    engine, _net, episodes, coordinator_id = committed_network
    factory = make_sessionmaker(engine)
    day = TODAY + dt.timedelta(days=7)
    start = threading.Barrier(len(episodes))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(episode_id: uuid.UUID) -> None:
        start.wait()
        try:
            with session_scope(factory) as session:
                actor = Actor(session.get(User, coordinator_id))  # type: ignore[arg-type]
                book_slot(
                    session,
                    actor=actor,
                    episode_id=episode_id,
                    request=BookingRequest(apheresis_date=day, device="DEV-1"),
                )
            result = "booked"
        except CartflowError as exc:
            result = exc.code
        except Exception as exc:
            result = f"unexpected {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(e,)) for e in episodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert outcomes.count("booked") == 1, outcomes
    assert set(outcomes) - {"booked"} <= {"BOOK-DEVICE-TAKEN", "BOOK-NO-CHAIR"}, set(outcomes)
    check = make_engine(str(engine.url.render_as_string(hide_password=False)))
    with session_scope(make_sessionmaker(check)) as session:
        booked = session.execute(
            select(func.count(SlotBooking.id)).where(SlotBooking.episode_id.in_(episodes))
        ).scalar_one()
        moved = session.execute(
            select(func.count(Episode.id)).where(
                Episode.id.in_(episodes), Episode.state == EpisodeState.SLOT_BOOKED
            )
        ).scalar_one()
    check.dispose()
    assert booked == moved == 1
