"""The QC forms in a real browser, reached from the batch record: an analyst retests an
out-of-specification result, the treating physician signs an exceptional-release request (a
wrong password signs nothing), a planner corrects a step. A network of its own in the live
server's database leaves the shared seed untouched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models.manufacturing_qc import ExceptionalReleaseRequest, QcResult
from tests.factories import PASSWORD
from tests.web.conftest import DbReader, LiveServer
from tests.web.test_forms_browser_replan import log_in, retired_afterwards
from tests.web.test_forms_qc import OutOfSpec, out_of_spec_batch

pytestmark = pytest.mark.browser


@pytest.fixture
def case(web_database_url: str) -> Iterator[OutOfSpec]:
    with retired_afterwards(web_database_url) as engine:
        with Session(engine, expire_on_commit=False) as session:
            data = out_of_spec_batch(session, uuid.uuid4().hex[:8].upper())
            session.commit()
        yield data


def test_retest_and_exceptional_release_request_from_the_batch_record(
    page: Page, live_server: LiveServer, web_db: DbReader, case: OutOfSpec
) -> None:
    batch = f"{live_server.url}/batches/{case.batch.id}"
    log_in(page, live_server, case.staff.clinician.user.username)
    page.goto(f"{batch}/exceptional-release")
    why = "No alternative therapy; the disease is progressing on bridging therapy."
    page.get_by_label("Clinical justification").fill(why)
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_label("Your password").press("Enter")
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.get_by_label("Clinical justification")).to_have_value(why)
    requests = select(func.count(ExceptionalReleaseRequest.id)).where(
        ExceptionalReleaseRequest.batch_id == case.batch.id
    )
    assert web_db.scalar(requests) == 0
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and send the request").click()
    expect(page).to_have_url(batch)
    assert web_db.scalar(requests) == 1

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, case.staff.analyst.user.username)
    page.goto(batch)
    page.get_by_role("link", name="Retest: ").filter(has_text="iability").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("QC retest")
    page.get_by_label("New result").fill("88")
    page.get_by_label("Why the test is repeated").fill("sample diluted twice: OOS-12")
    page.get_by_role("button", name="Enter the retest").click()
    expect(page).to_have_url(batch)
    superseding = web_db.scalar(
        select(func.count(QcResult.id)).where(QcResult.supersedes_id == case.failing.id)
    )
    assert superseding == 1
