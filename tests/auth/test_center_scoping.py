"""Each center sees only its own patients: for every endpoint that returns patient or episode data,
a user of another center gets 404 (never 403: the record's existence is not revealed) and lists
leave the record out."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import Role
from tests.factories import Network, auth, make_network, make_patient, make_user


@pytest.fixture
def two_centers(client: TestClient, session: Session, unique: str) -> tuple[Network, str, str]:
    net = make_network(session, unique)
    coordinator_a = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    patient = make_patient(session, net.center_a)
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": str(patient.id),
            "product": net.product.code,
            "earliest_apheresis_date": str(dt.date.today() + dt.timedelta(days=3)),  # noqa: DTZ011
        },
        headers=coordinator_a,
    )
    assert response.status_code == 201, response.text
    return net, str(patient.id), response.json()["id"]


READS = [
    "/api/v1/patients/{patient}",
    "/api/v1/episodes/{episode}",
    "/api/v1/episodes/{episode}/history",
    "/api/v1/episodes/{episode}/transitions",
]


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.APHERESIS_NURSE, Role.CLINICIAN])
@pytest.mark.parametrize("template", READS)
def test_other_center_reads_404(
    client: TestClient,
    session: Session,
    two_centers: tuple[Network, str, str],
    role: Role,
    template: str,
) -> None:
    net, patient_id, episode_id = two_centers
    other = auth(session, make_user(session, role, center=net.center_b))
    response = client.get(template.format(patient=patient_id, episode=episode_id), headers=other)
    assert response.status_code == 404, response.text
    # The same user's own center still works, so the 404 is the scope, not a broken route.
    own = auth(session, make_user(session, role, center=net.center_a))
    assert (
        client.get(template.format(patient=patient_id, episode=episode_id), headers=own).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("PATCH", "/api/v1/patients/{patient}", {"weight_kg": 50, "reason": "reweighed"}),
        ("POST", "/api/v1/episodes/{episode}/transitions", {"transition": "confirm_eligibility"}),
        (
            "POST",
            "/api/v1/episodes/{episode}/transitions",
            {"transition": "withdraw", "withdrawal_reason": "death"},
        ),
    ],
)
def test_other_center_writes_404_and_change_nothing(
    client: TestClient,
    session: Session,
    two_centers: tuple[Network, str, str],
    method: str,
    template: str,
    body: dict[str, object],
) -> None:
    net, patient_id, episode_id = two_centers
    for role in (Role.COORDINATOR, Role.CLINICIAN):
        other = auth(session, make_user(session, role, center=net.center_b))
        response = client.request(
            method,
            template.format(patient=patient_id, episode=episode_id),
            json=body,
            headers=other,
        )
        assert response.status_code == 404, response.text
    own = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    episode = client.get(f"/api/v1/episodes/{episode_id}", headers=own).json()
    assert episode["state"] == "referred" and episode["version"] == 1
    patient = client.get(f"/api/v1/patients/{patient_id}", headers=own).json()
    assert patient["weight_kg"] == 40.0


def test_other_center_cannot_refer_the_patient(
    client: TestClient, session: Session, two_centers: tuple[Network, str, str]
) -> None:
    net, patient_id, _ = two_centers
    other = auth(session, make_user(session, Role.COORDINATOR, center=net.center_b))
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": patient_id,
            "product": net.product.code,
            "earliest_apheresis_date": "2030-01-01",
        },
        headers=other,
    )
    assert response.status_code == 404


def test_lists_leave_out_other_centers(
    client: TestClient, session: Session, two_centers: tuple[Network, str, str]
) -> None:
    net, patient_id, episode_id = two_centers
    other = auth(session, make_user(session, Role.COORDINATOR, center=net.center_b))
    own = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    for url, key in (
        ("/api/v1/patients?limit=200", patient_id),
        ("/api/v1/episodes?limit=200", episode_id),
    ):
        theirs = {item["id"] for item in client.get(url, headers=other).json()["items"]}
        ours = {item["id"] for item in client.get(url, headers=own).json()["items"]}
        assert key not in theirs
        assert key in ours
    by_filter = client.get(f"/api/v1/episodes?patient_id={patient_id}", headers=other).json()
    assert by_filter["total"] == 0


def test_site_staff_see_their_sites_episodes_but_no_patient_records(
    client: TestClient, session: Session, two_centers: tuple[Network, str, str], unique: str
) -> None:
    net, patient_id, episode_id = two_centers
    planner = auth(session, make_user(session, Role.PLANNER, site=net.site))
    body = client.get(f"/api/v1/episodes/{episode_id}", headers=planner).json()
    assert body["id"] == episode_id and "family_name" not in body
    assert client.get(f"/api/v1/patients/{patient_id}", headers=planner).status_code == 403
    other_site = make_network(session, unique[::-1])
    stranger = auth(session, make_user(session, Role.PLANNER, site=other_site.site))
    assert client.get(f"/api/v1/episodes/{episode_id}", headers=stranger).status_code == 404


def test_network_admin_reads_no_patient_data(
    client: TestClient, session: Session, two_centers: tuple[Network, str, str]
) -> None:
    _, patient_id, episode_id = two_centers
    admin = auth(session, make_user(session, Role.ADMIN))
    assert client.get(f"/api/v1/patients/{patient_id}", headers=admin).status_code == 403
    assert client.get("/api/v1/patients", headers=admin).status_code == 403
    assert client.get(f"/api/v1/episodes/{episode_id}", headers=admin).status_code == 403


def test_anonymous_requests_are_401(
    client: TestClient, two_centers: tuple[Network, str, str]
) -> None:
    _, patient_id, episode_id = two_centers
    for url in (
        f"/api/v1/patients/{patient_id}",
        f"/api/v1/episodes/{episode_id}",
        "/api/v1/episodes",
    ):
        response = client.get(url)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
