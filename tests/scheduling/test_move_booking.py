"""Moving a booking when the plan changes: the move passes every booking check, frees the old
chair and device days, keeps the old booking (cancelled, with the reason) and is audited."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.models import AuditEvent, EpisodeState, Role
from cartflow.models.scheduling import BookingStatus, ChairDay, DeviceDay, SlotBooking
from tests.factories import auth, make_episode, make_network, make_user

TODAY = dt.date.today()  # noqa: DTZ011


def _booked(client: TestClient, session: Session, unique: str) -> tuple:  # type: ignore[type-arg]
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.PLANNER, site=net.site))
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    day = TODAY + dt.timedelta(days=4)
    response = client.post(
        f"/api/v1/episodes/{episode.id}/booking",
        json={"apheresis_date": str(day), "device": "DEV-1"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return net, headers, episode, day


def test_a_booking_moves_and_frees_its_old_days(
    client: TestClient, session: Session, unique: str
) -> None:
    _net, headers, episode, day = _booked(client, session, unique)
    later = day + dt.timedelta(days=20)
    moved = client.put(
        f"/api/v1/episodes/{episode.id}/booking",
        json={"apheresis_date": str(later), "device": "DEV-1", "reason": "device outage"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["apheresis_date"] == str(later)
    bookings = (
        session.execute(select(SlotBooking).where(SlotBooking.episode_id == episode.id))
        .scalars()
        .all()
    )
    assert sorted(b.status for b in bookings) == [BookingStatus.ACTIVE, BookingStatus.CANCELLED]
    old = next(b for b in bookings if b.status is BookingStatus.CANCELLED)
    assert old.cancel_reason == "device outage"
    held = {
        row.booking_id
        for row in session.execute(
            select(DeviceDay).where(DeviceDay.booking_id.in_([b.id for b in bookings]))
        ).scalars()
    } | {
        row.booking_id
        for row in session.execute(
            select(ChairDay).where(ChairDay.booking_id.in_([b.id for b in bookings]))
        ).scalars()
    }
    assert held == {next(b.id for b in bookings if b.status is BookingStatus.ACTIVE)}
    read = client.get(f"/api/v1/episodes/{episode.id}", headers=headers).json()
    assert read["state"] == "slot_booked" and read["planned_apheresis_date"] == str(later)
    actions = set(
        session.execute(
            select(AuditEvent.action).where(
                AuditEvent.record_id.in_([str(episode.id), *(str(b.id) for b in bookings)])
            )
        ).scalars()
    )
    assert {"book", "cancel", "move", "rebook"} <= actions


def test_a_move_onto_a_taken_device_changes_nothing(
    client: TestClient, session: Session, unique: str
) -> None:
    net, headers, episode, day = _booked(client, session, unique)
    other = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    other_day = day + dt.timedelta(days=30)
    assert (
        client.post(
            f"/api/v1/episodes/{other.id}/booking",
            json={"apheresis_date": str(other_day), "device": "DEV-1"},
            headers=headers,
        ).status_code
        == 201
    )
    refused = client.put(
        f"/api/v1/episodes/{episode.id}/booking",
        json={"apheresis_date": str(other_day), "device": "DEV-1", "reason": "outage"},
        headers={**headers, "Accept-Language": "ru"},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "BOOK-DEVICE-TAKEN"
    assert "DEV-1" in refused.json()["message"]
    current = client.get(f"/api/v1/episodes/{episode.id}/booking", headers=headers).json()
    assert current["apheresis_date"] == str(day) and current["status"] == "active"


def test_only_before_manufacturing_and_with_a_reason(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.PLANNER, site=net.site))
    running = make_episode(session, net, state=EpisodeState.IN_MANUFACTURING)
    refused = client.put(
        f"/api/v1/episodes/{running.id}/booking",
        json={"apheresis_date": str(TODAY), "device": "DEV-1", "reason": "outage"},
        headers=headers,
    )
    assert refused.status_code in (404, 409)
    no_reason = client.put(
        f"/api/v1/episodes/{running.id}/booking",
        json={"apheresis_date": str(TODAY), "device": "DEV-1"},
        headers=headers,
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
