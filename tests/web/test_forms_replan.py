"""The re-plan page through the real app and database: the preview names what moves and writes
nothing; a bad event is refused beside its field; confirming books through the booking service,
all or nothing."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.models import Device, Episode, EpisodeState, Role
from cartflow.models.scheduling import BookingStatus, SlotBooking
from cartflow.scheduling import service as scheduling
from cartflow.scheduling.schemas import BookingRequest
from tests.factories import Network, make_episode, make_network, make_user
from tests.web.helpers import csrf_of, login, post_form


def next_monday(after: dt.date) -> dt.date:
    return after + dt.timedelta(days=7 - after.weekday())


@dataclass
class Booked:
    net: Network
    booked: Episode
    waiting: Episode
    apheresis: dt.date
    planner: str


def booked_network(session: Session, unique: str) -> Booked:
    """A site with two devices; one episode booked on DEV-1 (apheresis on a Monday, so every
    courier day fits), one eligible and not booked."""
    net = make_network(session, unique)
    session.add(Device(site_id=net.site.id, code="DEV-2", kind="CliniMACS Prodigy"))
    booked = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    waiting = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    coordinator = Actor(make_user(session, Role.COORDINATOR, center=net.center_a))
    apheresis = next_monday(dt.date.today())  # noqa: DTZ011 - a calendar day
    scheduling.book_slot(
        session,
        actor=coordinator,
        episode_id=booked.id,
        request=BookingRequest(apheresis_date=apheresis, device="DEV-1"),
    )
    planner = make_user(session, Role.PLANNER, site=net.site).username
    session.flush()
    return Booked(net, booked, waiting, apheresis, planner)


def active_bookings(session: Session, episode: Episode) -> list[SlotBooking]:
    return list(
        session.execute(
            select(SlotBooking).where(
                SlotBooking.episode_id == episode.id, SlotBooking.status == BookingStatus.ACTIVE
            )
        ).scalars()
    )


def count_bookings(session: Session) -> int:
    return session.execute(select(func.count(SlotBooking.id))).scalar_one()


def outage(world: Booked, first: dt.date, last: dt.date) -> dict[str, str]:
    return {
        "kind": "device_down",
        "device": f"{world.net.site.code}/DEV-1",
        "first_date": first.isoformat(),
        "last_date": last.isoformat(),
    }


def test_the_preview_shows_what_moves_and_writes_nothing(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    token = login(client, world.planner)
    before = count_bookings(session)
    run = world.apheresis + dt.timedelta(days=3)
    page = post_form(client, "/planner/replan/preview", token, outage(world, run, run))
    assert page.status_code == 200, page.text
    html = page.text
    # The booked run leaves DEV-1; the waiting episode gets a proposed slot.
    row = re.search(rf"{world.booked.chain_of_identity}.*?</tr>", html, re.S)
    assert row is not None
    assert "confirmed booking" in row.group(0)
    assert f"{world.net.site.code}/DEV-1" in row.group(0)
    assert f"{world.net.site.code}/DEV-2" in row.group(0)
    assert str(world.waiting.chain_of_identity) in html and "not booked yet" in html
    assert "Confirmed bookings that move: 1." in html
    assert count_bookings(session) == before
    assert [b.device_id for b in active_bookings(session, world.booked)] != []


def test_a_bad_event_is_refused_beside_its_field_and_nothing_is_written(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    token = login(client, world.planner)
    before = count_bookings(session)
    day = world.apheresis
    bad = outage(world, day, day - dt.timedelta(days=1))
    for url in ("/planner/replan/preview", "/planner/replan/confirm"):
        page = post_form(client, url, token, bad | {"fingerprint": "x"})
        assert page.status_code == 422
        assert 'id="last_date-error"' in page.text
        assert "the last day down is before the first" in page.text
    missing = post_form(client, "/planner/replan/preview", token, {"kind": "batch_failed"})
    assert missing.status_code == 422 and 'id="episode-error"' in missing.text
    unknown = outage(world, day, day) | {"device": "NOWHERE/DEV-9"}
    refused = post_form(client, "/planner/replan/preview", token, unknown)
    assert refused.status_code == 422 and "SCHEDULE-BAD-EVENT" in refused.text
    assert count_bookings(session) == before


def test_confirming_books_the_new_slots_through_the_booking_service(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    token = login(client, world.planner)
    # An outage long after the booked run: the booking stays; the waiting episode is booked.
    later = world.apheresis + dt.timedelta(days=60)
    event = outage(world, later, later)
    page = post_form(client, "/planner/replan/preview", token, event)
    assert "Confirmed bookings that move: 0." in page.text
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page.text)
    assert fingerprint is not None
    done = post_form(
        client, "/planner/replan/confirm", token, event | {"fingerprint": fingerprint.group(1)}
    )
    assert done.status_code == 200, done.text
    assert "1 new booking made" in done.text
    assert len(active_bookings(session, world.waiting)) == 1
    assert len(active_bookings(session, world.booked)) == 1
    session.refresh(world.waiting)
    assert world.waiting.state is EpisodeState.SLOT_BOOKED


def test_confirming_moves_the_confirmed_booking_off_the_broken_device(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    token = login(client, world.planner)
    run = world.apheresis + dt.timedelta(days=3)
    event = outage(world, run, run)
    page = post_form(client, "/planner/replan/preview", token, event)
    assert "Confirmed bookings that move: 1." in page.text
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page.text)
    assert fingerprint is not None
    done = post_form(
        client, "/planner/replan/confirm", token, event | {"fingerprint": fingerprint.group(1)}
    )
    assert done.status_code == 200, done.text
    assert "1 confirmed booking moved" in done.text
    [now_active] = active_bookings(session, world.booked)
    device = session.get(Device, now_active.device_id)
    assert device is not None and device.code == "DEV-2"
    old = session.execute(
        select(SlotBooking).where(
            SlotBooking.episode_id == world.booked.id,
            SlotBooking.status == BookingStatus.CANCELLED,
        )
    ).scalar_one()
    assert "device" in old.cancel_reason and "DEV-1" in old.cancel_reason
    session.refresh(world.booked)
    assert world.booked.state is EpisodeState.SLOT_BOOKED


def test_a_confirmed_booking_left_without_a_slot_refuses_the_whole_re_plan(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    token = login(client, world.planner)
    before = count_bookings(session)
    # DEV-2 retired and DEV-1 down for the whole horizon: the booked episode has nowhere to go.
    first = dt.date.today()  # noqa: DTZ011
    last = first + dt.timedelta(days=200)
    spare = session.execute(
        select(Device).where(Device.site_id == world.net.site.id, Device.code == "DEV-2")
    ).scalar_one()
    spare.active = False
    session.flush()
    event = outage(world, first, last)
    page = post_form(client, "/planner/replan/preview", token, event)
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page.text)
    assert fingerprint is not None
    done = post_form(
        client, "/planner/replan/confirm", token, event | {"fingerprint": fingerprint.group(1)}
    )
    assert done.status_code == 409
    assert "REPLAN-UNPLACED" in done.text
    assert count_bookings(session) == before
    assert active_bookings(session, world.waiting) == []


def test_a_stale_preview_is_shown_again_not_applied(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    token = login(client, world.planner)
    later = world.apheresis + dt.timedelta(days=60)
    before = count_bookings(session)
    done = post_form(
        client,
        "/planner/replan/confirm",
        token,
        outage(world, later, later) | {"fingerprint": "0" * 64},
    )
    assert done.status_code == 409 and "REPLAN-STALE" in done.text
    assert 'name="fingerprint"' in done.text  # the fresh preview, to confirm again
    assert count_bookings(session) == before


def test_the_page_is_for_planners_and_speaks_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    login(client, make_user(session, Role.COORDINATOR, center=world.net.center_a).username)
    assert client.get("/planner/replan").status_code == 403
    token = login(client, world.planner)
    client.cookies.set("cartflow_locale", "ru")
    page = client.get("/planner/replan")
    assert page.status_code == 200
    assert "Перепланирование" in page.text and csrf_of(page.text) == token
    day = world.apheresis
    bad = post_form(
        client, "/planner/replan/preview", token, outage(world, day, day - dt.timedelta(days=1))
    )
    assert bad.status_code == 422 and "последний день простоя раньше первого" in bad.text
