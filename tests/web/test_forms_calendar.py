"""The coordinator's center calendar through the real app and database: booked apheresis, the
manufacturing run and the expected infusion on their days, "today" in the center's time zone,
another center's patients absent, a bad week range refused beside its field."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import EpisodeState, Role
from tests.factories import make_episode, make_user
from tests.web.helpers import login
from tests.web.test_forms_replan import booked_network


def day_row(html: str, day: dt.date) -> str:
    """The calendar row of `day` (the default English dates are ISO)."""
    match = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\"[^>]*>[^<]*{day.isoformat()}.*?</tr>", html, re.S
    )
    assert match is not None, f"no row for {day}"
    return match.group(0)


def test_the_calendar_files_each_booking_under_its_days(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    other = make_episode(
        session, world.net, state=EpisodeState.SLOT_BOOKED, center=world.net.center_b
    )
    login(client, make_user(session, Role.COORDINATOR, center=world.net.center_a).username)
    page = client.get("/coordinator/calendar", params={"weeks": "4"})
    assert page.status_code == 200, page.text
    coi = str(world.booked.chain_of_identity)
    aph = day_row(page.text, world.apheresis)
    assert coi in aph and "chair 1" in aph
    start = day_row(page.text, world.apheresis + dt.timedelta(days=1))  # one day in transit
    assert coi in start and "DEV-1 starts, 12 days" in start
    infusion = world.apheresis + dt.timedelta(days=1 + 12 + 3 + 1)
    assert coi in day_row(page.text, infusion)
    assert str(other.chain_of_identity) not in page.text
    assert page.text.count("<caption>Week of") == 4


def test_today_is_the_centers_own_calendar_day(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    # Fourteen hours ahead of UTC: for much of the UTC day, the center is already on the next day.
    world.net.center_a.timezone = "Pacific/Kiritimati"
    session.flush()
    login(client, make_user(session, Role.COORDINATOR, center=world.net.center_a).username)
    page = client.get("/coordinator/calendar")
    local = dt.datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati")).date()
    today = re.search(r'<tr aria-current="date">\s*<th[^>]*>[^<]*?(\d{4}-\d{2}-\d{2})', page.text)
    assert today is not None and today.group(1) == local.isoformat()
    assert "UTC+14" in page.text  # "now" is shown in the center's zone


def test_a_bad_week_range_is_refused_beside_its_field(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    login(client, make_user(session, Role.COORDINATOR, center=world.net.center_a).username)
    for params, name in (({"weeks": "0"}, "weeks"), ({"start": "31.02.2026"}, "start")):
        page = client.get("/coordinator/calendar", params=params)
        assert page.status_code == 422
        assert f'id="{name}-error"' in page.text and 'aria-invalid="true"' in page.text
    ru = client.get(
        "/coordinator/calendar", params={"weeks": "0"}, cookies={"cartflow_locale": "ru"}
    )
    assert ru.status_code == 422 and "Календарь центра" in ru.text


def test_the_calendar_is_for_coordinators(
    client: TestClient, session: Session, unique: str
) -> None:
    world = booked_network(session, unique)
    login(client, world.planner)
    assert client.get("/coordinator/calendar").status_code == 403
