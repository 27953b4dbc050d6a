"""The center calendar in a real browser: the coordinator opens it from the worklist, finds the
booked apheresis, the manufacturing run and the expected infusion on their days, changes the
weeks shown by keyboard; readable at 768 px. A network of its own in the live server's database
leaves the shared seed untouched."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from cartflow.models import Role
from tests.factories import make_user
from tests.web.conftest import LiveServer
from tests.web.test_forms_browser_replan import log_in, retired_afterwards
from tests.web.test_forms_replan import Booked, booked_network

pytestmark = pytest.mark.browser


@pytest.fixture
def center(web_database_url: str) -> Iterator[tuple[Booked, str]]:
    with retired_afterwards(web_database_url) as engine:
        with Session(engine, expire_on_commit=False) as session:
            data = booked_network(session, uuid.uuid4().hex[:8].upper())
            coordinator = make_user(session, Role.COORDINATOR, center=data.net.center_a).username
            session.commit()
        yield data, coordinator


def test_the_coordinator_reads_the_center_calendar(
    page: Page, live_server: LiveServer, center: tuple[Booked, str], shots: Path
) -> None:
    world, coordinator = center
    coi = str(world.booked.chain_of_identity)
    log_in(page, live_server, coordinator)
    page.get_by_role("link", name="Center calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Center calendar")

    def row(day: dt.date):  # type: ignore[no-untyped-def]
        return page.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=day.isoformat())
        )

    expect(row(world.apheresis).get_by_role("cell").nth(0)).to_contain_text(coi)
    start = world.apheresis + dt.timedelta(days=1)
    expect(row(start).get_by_role("cell").nth(1)).to_contain_text("DEV-1 starts, 12 days")
    infusion = world.apheresis + dt.timedelta(days=17)
    expect(row(infusion).get_by_role("cell").nth(2)).to_contain_text(coi)
    page.screenshot(path=shots / "coordinator-calendar-1280.png", full_page=True)

    page.get_by_label("Number of weeks").fill("2")
    page.keyboard.press("Enter")
    expect(page.locator("caption")).to_have_count(2)
    page.set_viewport_size({"width": 768, "height": 1000})
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"the calendar scrolls sideways at 768 px ({scroll})"
    page.screenshot(path=shots / "coordinator-calendar-768.png", full_page=True)
