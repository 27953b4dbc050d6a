"""The vein-to-vein path through the real HTTP API: every step, the rules that refuse a step, and
the audit event each step writes."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.service import verify_audit_trail
from cartflow.identity.isbt128 import ChainOfIdentityId
from cartflow.models import AuditEvent, Diagnosis, EpisodeStateChange, Role
from tests.factories import Network, auth, make_network, make_patient, make_user


def _refer(
    client: TestClient, session: Session, net: Network, **patient_kw: object
) -> tuple[str, dict[str, str]]:
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    headers = auth(session, coordinator)
    patient = make_patient(session, net.center_a, **patient_kw)  # type: ignore[arg-type]
    today = dt.date.today()  # noqa: DTZ011
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": str(patient.id),
            "product": net.product.code,
            "priority": 7,
            "earliest_apheresis_date": str(today + dt.timedelta(days=3)),
            "latest_infusion_date": str(today + dt.timedelta(days=60)),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], headers


def _move(
    client: TestClient, episode_id: str, headers: dict[str, str], transition: str, **extra: object
) -> dict[str, object]:
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": transition, **extra},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_episode_walks_the_whole_path_and_every_step_is_audited(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    episode = client.get(f"/api/v1/episodes/{episode_id}", headers=coordinator).json()
    assert episode["state"] == "referred"
    assert episode["chain_of_identity"].startswith("CH" + net.site.facility_identification_number)
    assert len(episode["chain_of_identity"]) == 15
    assert (
        ChainOfIdentityId.parse(episode["chain_of_identity"]).check_character
        == (episode["chain_of_identity_check_character"])
    )

    people = {
        Role.CLINICIAN: auth(session, make_user(session, Role.CLINICIAN, center=net.center_a)),
        Role.APHERESIS_NURSE: auth(
            session, make_user(session, Role.APHERESIS_NURSE, center=net.center_a)
        ),
        Role.PLANNER: auth(session, make_user(session, Role.PLANNER, site=net.site)),
        Role.QC_ANALYST: auth(session, make_user(session, Role.QC_ANALYST, site=net.site)),
        Role.QUALIFIED_PERSON: auth(
            session, make_user(session, Role.QUALIFIED_PERSON, site=net.site)
        ),
        Role.COURIER: auth(session, make_user(session, Role.COURIER)),
        Role.COORDINATOR: coordinator,
    }
    today = dt.date.today()  # noqa: DTZ011
    steps = [
        ("confirm_eligibility", Role.CLINICIAN, {}, "eligible"),
        (
            "book_slot",
            Role.COORDINATOR,
            {"planned_apheresis_date": str(today + dt.timedelta(days=5))},
            "slot_booked",
        ),
        ("record_apheresis", Role.APHERESIS_NURSE, {}, "apheresis_collected"),
        ("start_manufacturing", Role.PLANNER, {}, "in_manufacturing"),
        ("submit_for_qc", Role.QC_ANALYST, {}, "qc"),
        ("release", Role.QUALIFIED_PERSON, {}, "released"),
        ("ship", Role.COURIER, {}, "shipped"),
        ("receive", Role.COORDINATOR, {}, "received"),
        ("start_lymphodepletion", Role.CLINICIAN, {}, "lymphodepletion"),
        ("infuse", Role.CLINICIAN, {}, "infused"),
        ("start_follow_up", Role.CLINICIAN, {}, "follow_up"),
        ("close", Role.COORDINATOR, {"reason": "completed follow-up"}, "closed"),
    ]
    for transition, role, extra, expected in steps:
        body = _move(client, episode_id, people[role], transition, **extra)
        assert body["state"] == expected, transition

    history = client.get(f"/api/v1/episodes/{episode_id}/history", headers=coordinator).json()
    assert [h["transition"] for h in history] == [s[0] for s in steps]
    events = (
        session.execute(
            select(AuditEvent).where(AuditEvent.record_id == episode_id).order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [e.action for e in events] == ["refer"] + [s[0] for s in steps]
    assert events[1].before == {
        "state": "referred",
        "state_changed_at": events[1].before["state_changed_at"],
        "version": 1,
    }
    assert events[1].after is not None and events[1].after["state"] == "eligible"
    assert verify_audit_trail(session).ok


def test_illegal_transition_is_409_naming_the_rule(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, _coordinator = _refer(client, session, net)
    courier = auth(session, make_user(session, Role.COURIER))
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions", json={"transition": "ship"}, headers=courier
    )
    assert response.status_code == 409
    assert response.json()["code"] == "STATE-001"
    assert "'ship' is allowed only from released" in response.json()["message"]
    # Nothing was written by the refused step.
    assert (
        session.execute(
            select(EpisodeStateChange).where(EpisodeStateChange.episode_id == uuid.UUID(episode_id))
        ).first()
        is None
    )


def test_unknown_transition_names_the_field(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "teleport"},
        headers=coordinator,
    )
    assert response.status_code == 404
    assert response.json()["field"] == "transition"


def test_eligibility_guard_checks_the_indication(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    clinician = auth(session, make_user(session, Role.CLINICIAN, center=net.center_a))
    # B-ALL indication is 3-25 years; a 40-year-old is outside it.
    too_old, _ = _refer(client, session, net, age_years=40)
    response = client.post(
        f"/api/v1/episodes/{too_old}/transitions",
        json={"transition": "confirm_eligibility"},
        headers=clinician,
    )
    assert response.status_code == 409 and response.json()["code"] == "ELIG-002"
    # DLBCL needs two prior lines.
    early, _ = _refer(client, session, net, diagnosis=Diagnosis.DLBCL, age_years=50, prior_lines=1)
    response = client.post(
        f"/api/v1/episodes/{early}/transitions",
        json={"transition": "confirm_eligibility"},
        headers=clinician,
    )
    assert response.status_code == 409 and response.json()["code"] == "ELIG-003"
    # Myeloma is not an indication of the product.
    myeloma, _ = _refer(client, session, net, diagnosis=Diagnosis.MULTIPLE_MYELOMA, age_years=60)
    response = client.post(
        f"/api/v1/episodes/{myeloma}/transitions",
        json={"transition": "confirm_eligibility"},
        headers=clinician,
    )
    assert response.status_code == 409 and response.json()["code"] == "ELIG-001"


def test_booking_needs_a_date_within_the_window(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    clinician = auth(session, make_user(session, Role.CLINICIAN, center=net.center_a))
    _move(client, episode_id, clinician, "confirm_eligibility")
    url = f"/api/v1/episodes/{episode_id}/transitions"
    missing = client.post(url, json={"transition": "book_slot"}, headers=coordinator)
    assert missing.status_code == 409 and missing.json()["code"] == "BOOK-001"
    early = client.post(
        url,
        json={"transition": "book_slot", "planned_apheresis_date": str(dt.date.today())},  # noqa: DTZ011
        headers=coordinator,
    )
    assert early.status_code == 409 and early.json()["code"] == "BOOK-002"


def test_withdrawal_needs_a_reason_and_is_terminal(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    url = f"/api/v1/episodes/{episode_id}/transitions"
    refused = client.post(url, json={"transition": "withdraw"}, headers=coordinator)
    assert refused.status_code == 409 and refused.json()["code"] == "WD-001"
    body = _move(
        client,
        episode_id,
        coordinator,
        "withdraw",
        withdrawal_reason="progression",
        reason="progressed while waiting",
    )
    assert body["state"] == "withdrawn" and body["withdrawal_reason"] == "progression"
    again = client.post(
        url, json={"transition": "withdraw", "withdrawal_reason": "death"}, headers=coordinator
    )
    assert again.status_code == 409 and again.json()["code"] == "STATE-001"


def test_wrong_role_gets_403(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    episode_id, _coordinator = _refer(client, session, net)
    nurse = auth(session, make_user(session, Role.APHERESIS_NURSE, center=net.center_a))
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "confirm_eligibility"},
        headers=nurse,
    )
    assert response.status_code == 403
    # A planner of another site holds the right role but not for this episode's site.
    other_site_net = make_network(session, unique[::-1])
    planner = auth(session, make_user(session, Role.PLANNER, site=other_site_net.site))
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "start_manufacturing"},
        headers=planner,
    )
    assert response.status_code in (403, 404)


def test_stale_version_is_refused(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    episode_id, _coordinator = _refer(client, session, net)
    clinician = auth(session, make_user(session, Role.CLINICIAN, center=net.center_a))
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "confirm_eligibility", "expected_version": 99},
        headers=clinician,
    )
    assert response.status_code == 409 and response.json()["code"] == "EPISODE-STALE"


def test_malformed_payload_is_422_naming_the_field(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    coordinator = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    patient = make_patient(session, net.center_a)
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": str(patient.id),
            "product": net.product.code,
            "priority": 11,
            "earliest_apheresis_date": "2026-12-01",
        },
        headers=coordinator,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "priority"
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": str(patient.id),
            "product": "NOPE",
            "earliest_apheresis_date": "2026-12-01",
        },
        headers=coordinator,
    )
    assert response.status_code == 422 and response.json()["field"] == "product"
