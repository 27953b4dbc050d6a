"""The re-plan page in a real browser: the planner names a device outage by keyboard, sees what
moves, and confirms from the keyboard: the confirmed booking moves off the broken device;
readable at 768 px. The test builds a network of its own in the live server's database,
so the shared seed is untouched."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from cartflow.db.engine import make_engine
from cartflow.models import Device, ManufacturingSite, Product, TreatmentCenter
from cartflow.models.scheduling import BookingStatus, SlotBooking
from tests.factories import PASSWORD
from tests.web.conftest import DbReader, LiveServer
from tests.web.test_forms_replan import Booked, booked_network

pytestmark = pytest.mark.browser


@contextmanager
def retired_afterwards(url: str) -> Iterator[Engine]:
    """An engine on the live server's database to build the test's own network with; afterwards
    the products, sites and centers the test added are retired (inactive), so the tests that
    follow see the shared seed's catalogue as it was (the walk-through refers a patient to the
    first active product)."""
    engine = make_engine(url)
    kinds: tuple[type[Product] | type[ManufacturingSite] | type[TreatmentCenter], ...] = (
        Product,
        ManufacturingSite,
        TreatmentCenter,
    )
    with Session(engine) as session:
        before = {kind: set(session.execute(select(kind.id)).scalars()) for kind in kinds}
    try:
        yield engine
    finally:
        with Session(engine) as session:
            for kind in kinds:
                session.execute(
                    update(kind).where(kind.id.not_in(before[kind])).values(active=False)
                )
            session.commit()
        engine.dispose()


@pytest.fixture
def world(web_database_url: str) -> Iterator[Booked]:
    with retired_afterwards(web_database_url) as engine:
        with Session(engine, expire_on_commit=False) as session:
            data = booked_network(session, uuid.uuid4().hex[:8].upper())
            session.commit()
        yield data


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def active(db: DbReader, world: Booked) -> int:
    ids = [world.booked.id, world.waiting.id]
    return int(
        db.scalar(
            select(func.count(SlotBooking.id)).where(
                SlotBooking.episode_id.in_(ids), SlotBooking.status == BookingStatus.ACTIVE
            )
        )
    )


def describe_outage(page: Page, world: Booked, first: dt.date, last: dt.date) -> None:
    page.get_by_label("A device is down").check()
    page.get_by_label("Device that is down").select_option(f"{world.net.site.code}/DEV-1")
    page.get_by_label("First day down").fill(first.isoformat())
    page.get_by_label("Last day down").fill(last.isoformat())
    # The form is submitted from the keyboard.
    page.get_by_label("Last day down").press("Enter")


def test_the_planner_previews_a_device_outage_and_confirms_a_re_plan(
    page: Page, live_server: LiveServer, web_db: DbReader, world: Booked, shots: Path
) -> None:
    log_in(page, live_server, world.planner)
    page.get_by_role("link", name="Re-plan after a device outage or a failed batch").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Re-plan")

    run = world.apheresis + dt.timedelta(days=3)
    describe_outage(page, world, run, run)
    moves = page.get_by_role("table")
    assert world.booked.chain_of_identity and world.waiting.chain_of_identity
    moved = moves.get_by_role("row").filter(has_text=world.booked.chain_of_identity)
    expect(moved).to_contain_text("confirmed booking")
    expect(moved.get_by_role("cell").nth(1)).to_contain_text(f"{world.net.site.code}/DEV-1")
    expect(moved.get_by_role("cell").nth(2)).to_contain_text(f"{world.net.site.code}/DEV-2")
    expect(page.get_by_text("Confirmed bookings that move: 1.")).to_be_visible()
    page.screenshot(path=shots / "planner-replan-1280.png", full_page=True)
    page.set_viewport_size({"width": 768, "height": 1000})
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"the re-plan preview scrolls sideways at 768 px ({scroll})"
    page.screenshot(path=shots / "planner-replan-768.png", full_page=True)

    # Confirmed from the keyboard: the booking moves off the broken device, the old one is kept
    # cancelled with the outage as its reason.
    page.get_by_role("button", name="Confirm the re-plan").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("1 confirmed booking moved")
    moved_to = web_db.scalar(
        select(Device.code)
        .join(SlotBooking, SlotBooking.device_id == Device.id)
        .where(
            SlotBooking.episode_id == world.booked.id,
            SlotBooking.status == BookingStatus.ACTIVE,
        )
    )
    assert moved_to == "DEV-2"
    assert active(web_db, world) >= 1
