"""The pages through the real app and database (no browser): who may open what, forms that go
through the services, refusals shown with their rule, and nothing written by a refused action."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import Episode, EpisodeState, Patient, Role, User
from cartflow.models.manufacturing import BatchState
from cartflow.models.scheduling import SlotBooking
from cartflow.models.signature import ElectronicSignature
from tests.factories import PASSWORD, make_episode, make_network, make_user
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    verify_all,
)
from tests.web.helpers import login, post_form

PAGES_BY_ROLE = {
    "/coordinator": Role.COORDINATOR,
    "/nurse": Role.APHERESIS_NURSE,
    "/planner": Role.PLANNER,
    "/qc": Role.QC_ANALYST,
    "/qp": Role.QUALIFIED_PERSON,
    "/courier": Role.COURIER,
    "/clinician": Role.CLINICIAN,
    "/registry": Role.REGISTRY_ANALYST,
    "/admin": Role.ADMIN,
}


@pytest.mark.parametrize("path", sorted(PAGES_BY_ROLE))
def test_a_worklist_of_another_role_is_refused_with_403(
    client: TestClient, session: Session, unique: str, path: str
) -> None:
    net = make_network(session, unique)
    # A coordinator for every page but the coordinator's, which a nurse tries instead.
    role = Role.APHERESIS_NURSE if path == "/coordinator" else Role.COORDINATOR
    login(client, make_user(session, role, center=net.center_a).username)
    response = client.get(path)
    assert response.status_code == 403
    assert "Not allowed" in response.text and "text/html" in response.headers["content-type"]


def test_the_episode_of_another_center_is_not_found_and_names_no_one(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, center=net.center_b)
    login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    response = client.get(f"/episodes/{episode.id}")
    assert response.status_code == 404
    assert episode.chain_of_identity not in response.text


def test_site_staff_see_the_episode_under_its_pseudonym_only(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.APHERESIS_COLLECTED)
    episode.patient.family_name = "Иванова"
    session.flush()
    login(client, make_user(session, Role.PLANNER, site=net.site).username)
    page = client.get(f"/episodes/{episode.id}")
    assert page.status_code == 200
    assert episode.patient.pseudonym in page.text
    assert "Иванова" not in page.text and episode.patient.mrn not in page.text


def test_a_coordinator_registers_and_refers_a_patient_through_the_forms(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    mrn = f"MRN-{unique}"
    fields = {
        "mrn": mrn,
        "family_name": "Петрова",
        "given_name": "Анна",
        "date_of_birth": "2014-03-02",
        "sex": "female",
        "weight_kg": "38.5",
        "height_cm": "145",
        "diagnosis": "B-ALL",
        "disease_status": "relapsed",
        "prior_lines_of_therapy": "2",
    }
    assert post_form(client, "/coordinator/patients", token, fields).status_code == 303
    patient = session.execute(select(Patient).where(Patient.mrn == mrn)).scalar_one()
    # The same MRN again: refused by the service's rule, shown beside the field.
    again = post_form(client, "/coordinator/patients", token, fields)
    assert again.status_code == 409 and "PATIENT-MRN-EXISTS" in again.text
    referral = post_form(
        client,
        f"/coordinator/patients/{patient.id}/refer",
        token,
        {
            "product": net.product.code,
            "earliest_apheresis_date": dt.datetime.now(dt.UTC).date().isoformat(),
        },
    )
    assert referral.status_code == 303
    episode = session.execute(select(Episode).where(Episode.patient_id == patient.id)).scalar_one()
    assert referral.headers["location"] == f"/episodes/{episode.id}"
    assert episode.state is EpisodeState.REFERRED


def test_a_malformed_registration_names_the_field_and_writes_nothing(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    response = post_form(
        client,
        "/coordinator/patients",
        token,
        {
            "mrn": f"X-{unique}",
            "date_of_birth": "2014-03-02",
            "sex": "female",
            "weight_kg": "-3",
            "height_cm": "145",
            "diagnosis": "B-ALL",
            "disease_status": "relapsed",
        },
    )
    assert response.status_code == 422
    assert 'id="weight_kg-error"' in response.text
    assert session.execute(select(Patient).where(Patient.mrn == f"X-{unique}")).first() is None


def test_a_step_without_its_required_reason_is_refused_with_the_rule(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.FOLLOW_UP)
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    refused = post_form(client, f"/episodes/{episode.id}/transitions/close", token, {})
    assert refused.status_code == 409 and "REASON-001" in refused.text
    assert episode.state is EpisodeState.FOLLOW_UP
    done = post_form(
        client, f"/episodes/{episode.id}/transitions/close", token, {"reason": "completed"}
    )
    assert done.status_code == 303
    session.refresh(episode)
    assert episode.state is EpisodeState.CLOSED


def test_a_step_owned_by_a_domain_cannot_be_taken_through_the_generic_form(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.SHIPPED)
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    response = post_form(client, f"/episodes/{episode.id}/transitions/receive", token, {})
    assert response.status_code == 409 and "STATE-002" in response.text
    # The episode page sends the coordinator to the scan station instead.
    page = client.get(f"/episodes/{episode.id}")
    assert f"/scan?episode={episode.id}&amp;step=center_receipt" in page.text


def test_a_coordinator_books_the_slot_on_the_booking_page(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    past = post_form(
        client,
        f"/episodes/{episode.id}/booking",
        token,
        {
            "apheresis_date": (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat(),
            "device": "DEV-1",
        },
    )
    assert past.status_code == 409
    assert (
        session.execute(
            select(func.count(SlotBooking.id)).where(SlotBooking.episode_id == episode.id)
        ).scalar_one()
        == 0
    )
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    booked = post_form(
        client,
        f"/episodes/{episode.id}/booking",
        token,
        {"apheresis_date": day.isoformat(), "device": "DEV-1"},
    )
    assert booked.status_code == 303, booked.text
    session.refresh(episode)
    assert episode.state is EpisodeState.SLOT_BOOKED and episode.planned_apheresis_date == day
    assert "Booked: apheresis on" in client.get(f"/episodes/{episode.id}/booking").text


def test_the_nurse_prints_the_collection_bag_label(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.SLOT_BOOKED)
    login(client, make_user(session, Role.APHERESIS_NURSE, center=net.center_a).username)
    worklist = client.get("/nurse")
    assert episode.chain_of_identity in worklist.text
    label = client.get(f"/nurse/episodes/{episode.id}/collection-label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")


def test_the_live_grade_partial_grades_what_the_form_holds(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.INFUSED)
    token = login(client, make_user(session, Role.CLINICIAN, center=net.center_a).username)
    # ASTCT (Lee 2019): fever with hypotension needing one vasopressor is CRS grade 3.
    response = client.post(
        f"/clinician/episodes/{episode.id}/toxicity/grade",
        data={
            "temperature_c": "38.4",
            "hypotension": "one_vasopressor",
            "oxygen": "none",
            "consciousness": "alert",
            "seizure": "none",
            "cerebral_edema": "none",
        },
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="crs-grade" data-grade="3"' in response.text
    assert 'id="icans-grade" data-grade="0"' in response.text


def test_the_registry_export_is_pseudonymous(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.INFUSED)
    login(client, make_user(session, Role.REGISTRY_ANALYST).username)
    csv = client.get(f"/registry/cohort.csv?product={net.product.code}")
    assert csv.status_code == 200
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("chain_of_identity,pseudonym")
    assert len(lines) == 2 and episode.patient.pseudonym in lines[1] and "infused" in lines[1]
    assert episode.patient.mrn not in csv.text and episode.patient.family_name not in csv.text
    plot = client.get(f"/registry/plot.svg?product={net.product.code}&kind=km")
    assert plot.status_code == 200 and plot.text.lstrip().startswith("<?xml")


def test_an_admin_adds_a_site_and_a_non_admin_cannot(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    fields = {
        "code": f"S-{unique}",
        "name": "Site",
        "city": "Kazan",
        "facility_identification_number": "B" + unique[:4],
        "qc_release_capacity_per_day": "2",
        "devices": "PR-1 CliniMACS Prodigy",
    }
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    assert post_form(client, "/admin/sites", token, fields).status_code == 403
    token = login(client, make_user(session, Role.ADMIN).username)
    assert post_form(client, "/admin/sites", token, fields).status_code == 303
    assert f"S-{unique}" in client.get("/admin").text


def test_a_wrong_password_at_signing_signs_nothing_and_counts_towards_the_lock_out(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(days=1))
    batch = manufacture(session, staff, episode, received_at=received)
    verify_all(
        session, staff.second_analyst, enter_results(session, staff.analyst, batch, ARI_0001_LOT_01)
    )
    qp = staff.qp.user
    token = login(client, qp.username)
    refused = post_form(
        client, f"/batches/{batch.id}/sign/release", token, {"password": "not-the-password"}
    )
    assert refused.status_code == 403 and 'id="password-error"' in refused.text
    assert (
        session.execute(
            select(func.count(ElectronicSignature.id)).where(ElectronicSignature.signer_id == qp.id)
        ).scalar_one()
        == 0
    )
    session.expire_all()
    assert session.get(User, qp.id).failed_logins == 1  # type: ignore[union-attr]
    signed = post_form(client, f"/batches/{batch.id}/sign/release", token, {"password": PASSWORD})
    assert signed.status_code == 303
    session.refresh(batch)
    assert batch.state is BatchState.RELEASED


def test_an_analyst_cannot_verify_their_own_result(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(days=1))
    batch = manufacture(session, staff, episode, received_at=received)
    token = login(client, staff.analyst.user.username)
    entered = post_form(
        client, f"/batches/{batch.id}/results", token, {"test": "viability_percent", "value": "91"}
    )
    assert entered.status_code == 303
    page = client.get(f"/batches/{batch.id}")
    assert "awaiting a second analyst" in page.text
    result = next(r for r in batch_results(session, batch.id))
    refused = post_form(client, f"/batches/{batch.id}/results/{result.id}/verify", token, {})
    assert refused.status_code == 409
    session.refresh(result)
    assert result.verified_by_id is None


def batch_results(session: Session, batch_id: object) -> list:  # type: ignore[type-arg]
    from cartflow.manufacturing.records import batch_results as results

    return results(session, batch_id)  # type: ignore[arg-type]
