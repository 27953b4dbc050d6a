"""QC corrections and exceptions through the real app and database: a retest supersedes an
out-of-specification result, the treating physician signs an exceptional-release request, a
planner corrects a step's times; each refusal is shown beside its field and writes nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.manufacturing import steps
from cartflow.manufacturing.schemas import StepRecord
from cartflow.models.manufacturing import Batch, BatchStep, StepKind
from cartflow.models.manufacturing_qc import ExceptionalReleaseRequest, QcResult
from tests.factories import PASSWORD, make_network
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    Staff,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    start_batch,
    verify_all,
)
from tests.web.helpers import login, post_form


@dataclass
class OutOfSpec:
    staff: Staff
    batch: Batch
    failing: QcResult


def out_of_spec_batch(session: Session, unique: str) -> OutOfSpec:
    """A batch in QC whose viability (50 %) fails the ARI-0001 specification (>= 70 %)."""
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(days=1))
    batch = manufacture(session, staff, episode, received_at=received)
    results = enter_results(
        session, staff.analyst, batch, ARI_0001_LOT_01 | {"viability_percent": 50.0}
    )
    verify_all(session, staff.second_analyst, results)
    failing = next(r for r in results if r.test == "viability_percent")
    return OutOfSpec(staff, batch, failing)


def results_of(session: Session, batch: Batch) -> int:
    return session.execute(
        select(func.count(QcResult.id)).where(QcResult.batch_id == batch.id)
    ).scalar_one()


def requests_of(session: Session, batch: Batch) -> int:
    return session.execute(
        select(func.count(ExceptionalReleaseRequest.id)).where(
            ExceptionalReleaseRequest.batch_id == batch.id
        )
    ).scalar_one()


def test_a_retest_supersedes_the_result_and_a_bad_one_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    case = out_of_spec_batch(session, unique)
    token = login(client, case.staff.analyst.user.username)
    url = f"/batches/{case.batch.id}/results/{case.failing.id}/retest"
    page = client.get(url)
    assert page.status_code == 200 and "out of specification" in page.text
    before = results_of(session, case.batch)
    no_reason = post_form(client, url, token, {"value": "91"})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    assert 'value="91"' in no_reason.text
    ru = client.post(
        url, data={"value": "91", "csrf_token": token}, cookies={"cartflow_locale": "ru"}
    )
    assert ru.status_code == 422 and "Повторное испытание" in ru.text
    assert results_of(session, case.batch) == before
    done = post_form(client, url, token, {"value": "91", "reason": "sample diluted twice (OOS-7)"})
    assert done.status_code == 303, done.text
    assert results_of(session, case.batch) == before + 1
    newest = session.execute(
        select(QcResult).where(QcResult.supersedes_id == case.failing.id)
    ).scalar_one()
    assert newest.attempt == 2 and newest.within_spec


def test_the_physician_signs_an_exceptional_release_request(
    client: TestClient, session: Session, unique: str
) -> None:
    case = out_of_spec_batch(session, unique)
    token = login(client, case.staff.clinician.user.username)
    url = f"/batches/{case.batch.id}/exceptional-release"
    page = client.get(url)
    assert page.status_code == 200 and "viability" in page.text.lower()
    short = post_form(client, url, token, {"justification": "too short", "password": PASSWORD})
    assert short.status_code == 422 and 'id="justification-error"' in short.text
    why = "No alternative therapy; the disease is progressing on bridging therapy."
    wrong = post_form(client, url, token, {"justification": why, "password": "not-it"})
    assert wrong.status_code == 403 and 'id="password-error"' in wrong.text
    assert why in wrong.text and "not-it" not in wrong.text
    assert requests_of(session, case.batch) == 0
    done = post_form(client, url, token, {"justification": why, "password": PASSWORD})
    assert done.status_code == 303, done.text
    assert requests_of(session, case.batch) == 1


def test_a_planner_corrects_a_step_and_a_bad_correction_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(days=1))
    batch = start_batch(session, staff, episode, received_at=received)
    step = steps.record_step(
        session,
        actor=staff.planner,
        batch_id=batch.id,
        data=StepRecord(
            step=StepKind.ACTIVATION,
            started_at=received + dt.timedelta(hours=2),
            completed_at=received + dt.timedelta(hours=20),
        ),
    )
    token = login(client, staff.planner.user.username)
    url = f"/batches/{batch.id}/steps/{step.id}/correct"
    page = client.get(url)
    assert page.status_code == 200 and 'type="datetime-local"' in page.text

    def revisions() -> int:
        return session.execute(
            select(func.count(BatchStep.id)).where(BatchStep.batch_id == batch.id)
        ).scalar_one()

    first = revisions()
    # The form takes the site's local time.
    site_zone = zoneinfo.ZoneInfo(net.site.timezone)
    start = (received + dt.timedelta(hours=3)).astimezone(site_zone).replace(tzinfo=None)
    end = start + dt.timedelta(hours=17)
    times = {
        "started_at": start.isoformat(timespec="minutes"),
        "completed_at": end.isoformat(timespec="minutes"),
    }
    no_reason = post_form(client, url, token, times)
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    garbled = post_form(client, url, token, times | {"started_at": "yesterday", "reason": "x"})
    assert garbled.status_code == 422 and 'id="started_at-error"' in garbled.text
    assert revisions() == first
    done = post_form(client, url, token, times | {"reason": "clock of the hood was off by 1 h"})
    assert done.status_code == 303, done.text
    assert revisions() == first + 1
    corrected = session.execute(
        select(BatchStep).where(BatchStep.supersedes_id == step.id)
    ).scalar_one()
    assert corrected.started_at == received + dt.timedelta(hours=3) - dt.timedelta(
        seconds=received.second, microseconds=received.microsecond
    )
