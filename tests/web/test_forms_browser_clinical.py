"""The counts-and-outcomes page in a real browser: the clinician opens it from the ward, records a
blood count by keyboard, and a refused value is shown beside its field with nothing written."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import Episode
from cartflow.models.clinical_toxicity import BloodCount
from tests.web.conftest import DbReader, LiveServer
from tests.web.test_forms_browser_replan import log_in, retired_afterwards
from tests.web.test_forms_clinical_results import infused

pytestmark = pytest.mark.browser


@pytest.fixture
def patient(web_database_url: str) -> Iterator[tuple[Episode, str]]:
    with retired_afterwards(web_database_url) as engine:
        with Session(engine, expire_on_commit=False) as session:
            data = infused(session, uuid.uuid4().hex[:8].upper())
            session.commit()
        yield data


def test_the_clinician_records_a_blood_count(
    page: Page, live_server: LiveServer, web_db: DbReader, patient: tuple[Episode, str]
) -> None:
    episode, clinician = patient
    log_in(page, live_server, clinician)
    page.get_by_role("link", name="Counts and outcomes").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Counts and outcomes")
    today = dt.date.today().isoformat()  # noqa: DTZ011 - a calendar day

    def counts() -> int:
        return int(
            web_db.scalar(
                select(func.count(BloodCount.id)).where(BloodCount.episode_id == episode.id)
            )
        )

    page.get_by_label("Sampled on").fill(today)
    page.get_by_label("ANC, /µL").fill("-1")
    page.get_by_label("ANC, /µL").evaluate("e => e.removeAttribute('min')")
    page.get_by_role("button", name="Record the count").click()
    expect(page.locator("#anc_per_ul-error")).to_be_visible()
    assert counts() == 0

    page.get_by_label("ANC, /µL").fill("450")
    page.get_by_label("Platelets, ×10⁹/L").fill("25")
    page.get_by_label("Platelet transfusion that day").check()
    page.get_by_label("Platelets, ×10⁹/L").press("Enter")
    expect(page.get_by_role("row").filter(has_text="450")).to_contain_text("yes")
    assert counts() == 1

    # The remission assessment: the service classifies it, the page shows its category.
    page.get_by_label("Assessed on").fill(today)
    page.get_by_label("Marrow blasts, %").fill("2")
    page.get_by_label("ANC at assessment, ×10⁹/L").fill("1.1")
    page.get_by_label("Platelets at assessment, ×10⁹/L").fill("140")
    page.get_by_label("Transfusion independent").check()
    page.get_by_role("button", name="Record the response").click()
    expect(page.get_by_role("row").filter(has_text="complete remission")).to_be_visible()
