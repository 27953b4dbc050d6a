"""Hostile text in every free-text field we can reach through the API: SQL and HTML injection
strings, attribute breakers, right-to-left overrides, characters outside the BMP, and lengths at
the field's limit are stored verbatim (read back equal through the API) and shown escaped on the
pages that display them; one character over the limit is refused with 422 naming the field.

Each value is the hostile string repeated up to the field's limit, so one request tests both the
content and the column width (PostgreSQL refuses a value longer than its varchar column).
A page passes when the raw `<script>` and the raw attribute breaker never appear and the value,
escaped as Jinja escapes it (markupsafe), does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlalchemy.orm import Session

from cartflow.models import EpisodeState, Role
from cartflow.models.custody import HandoffStep
from tests.factories import auth, make_episode, make_network, make_patient, make_user
from tests.logistics.factories import K, barcode, make_world, register
from tests.manufacturing.factories import (
    ARI_0001_CRITERIA,
    collected_episode,
    make_specification,
    make_staff,
    manufacture,
)
from tests.web.helpers import login

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="x'
SQL = "'; DROP TABLE patient; --"
UNICODE = "Ωμέγα ✓ \u202eevil\u202c 𝔘𝔫𝔦 🧬 日本"
HOSTILE = f"{SCRIPT}{ATTRIBUTE} {SQL} {UNICODE} "
API = "/api/v1"


def at_limit(limit: int) -> str:
    return (HOSTILE * (limit // len(HOSTILE) + 1))[:limit]


def over_limit(limit: int) -> str:
    return at_limit(limit + 1)


def refused(response: Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.json()


def shown_escaped(html: str, value: str) -> None:
    assert SCRIPT not in html
    assert ATTRIBUTE not in html
    assert str(escape(value)) in html


def test_the_hostile_string_is_what_we_think() -> None:
    for limit in (64, 100, 2000):
        value = at_limit(limit)
        assert len(value) == limit and value.startswith(SCRIPT + ATTRIBUTE)
    assert "&lt;script&gt;" in str(escape(HOSTILE)) and "&#34; onmouseover=&#34;" in str(
        escape(HOSTILE)
    )


def _patient_body(**fields: str) -> dict[str, Any]:
    return {
        "date_of_birth": "1980-05-01",
        "sex": "female",
        "weight_kg": 60,
        "height_cm": 165,
        "diagnosis": "DLBCL",
        "disease_status": "refractory",
        "prior_lines_of_therapy": 2,
        **fields,
    }


def test_patient_names_and_mrn(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    headers = auth(session, coordinator)
    limits = {"mrn": 64, "family_name": 100, "given_name": 100}
    for field, limit in limits.items():
        body = _patient_body(**{"mrn": "M-1", field: over_limit(limit)})
        refused(client.post(f"{API}/patients", json=body, headers=headers), field)
    values = {field: at_limit(limit) for field, limit in limits.items()}
    created = client.post(f"{API}/patients", json=_patient_body(**values), headers=headers)
    assert created.status_code == 201, created.text
    stored = client.get(f"{API}/patients/{created.json()['id']}", headers=headers).json()
    assert {field: stored[field] for field in limits} == values
    found = client.get(f"{API}/patients", params={"mrn": values["mrn"]}, headers=headers)
    assert found.status_code == 200

    login(client, coordinator.username)
    page = client.get("/coordinator")
    assert page.status_code == 200
    for value in values.values():
        shown_escaped(page.text, value)


def test_episode_notes_transition_reason_and_patient_change_reason(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    clinician = make_user(session, Role.CLINICIAN, center=net.center_a)
    patient = make_patient(session, net.center_a)
    headers = auth(session, coordinator)
    today = dt.date.today()  # noqa: DTZ011 - a calendar date
    referral = {
        "patient_id": str(patient.id),
        "product": net.product.code,
        "earliest_apheresis_date": today.isoformat(),
    }
    too_long = {**referral, "notes": over_limit(4000)}
    refused(client.post(f"{API}/episodes", json=too_long, headers=headers), "notes")
    notes = at_limit(4000)
    created = client.post(f"{API}/episodes", json={**referral, "notes": notes}, headers=headers)
    assert created.status_code == 201, created.text
    episode_id = created.json()["id"]
    trail = client.get(f"{API}/audit/episode/{episode_id}", headers=headers).json()
    assert trail["events"][0]["after"]["notes"] == notes

    url = f"{API}/episodes/{episode_id}/transitions"
    withdraw = {"transition": "withdraw", "withdrawal_reason": "progression"}
    clinician_headers = auth(session, clinician)
    too_long = {**withdraw, "reason": over_limit(2000)}
    refused(client.post(url, json=too_long, headers=clinician_headers), "reason")
    reason = at_limit(2000)
    moved = client.post(url, json={**withdraw, "reason": reason}, headers=clinician_headers)
    assert moved.status_code == 200, moved.text
    history = client.get(f"{API}/episodes/{episode_id}/history", headers=headers).json()
    assert history[-1]["reason"] == reason

    change = {"weight_kg": 61}
    patient_url = f"{API}/patients/{patient.id}"
    refused(
        client.patch(patient_url, json={**change, "reason": over_limit(1000)}, headers=headers),
        "reason",
    )
    why = at_limit(1000)
    changed = client.patch(patient_url, json={**change, "reason": why}, headers=headers)
    assert changed.status_code == 200, changed.text
    patient_trail = client.get(f"{API}/audit/patient/{patient.id}", headers=headers).json()
    assert patient_trail["events"][-1]["reason"] == why

    login(client, coordinator.username)
    page = client.get(f"/episodes/{episode_id}")
    assert page.status_code == 200
    shown_escaped(page.text, notes)  # the audit history shows what the referral recorded
    shown_escaped(page.text, reason)  # the timeline shows why the episode moved


def test_toxicity_notes(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.INFUSED)
    clinician = make_user(session, Role.CLINICIAN, center=net.center_a)
    headers = auth(session, clinician)
    url = f"{API}/clinical/episodes/{episode.id}/toxicity-assessments"
    body = {
        "assessed_at": dt.datetime.now(dt.UTC).isoformat(),
        "crs": {"temperature_c": 38.6, "hypotension": "none", "oxygen": "none"},
    }
    refused(client.post(url, json={**body, "notes": over_limit(4000)}, headers=headers), "notes")
    notes = at_limit(4000)
    created = client.post(url, json={**body, "notes": notes}, headers=headers)
    assert created.status_code == 201, created.text
    assert [a["notes"] for a in client.get(url, headers=headers).json()] == [notes]

    login(client, clinician.username)
    page = client.get(f"/clinician/episodes/{episode.id}/toxicity")
    assert page.status_code == 200
    shown_escaped(page.text, notes)


def test_specification_source(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    admin = make_user(session, Role.ADMIN)
    headers = auth(session, admin)
    url = f"{API}/products/{net.product.code}/specifications"
    body: dict[str, Any] = {"criteria": ARI_0001_CRITERIA}
    refused(client.post(url, json={**body, "source": over_limit(500)}, headers=headers), "source")
    source = at_limit(500)
    created = client.post(url, json={**body, "source": source}, headers=headers)
    assert created.status_code == 201, created.text
    product = client.get(f"{API}/products/{net.product.code}", headers=headers).json()
    assert product["current_specification"]["source"] == source

    login(client, admin.username)
    page = client.get("/admin")
    assert page.status_code == 200
    shown_escaped(page.text, source)


def test_qc_result_method_and_comment(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    collected = dt.datetime.now(dt.UTC) - dt.timedelta(days=14)
    episode = collected_episode(session, net, collected_at=collected)
    batch = manufacture(session, staff, episode, received_at=collected + dt.timedelta(hours=6))
    headers = auth(session, staff.analyst.user)
    url = f"{API}/batches/{batch.id}/qc-results"
    body = {"test": "viability_percent", "value": 92.5}
    for field, limit in (("method", 200), ("comment", 2000)):
        refused(client.post(url, json={**body, field: over_limit(limit)}, headers=headers), field)
    values = {"method": at_limit(200), "comment": at_limit(2000)}
    created = client.post(url, json={**body, **values}, headers=headers)
    assert created.status_code == 201, created.text
    [result] = client.get(f"{API}/batches/{batch.id}", headers=headers).json()["results"]
    assert {"method": result["method"], "comment": result["comment"]} == values

    login(client, staff.analyst.user.username)
    page = client.get(f"/batches/{batch.id}")  # the batch record lists results, not comments
    assert page.status_code == 200 and SCRIPT not in page.text and ATTRIBUTE not in page.text


def test_custody_location_deviation_note_and_shipment(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique, state=EpisodeState.SLOT_BOOKED)
    [bag] = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    other = make_world(session, unique[::-1], state=EpisodeState.SLOT_BOOKED)
    [foreign] = register(session, other.people.nurse, other.episode, K.COLLECTION_BAG)
    nurse = auth(session, world.people.nurse.user)
    url = f"{API}/custody/episodes/{world.episode.id}/handoffs"
    scan = {"step": HandoffStep.COLLECTION.value, "scans": [barcode(bag)]}
    refused(client.post(url, json={**scan, "location": over_limit(200)}, headers=nurse), "location")
    wrong_bag = {**scan, "scans": [barcode(foreign)], "location": at_limit(200)}
    stopped = client.post(url, json=wrong_bag, headers=nurse)
    assert stopped.status_code == 409, stopped.text
    location = at_limit(200)
    done = client.post(url, json={**scan, "location": location}, headers=nurse)
    assert done.status_code == 201, done.text
    timeline = client.get(f"{API}/custody/episodes/{world.episode.id}/timeline", headers=nurse)
    assert [e["location"] for e in timeline.json()] == [location]

    coordinator = auth(session, world.people.coordinator.user)
    [deviation_id] = stopped.json()["deviation_ids"]
    close = f"{API}/custody/deviations/{deviation_id}/close"
    refused(client.post(close, json={"note": over_limit(4000)}, headers=coordinator), "note")
    note = at_limit(4000)
    closed = client.post(close, json={"note": note}, headers=coordinator)
    assert closed.status_code == 200, closed.text
    deviations = client.get(
        f"{API}/custody/deviations", params={"episode_id": str(world.episode.id)}, headers=nurse
    ).json()
    assert [(d["location"], d["closure_note"]) for d in deviations] == [(location, note)]

    depart = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    shipment = {
        "material": "fresh_apheresis",
        "planned_departure_at": depart.isoformat(),
        "planned_arrival_at": (depart + dt.timedelta(hours=20)).isoformat(),
    }
    texts = {"shipper_serial": 64, "courier": 200, "tracking_number": 64}
    plan = f"{API}/custody/episodes/{world.episode.id}/shipments"
    for field, limit in texts.items():
        body = {**shipment, "shipper_serial": "DS-1", "courier": "C", field: over_limit(limit)}
        refused(client.post(plan, json=body, headers=coordinator), field)
    values = {field: at_limit(limit) for field, limit in texts.items()}
    planned = client.post(plan, json={**shipment, **values}, headers=coordinator)
    assert planned.status_code == 201, planned.text
    stored = client.get(f"{API}/custody/shipments/{planned.json()['id']}", headers=coordinator)
    assert {field: stored.json()[field] for field in texts} == values


def test_a_users_full_name_in_every_page_header(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.ADMIN))
    username, password = f"hostile.{unique.lower()}", "a-long-synthetic-passphrase-9"
    body: dict[str, Any] = {
        "username": username,
        "password": password,
        "roles": [{"role": "coordinator", "center": net.center_a.code}],
    }
    refused(
        client.post(f"{API}/users", json={**body, "full_name": over_limit(200)}, headers=headers),
        "full_name",
    )
    full_name = at_limit(200)
    created = client.post(f"{API}/users", json={**body, "full_name": full_name}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["full_name"] == full_name

    login(client, username, password)
    for path in ("/", "/coordinator"):
        page = client.get(path)
        assert page.status_code == 200
        shown_escaped(page.text, full_name)


@pytest.mark.parametrize("text", ["nul \x00 byte", "\ud800 lone surrogate"])
def test_text_a_database_cannot_store_is_stored_or_refused_never_a_server_error(
    client: TestClient, session: Session, unique: str, text: str
) -> None:
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    # ASCII-escaped JSON: "\\u0000" and a lone "\\ud800" are valid JSON text, as a client sends them.
    body = json.dumps(_patient_body(mrn=f"NUL-{unique}", family_name=text))
    response = client.post(
        f"{API}/patients", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    if response.status_code == 201:
        stored = client.get(f"{API}/patients/{response.json()['id']}", headers=headers)
        assert stored.json()["family_name"] == text
        return
    # PostgreSQL text cannot hold NUL: the database refuses it and the app answers 422 (without
    # the field's name: the database does not say which value it was).
    assert response.status_code == 422, response.text
    assert response.json().get("field", "family_name") == "family_name"
