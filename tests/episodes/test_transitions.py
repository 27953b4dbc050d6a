"""The vein-to-vein state machine: every step in order, the rules that refuse a step, and the
audit event each step writes. Steps owned by a domain service (signed release, scanned hand-offs,
bedside check, booking) are taken here on the owner's behalf; their own rules are tested in their
domains. The generic HTTP endpoint refuses them."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.service import verify_audit_trail
from cartflow.auth.actor import Actor
from cartflow.episodes.errors import TransitionRefused
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.identity.isbt128 import ChainOfIdentityId
from cartflow.models import AuditEvent, Diagnosis, EpisodeState, EpisodeStateChange, Role
from tests.factories import Network, auth, make_episode, make_network, make_patient, make_user


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


def test_referral_issues_a_chain_of_identity(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    episode = client.get(f"/api/v1/episodes/{episode_id}", headers=coordinator).json()
    assert episode["state"] == "referred"
    coi = ChainOfIdentityId.parse(episode["chain_of_identity"])
    assert coi.fin == net.site.facility_identification_number
    assert coi.check_character == episode["chain_of_identity_check_character"]
    second, _ = _refer(client, session, net)
    other = client.get(f"/api/v1/episodes/{second}", headers=coordinator).json()
    assert other["chain_of_identity"] != episode["chain_of_identity"]


def test_the_whole_path_is_recorded_and_audited(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.FOLLOW_UP)
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    headers = auth(session, coordinator)
    closed = _move(client, str(episode.id), headers, "close", reason="completed follow-up")
    assert closed["state"] == "closed" and closed["next_transitions"] == []

    path = [
        "confirm_eligibility",
        "book_slot",
        "record_apheresis",
        "start_manufacturing",
        "submit_for_qc",
        "release",
        "ship",
        "receive",
        "start_lymphodepletion",
        "infuse",
        "start_follow_up",
        "close",
    ]
    history = client.get(f"/api/v1/episodes/{episode.id}/history", headers=headers).json()
    assert [h["transition"] for h in history] == path
    assert [h["to_state"] for h in history][-3:] == ["infused", "follow_up", "closed"]
    events = (
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.record_id == str(episode.id))
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [e.action for e in events] == ["refer", *path]
    assert events[1].before is not None and events[1].before["state"] == "referred"
    assert events[1].after is not None and events[1].after["state"] == "eligible"
    assert events[-1].reason == "completed follow-up"
    assert verify_audit_trail(session).ok


def test_illegal_transition_is_409_naming_the_rule(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "close", "reason": "x"},
        headers=coordinator,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "STATE-001"
    assert "'close' is allowed only from follow_up" in response.json()["message"]
    assert (
        session.execute(
            select(EpisodeStateChange).where(EpisodeStateChange.episode_id == uuid.UUID(episode_id))
        ).first()
        is None
    )


@pytest.mark.parametrize("name", sorted(n for n, t in TRANSITIONS.items() if t.owner))
def test_owned_steps_are_refused_by_the_generic_endpoint(
    client: TestClient, session: Session, unique: str, name: str
) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=next(iter(TRANSITIONS[name].sources)))
    everyone = [
        make_user(session, role, center=net.center_a)
        if role in (Role.COORDINATOR, Role.APHERESIS_NURSE, Role.CLINICIAN)
        else make_user(session, role, site=net.site)
        if role in (Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON)
        else make_user(session, role)
        for role in TRANSITIONS[name].roles
    ]
    response = client.post(
        f"/api/v1/episodes/{episode.id}/transitions",
        json={"transition": name},
        headers=auth(session, everyone[0]),
    )
    assert response.status_code == 409 and response.json()["code"] == "STATE-002"
    assert TRANSITIONS[name].owner in response.json()["message"]


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


def _confirm_eligibility(session: Session, net: Network, **patient_kw: object) -> None:
    episode = make_episode(session, net, patient=make_patient(session, net.center_a, **patient_kw))  # type: ignore[arg-type]
    clinician = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    apply_transition(
        session,
        actor=clinician,
        episode_id=episode.id,
        request=TransitionRequest(transition="confirm_eligibility"),
        on_behalf_of=TRANSITIONS["confirm_eligibility"].owner,
    )


def test_eligibility_guard_checks_the_indication(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    # The test product's B-ALL indication is 3-25 years; a 40-year-old is outside it.
    with pytest.raises(TransitionRefused) as too_old:
        _confirm_eligibility(session, net, age_years=40)
    assert too_old.value.code == "ELIG-002"
    # DLBCL needs two prior lines.
    with pytest.raises(TransitionRefused) as early:
        _confirm_eligibility(session, net, diagnosis=Diagnosis.DLBCL, age_years=50, prior_lines=1)
    assert early.value.code == "ELIG-003"
    # Myeloma is not an indication of the product.
    with pytest.raises(TransitionRefused) as myeloma:
        _confirm_eligibility(session, net, diagnosis=Diagnosis.MULTIPLE_MYELOMA, age_years=60)
    assert myeloma.value.code == "ELIG-001"
    _confirm_eligibility(session, net, diagnosis=Diagnosis.DLBCL, age_years=50, prior_lines=2)


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
    episode_id, _ = _refer(client, session, net)
    nurse = auth(session, make_user(session, Role.APHERESIS_NURSE, center=net.center_a))
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "withdraw", "withdrawal_reason": "death"},
        headers=nurse,
    )
    assert response.status_code == 403
    # A planner holds a role that reads the episode, but not one that may withdraw it.
    planner = auth(session, make_user(session, Role.PLANNER, site=net.site))
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "withdraw", "withdrawal_reason": "death"},
        headers=planner,
    )
    assert response.status_code == 403


def test_a_role_counts_only_at_its_own_site(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    other = make_network(session, unique[::-1])
    episode = make_episode(session, net, state=EpisodeState.APHERESIS_COLLECTED)
    stranger = Actor(make_user(session, Role.PLANNER, site=other.site))
    with pytest.raises(Exception) as refused:
        apply_transition(
            session,
            actor=stranger,
            episode_id=episode.id,
            request=TransitionRequest(transition="start_manufacturing"),
            on_behalf_of=TRANSITIONS["start_manufacturing"].owner,
        )
    assert getattr(refused.value, "status_code", None) == 404


def test_stale_version_is_refused(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    episode_id, coordinator = _refer(client, session, net)
    response = client.post(
        f"/api/v1/episodes/{episode_id}/transitions",
        json={"transition": "withdraw", "withdrawal_reason": "death", "expected_version": 99},
        headers=coordinator,
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
