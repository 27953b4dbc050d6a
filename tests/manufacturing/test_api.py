"""The manufacturing API's refusals: a wrong role is 403, another site's or center's batch is 404
(and nothing changes), bad input is 4xx naming the field, and the steps manufacturing owns are not
taken through the generic episode endpoint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.db.base import utcnow
from cartflow.models import AuditEvent, Device, Role
from tests.factories import PASSWORD, Network, auth, make_network, make_user
from tests.manufacturing.factories import (
    Staff,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    start_batch,
)

API = "/api/v1"


@dataclass
class World:
    net: Network
    other: Network
    staff: Staff
    episode_id: str
    batch_id: str
    result_id: str
    in_process_batch_id: str
    waiting_episode_id: str


@pytest.fixture
def world(session: Session, unique: str) -> World:
    net = make_network(session, unique)
    other = make_network(session, unique[::-1])
    make_specification(session, net)
    staff = make_staff(session, net)
    received = utcnow() - dt.timedelta(days=16)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
    batch = manufacture(session, staff, episode, received_at=received)
    [result] = enter_results(session, staff.analyst, batch, {"viability_percent": 65.0})
    session.add(Device(site_id=net.site.id, code="DEV-2", kind="CliniMACS Prodigy"))
    session.flush()
    recent = utcnow() - dt.timedelta(days=1)
    second = collected_episode(session, net, collected_at=recent - dt.timedelta(hours=6))
    in_process = start_batch(session, staff, second, received_at=recent)
    waiting = collected_episode(session, net, collected_at=recent - dt.timedelta(hours=6))
    return World(
        net,
        other,
        staff,
        str(episode.id),
        str(batch.id),
        str(result.id),
        str(in_process.id),
        str(waiting.id),
    )


def _headers(session: Session, world: World, who: str) -> dict[str, str]:
    """`role@here` (this batch's site or center) or `role@other` (the other network's)."""
    role_name, _, where = who.partition("@")
    role = Role(role_name)
    net = world.net if where == "here" else world.other
    if role in (Role.COORDINATOR, Role.CLINICIAN, Role.APHERESIS_NURSE):
        center = net.center_a if where == "here" else world.other.center_a
        return auth(session, make_user(session, role, center=center))
    if role in (Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON):
        return auth(session, make_user(session, role, site=net.site))
    return auth(session, make_user(session, role))


# (method, path, body, a role that may not, someone elsewhere who holds the right role)
WRITES: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "POST",
        "/batches",
        {"episode_id": "{waiting}", "device": "DEV-2", "received_at": "{now}"},
        "qc_analyst@here",
        "planner@other",
    ),
    (
        "POST",
        "/batches/{in_process}/steps",
        {"step": "activation", "started_at": "{now}"},
        "qc_analyst@here",
        "planner@other",
    ),
    (
        "POST",
        "/batches/{in_process}/terminate",
        {"reason": "no expansion"},
        "qc_analyst@here",
        "planner@other",
    ),
    ("POST", "/batches/{in_process}/submit-for-qc", {}, "coordinator@here", "planner@other"),
    (
        "POST",
        "/batches/{batch}/qc-results",
        {"test": "sterility", "value": "no growth"},
        "planner@here",
        "qc_analyst@other",
    ),
    ("POST", "/qc-results/{result}/verify", {}, "planner@here", "qc_analyst@other"),
    (
        "POST",
        "/qc-results/{result}/retest",
        {"value": 80, "reason": "recount"},
        "qualified_person@here",
        "qc_analyst@other",
    ),
    (
        "POST",
        "/batches/{batch}/exceptional-release-request",
        {"justification": "no other therapy is available for this patient", "password": "x"},
        "coordinator@here",
        "clinician@other",
    ),
    (
        "POST",
        "/batches/{batch}/release",
        {"password": PASSWORD},
        "qc_analyst@here",
        "qualified_person@other",
    ),
    (
        "POST",
        "/batches/{batch}/reject",
        {"password": PASSWORD, "reason": "OOS"},
        "planner@here",
        "qualified_person@other",
    ),
    (
        "POST",
        "/batches/{batch}/exceptional-release/approve",
        {"password": PASSWORD},
        "clinician@here",
        "qualified_person@other",
    ),
]


def _fill(text: Any, world: World) -> Any:
    if isinstance(text, dict):
        return {k: _fill(v, world) for k, v in text.items()}
    if not isinstance(text, str):
        return text
    return text.format(
        batch=world.batch_id,
        result=world.result_id,
        in_process=world.in_process_batch_id,
        waiting=world.waiting_episode_id,
        now=utcnow().isoformat(),
    )


def _events(session: Session) -> int:
    return session.execute(select(func.count(AuditEvent.id))).scalar_one()


def test_wrong_role_403_and_other_site_404_change_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    before = _events(session)
    for method, path, body, wrong, elsewhere in WRITES:
        url = API + _fill(path, world)
        for who, status in ((wrong, 403), (elsewhere, 404)):
            response = client.request(
                method, url, json=_fill(body, world), headers=_headers(session, world, who)
            )
            assert response.status_code == status, (path, who, response.text)
    assert _events(session) == before


READERS = [
    ("planner@here", 200),
    ("clinician@here", 200),
    ("coordinator@here", 200),
    ("qc_analyst@other", 404),
    ("clinician@other", 404),
    ("courier@network", 403),
    ("admin@network", 403),
]


def test_who_reads_a_batch(client: TestClient, session: Session, world: World) -> None:
    for who, status in READERS:
        headers = _headers(session, world, who)
        for path in (f"/batches/{world.batch_id}", f"/batches/{world.batch_id}/certificate.pdf"):
            assert client.get(API + path, headers=headers).status_code == status, (who, path)
        listed = client.get(API + "/batches", headers=headers)
        if status == 200:
            assert world.batch_id in {b["id"] for b in listed.json()["items"]}, who
        elif status == 404:
            assert world.batch_id not in {b["id"] for b in listed.json()["items"]}, who


def test_worklists_need_their_role_and_show_only_the_users_site(
    client: TestClient, session: Session, world: World
) -> None:
    planner = _headers(session, world, "planner@here")
    assert client.get(API + "/worklists/qc", headers=planner).status_code == 403
    assert client.get(API + "/worklists/qualified-person", headers=planner).status_code == 403
    elsewhere = _headers(session, world, "qc_analyst@other")
    assert client.get(API + "/worklists/qc", headers=elsewhere).json() == []
    here = client.get(API + "/worklists/qc", headers=_headers(session, world, "qc_analyst@here"))
    [item] = here.json()
    assert item["batch_id"] == world.batch_id and "viability_percent" not in item["awaiting_entry"]
    assert item["out_of_specification"] == ["viability_percent"]


BAD_INPUT: list[tuple[str, dict[str, Any], int, str]] = [
    ("/batches/{batch}/qc-results", {"test": "viability_percent", "value": 130}, 422, "value"),
    ("/batches/{batch}/qc-results", {"test": "sterility", "value": 0}, 422, "value"),
    ("/batches/{batch}/qc-results", {"test": "potency", "value": 1}, 422, "test"),
    ("/batches/{batch}/qc-results", {"test": "sterility"}, 422, "value"),
    (
        "/batches/{in_process}/qc-results",
        {"test": "viability_percent", "value": 90},
        409,
        "batch",
    ),
    (
        "/batches/{in_process}/steps",
        {"step": "activation", "started_at": "2026-01-01T10:00:00"},
        422,
        "started_at",
    ),
    ("/batches/{in_process}/steps", {"step": "thawing", "started_at": "{now}"}, 422, "step"),
    ("/qc-results/{result}/retest", {"value": 80}, 422, "reason"),
]


def test_bad_input_is_refused_naming_the_field(
    client: TestClient, session: Session, world: World
) -> None:
    analyst = _headers(session, world, "qc_analyst@here")
    planner = _headers(session, world, "planner@here")
    for path, body, status, field in BAD_INPUT:
        headers = planner if "steps" in path else analyst
        response = client.post(API + _fill(path, world), json=_fill(body, world), headers=headers)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["field"] == field, (path, body)


def test_a_start_on_another_sites_device_names_the_device(
    client: TestClient, session: Session, world: World
) -> None:
    response = client.post(
        API + "/batches",
        json={
            "episode_id": world.waiting_episode_id,
            "device": "PRODIGY-99",
            "received_at": utcnow().isoformat(),
        },
        headers=_headers(session, world, "planner@here"),
    )
    assert response.status_code == 422 and response.json()["field"] == "device"


def test_steps_manufacturing_owns_are_refused_by_the_generic_endpoint(
    client: TestClient, session: Session, world: World
) -> None:
    qp = _headers(session, world, "qualified_person@here")
    response = client.post(
        f"{API}/episodes/{world.episode_id}/transitions", json={"transition": "release"}, headers=qp
    )
    assert response.status_code == 409 and response.json()["code"] == "STATE-002"
    assert "manufacturing" in response.json()["message"]


def test_specifications_are_checked_before_use(
    client: TestClient, session: Session, world: World
) -> None:
    headers = _headers(session, world, "qc_analyst@here")
    bad = client.post(
        API + "/specifications/check",
        json={"criteria": {"viability_percent": {"min": 170}}},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "criteria.viability_percent.min"
    good = client.post(
        API + "/specifications/check",
        json={"criteria": {"viability_percent": {"min": 80}, "sterility": {"equals": "no growth"}}},
        headers=headers,
    )
    assert good.status_code == 200
    assert [c["limit"] for c in good.json()["criteria"]] == ["≥ 80 %", "no growth"]
    catalogue = client.get(API + "/qc-tests", headers=headers).json()
    assert {t["name"] for t in catalogue} >= {"viability_percent", "car_t_dose", "mycoplasma"}
