"""A record's history over HTTP: events with actor, roles, time, action, reason and before/after;
earlier versions; signatures with their validity. Scoped like the record itself."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.audit.corrections import default_content
from cartflow.audit.signatures import sign
from cartflow.auth.actor import Actor
from cartflow.models import ElectronicSignature, EpisodeState, Patient, Role
from tests.auth.factories import center_admin, network_admin
from tests.factories import PASSWORD, auth, make_episode, make_network, make_patient, make_user


def _history(
    client: TestClient, kind: str, record_id: object, headers: dict[str, str]
) -> httpx.Response:
    response: httpx.Response = client.get(f"/api/v1/audit/{kind}/{record_id}", headers=headers)
    return response


def test_patient_correction_keeps_previous_values_readable(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    headers = auth(session, coordinator)
    patched = client.patch(
        f"/api/v1/patients/{patient.id}",
        json={"weight_kg": 38.5, "reason": "weighed on the ward scale"},
        headers=headers,
    )
    assert patched.status_code == 200 and patched.json()["weight_kg"] == 38.5

    response = client.get(f"/api/v1/audit/patient/{patient.id}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    event = body["events"][-1]
    assert event["action"] == "correct" and event["reason"] == "weighed on the ward scale"
    assert event["before"] == {"weight_kg": 40.0}
    assert event["after"]["weight_kg"] == 38.5
    assert event["actor_username"] == coordinator.username
    assert event["actor_roles"] == [f"coordinator@center:{net.center_a.id}"]
    assert event["occurred_at"].endswith("Z") or event["occurred_at"].endswith("+00:00")
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][0]["content"]["weight_kg"] == 40.0
    assert body["versions"][1]["content"]["weight_kg"] == 38.5


def test_patient_history_is_scoped_like_the_patient(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    other_center = auth(session, make_user(session, Role.COORDINATOR, center=net.center_b))
    assert _history(client, "patient", patient.id, other_center).status_code == 404
    planner = auth(session, make_user(session, Role.PLANNER, site=net.site))
    assert _history(client, "patient", patient.id, planner).status_code == 403
    admin = auth(session, network_admin(session))
    assert _history(client, "patient", patient.id, admin).status_code == 403
    nurse = auth(session, make_user(session, Role.APHERESIS_NURSE, center=net.center_a))
    assert _history(client, "patient", patient.id, nurse).status_code == 200


def test_episode_history_follows_episode_scope(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    own = auth(session, make_user(session, Role.CLINICIAN, center=net.center_a))
    body = _history(client, "episode", episode.id, own).json()
    assert [e["action"] for e in body["events"]] == ["refer", "confirm_eligibility"]
    assert body["events"][1]["before"]["state"] == "referred"
    assert body["events"][1]["after"]["state"] == "eligible"
    # Site staff read the episodes made at their site (pseudonymous), not other sites'.
    site_qc = auth(session, make_user(session, Role.QC_ANALYST, site=net.site))
    assert _history(client, "episode", episode.id, site_qc).status_code == 200
    other = auth(session, make_user(session, Role.CLINICIAN, center=net.center_b))
    assert _history(client, "episode", episode.id, other).status_code == 404
    admin = auth(session, network_admin(session))
    assert _history(client, "episode", episode.id, admin).status_code == 403
    missing = _history(client, "episode", uuid.uuid4(), own)
    assert missing.status_code == 404


def test_reference_data_and_users_are_for_admins(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    admin = auth(session, network_admin(session))
    created = client.post(
        "/api/v1/users",
        json={
            "username": f"c-{unique.lower()}",
            "full_name": "A Courier",
            "password": "a-good-long-password",
            "roles": [{"role": "courier"}],
        },
        headers=admin,
    )
    user_id = created.json()["id"]
    events = _history(client, "user", user_id, admin).json()["events"]
    assert [e["action"] for e in events] == ["create"]
    assert "password_hash" not in events[0]["after"]
    local = auth(session, center_admin(session, net.center_a))
    assert _history(client, "user", user_id, local).status_code == 403
    assert _history(client, "product", net.product.id, local).status_code == 200
    coordinator = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    assert _history(client, "product", net.product.id, coordinator).status_code == 403
    assert _history(client, "product", uuid.uuid4(), admin).status_code == 404


@pytest.mark.parametrize(
    ("kind", "record_id", "status"),
    [
        ("batch_of_cookies", "2c5e8a0e-6a59-4c5f-9d8e-0f3b6f1a7c11", 404),
        ("patient", "not-a-uuid", 422),
    ],
)
def test_unknown_type_404_and_malformed_id_422(
    client: TestClient, session: Session, kind: str, record_id: str, status: int
) -> None:
    headers = auth(session, network_admin(session))
    assert _history(client, kind, record_id, headers).status_code == status


def _sign_patient(session: Session, actor: Actor, patient: Patient) -> ElectronicSignature:
    return sign(
        session,
        actor=actor,
        password=PASSWORD,
        meaning="Reviewed",
        record_type="patient",
        record_id=patient.id,
        record_content=default_content(patient),
    )


def test_signatures_show_validity_and_the_version_they_signed(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    clinician = make_user(session, Role.CLINICIAN, center=net.center_a)
    headers = auth(session, clinician)
    _sign_patient(session, Actor(clinician), patient)
    signed = _history(client, "patient", patient.id, headers).json()["signatures"]
    assert len(signed) == 1 and signed[0]["valid"] is True
    assert signed[0]["signer_printed_name"] == clinician.full_name
    assert signed[0]["meaning"] == "Reviewed"

    client.patch(
        f"/api/v1/patients/{patient.id}",
        json={"disease_status": "refractory", "reason": "restaged"},
        headers=headers,
    )
    after = _history(client, "patient", patient.id, headers).json()["signatures"]
    # The record changed: the signature no longer verifies on it, but still shows which
    # version it signed (version 1, the content before the correction).
    assert after[0]["valid"] is False and after[0]["signed_version"] == 1


def test_a_signature_replayed_on_another_record_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    first, second = make_patient(session, net.center_a), make_patient(session, net.center_a)
    clinician = make_user(session, Role.CLINICIAN, center=net.center_a)
    original = _sign_patient(session, Actor(clinician), first)
    # Someone with database access copies the signature row onto another patient.
    session.add(
        ElectronicSignature(
            signer_id=original.signer_id,
            signer_username=original.signer_username,
            signer_printed_name=original.signer_printed_name,
            meaning=original.meaning,
            signed_at=original.signed_at,
            record_type="patient",
            record_id=str(second.id),
            record_sha256=original.record_sha256,
            signature_sha256="f" * 64,
        )
    )
    session.flush()
    headers = auth(session, clinician)
    copied = _history(client, "patient", second.id, headers).json()["signatures"]
    assert [s["valid"] for s in copied] == [False]
    kept = _history(client, "patient", first.id, headers).json()["signatures"]
    assert [s["valid"] for s in kept] == [True]


def test_chain_verification_is_for_admins(client: TestClient, session: Session) -> None:
    admin = auth(session, network_admin(session))
    result = client.get("/api/v1/audit/verify", headers=admin)
    assert result.status_code == 200, result.text
    assert result.json()["ok"] is True and result.json()["verified"] >= 0
    courier = auth(session, make_user(session, Role.COURIER))
    assert client.get("/api/v1/audit/verify", headers=courier).status_code == 403
