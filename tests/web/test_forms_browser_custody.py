"""The custody follow-up forms in a real browser: from the episode page, a coordinator closes a
deviation (an empty outcome is refused first), a courier imports a shipper's logger file, and the
registry analyst downloads the cohort as FHIR. A network of its own in the live server's database
leaves the shared seed untouched."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import Role
from cartflow.models.custody import CustodyDeviation, DeviationStatus
from cartflow.models.logistics_shipment import Shipment, TemperatureImport
from tests.factories import make_user
from tests.web.conftest import DbReader, LiveServer
from tests.web.test_forms_browser_replan import log_in, retired_afterwards
from tests.web.test_forms_custody import Deviated, deviated, in_transit, logger_csv

pytestmark = pytest.mark.browser


@pytest.fixture
def case(web_database_url: str) -> Iterator[tuple[Deviated, Shipment, str, str]]:
    with retired_afterwards(web_database_url) as engine:
        with Session(engine, expire_on_commit=False) as session:
            data = deviated(session, uuid.uuid4().hex[:8].upper())
            world, shipment = in_transit(session, uuid.uuid4().hex[:8].upper())
            courier = world.people.courier.user.username
            analyst = make_user(session, Role.REGISTRY_ANALYST).username
            session.commit()
        yield data, shipment, courier, analyst


def test_close_a_deviation_import_a_logger_file_and_export_fhir(
    page: Page,
    live_server: LiveServer,
    web_db: DbReader,
    case: tuple[Deviated, Shipment, str, str],
    tmp_path: Path,
) -> None:
    data, shipment, courier, analyst = case
    log_in(page, live_server, data.world.people.coordinator.user.username)
    page.goto(f"{live_server.url}/episodes/{data.world.episode.id}")
    page.get_by_role("link", name="Custody deviations").click()
    page.get_by_role("button", name="Close the deviation").click()
    # The browser's own check stops an empty outcome; the server refuses one of spaces.
    page.get_by_label("Investigation outcome").fill("   ")
    page.get_by_role("button", name="Close the deviation").click()
    expect(page.locator("#note-error")).to_be_visible()
    page.get_by_label("Investigation outcome").fill("label misprint; bag relabelled (QA-31)")
    page.get_by_label("Investigation outcome").press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("No open deviation.")).to_be_visible()
    deviation = web_db.get(CustodyDeviation, data.deviation.id)
    assert deviation is not None and deviation.status is DeviationStatus.CLOSED

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, courier)
    page.goto(f"{live_server.url}/shipments?episode={shipment.episode_id}")
    page.get_by_role("link", name=f"Temperature log {shipment.shipper_serial}").click()
    logger = tmp_path / "logger.csv"
    logger.write_bytes(logger_csv(shipment, 4.0, 4.5, 5.0))
    page.get_by_label("Logger file (CSV)").set_input_files(logger)
    page.get_by_role("button", name="Import the log").click()
    expect(page.get_by_role("cell", name="logger.csv")).to_be_visible()
    imported = select(func.count(TemperatureImport.id)).where(
        TemperatureImport.shipment_id == shipment.id
    )
    assert web_db.scalar(imported) == 1

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, analyst)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export the cohort (FHIR R4 bundle, pseudonymous)").click()
    bundle = json.loads(Path(download.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
