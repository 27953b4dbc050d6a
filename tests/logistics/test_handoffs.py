"""Hand-offs through the API and the service: hard stops open deviations that stay, nothing
half-moves, repeated scans are idempotent, roles and centers are enforced."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.identity.isbt128 import Din
from cartflow.logistics.containers import register_containers
from cartflow.logistics.custody import step_done
from cartflow.logistics.errors import StepNotNow
from cartflow.models import AuditEvent, EpisodeState
from cartflow.models.custody import (
    ContainerStatus,
    CustodyContainer,
    CustodyDeviation,
    CustodyEvent,
    HandoffStep,
)
from tests.factories import auth
from tests.logistics.factories import (
    K,
    World,
    advance,
    barcode,
    keyed,
    make_world,
    move,
    register,
    scan,
)

H = HandoffStep


def _post(client: TestClient, session: Session, world: World, actor: Actor, body: Any) -> Any:
    return client.post(
        f"/api/v1/custody/episodes/{world.episode.id}/handoffs",
        json=body,
        headers=auth(session, actor.user),
    )


def _events(session: Session, container: CustodyContainer) -> int:
    return session.execute(
        select(func.count()).where(CustodyEvent.container_id == container.id)
    ).scalar_one()


def test_collection_scan_records_custody_and_moves_the_episode(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    [bag] = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    response = _post(
        client, session, world, world.people.nurse, {"step": "collection", "scans": [keyed(bag)]}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["transition"] == "record_apheresis"
    [event] = body["events"]
    assert event["from_custodian"] is None
    assert event["to_custodian"]["code"] == world.net.center_a.code
    assert event["scanned_by"] == world.people.nurse.user.username
    assert event["location"] == "" and event["raw_scan"] == keyed(bag)
    # Scanning it again is the same hand-off, not a second one.
    again = _post(
        client, session, world, world.people.nurse, {"step": "collection", "scans": [barcode(bag)]}
    )
    assert again.status_code == 201
    assert again.json()["events"][0]["id"] == event["id"]
    assert again.json()["results"][0]["duplicate"] is True
    assert _events(session, bag) == 1


def test_a_bag_scanned_twice_in_one_hand_off_is_recorded_once(
    session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    [bag] = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    outcome = scan(
        session, world.people.nurse, world.episode, H.COLLECTION, barcode(bag), keyed(bag)
    )
    assert outcome.refusal is None
    assert [r.verdict.duplicate for r in outcome.results] == [False, True]
    assert len(outcome.events) == 1 and _events(session, bag) == 1
    again = scan(session, world.people.nurse, world.episode, H.COLLECTION, keyed(bag), keyed(bag))
    assert [e.id for e in again.events] == [outcome.events[0].id]


def test_the_generic_transition_endpoint_refuses_a_scanned_step(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    response = client.post(
        f"/api/v1/episodes/{world.episode.id}/transitions",
        json={"transition": "record_apheresis"},
        headers=auth(session, world.people.nurse.user),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "STATE-002"


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("unknown", "CUSTODY-UNKNOWN-CONTAINER"),
        ("wrong-k", "SCAN-CHECK-CHARACTER"),
        ("discarded", "CUSTODY-CONTAINER-CONSUMED"),
        ("other-episode", "SCAN-WRONG-EPISODE"),
        ("out-of-sequence", "CUSTODY-OUT-OF-SEQUENCE"),
    ],
)
def test_a_hard_stop_is_409_and_its_deviation_stays(
    client: TestClient, session: Session, unique: str, case: str, rule: str
) -> None:
    world = make_world(session, unique)
    people = world.people
    good, spare = register(session, people.nurse, world.episode, K.COLLECTION_BAG, 2)
    step = "collection"
    if case == "unknown":
        raw = Din.parse(good.din[:7] + "999999").barcode_data()
    elif case == "wrong-k":
        din = Din.parse(good.din)
        raw = f"{din.eye_readable} {'A' if din.check_character != 'A' else 'B'}"
    elif case == "discarded":
        client.post(
            f"/api/v1/custody/containers/{spare.id}/discard",
            json={"reason": "label printed twice"},
            headers=auth(session, people.nurse.user),
        ).raise_for_status()
        raw = barcode(spare)
    elif case == "other-episode":
        other = make_world(session, unique[::-1])
        [foreign] = register(session, other.people.nurse, other.episode, K.COLLECTION_BAG)
        raw = Din.parse(foreign.din).barcode_data()
    else:
        step = "storage"
        # Set-up only: an episode at storage time, and a collection bag scanned there.
        world.episode.state = EpisodeState.RECEIVED
        session.flush()
        raw = barcode(good)
    actor = people.coordinator if step == "storage" else people.nurse
    response = _post(
        client,
        session,
        world,
        actor,
        {
            "step": step,
            "scans": [raw] if step == "storage" else [barcode(good), raw],
            "location": "Apheresis unit, chair 2",
        },
    )
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == rule
    assert [r["accepted"] for r in body["results"]][-1] is False
    [deviation_id] = body["deviation_ids"]
    # The good bag in the same hand-off did not move either: all or nothing.
    assert _events(session, good) == 0
    deviation = session.get(CustodyDeviation, uuid.UUID(deviation_id))
    assert deviation is not None and deviation.rule == rule and deviation.raw_scan == raw
    assert deviation.location == "Apheresis unit, chair 2"
    listed = client.get(
        "/api/v1/custody/deviations",
        params={"episode_id": str(world.episode.id), "status": "open"},
        headers=auth(session, people.coordinator.user),
    ).json()
    assert [d["id"] for d in listed] == [deviation_id]
    assert listed[0]["reported_by"] == actor.user.username
    audit = session.execute(
        select(AuditEvent).where(AuditEvent.record_id == deviation_id)
    ).scalar_one()
    assert audit.actor_username == actor.user.username and audit.action == "open"
    assert audit.after is not None and audit.after["raw_scan"] == raw
    session.refresh(world.episode)
    assert world.episode.state in (EpisodeState.SLOT_BOOKED, EpisodeState.RECEIVED)


def test_a_malformed_scan_is_422_and_opens_nothing(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    response = _post(
        client,
        session,
        world,
        world.people.nurse,
        {"step": "collection", "scans": ["=A99992600"]},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "SCAN-MALFORMED"
    assert "scan 1:" in response.json()["message"] and "cut short" in response.json()["message"]
    count = session.execute(
        select(func.count()).where(CustodyDeviation.episode_id == world.episode.id)
    ).scalar_one()
    assert count == 0


def test_an_expired_product_is_a_hard_stop(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, H.CRYOPRESERVATION)
    [bag] = kit.product_bags
    assert bag.expires_at is not None
    for name in ("submit_for_qc", "release"):
        move(session, world.people, world.episode, name)
    outcome = scan(
        session,
        world.people.qp,
        world.episode,
        H.RELEASE,
        barcode(bag),
        now=bag.expires_at + dt.timedelta(minutes=1),
    )
    assert outcome.refusal is not None and outcome.refusal.code == "SCAN-EXPIRED"
    assert [d.rule for d in outcome.deviations] == ["SCAN-EXPIRED"]


def test_wrong_state_wrong_role_and_other_center(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    [bag] = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    body = {"step": "collection", "scans": [barcode(bag)]}
    planner = _post(client, session, world, world.people.planner, body)
    assert planner.status_code == 403
    stranger = _post(client, session, world, world.people.other_center_coordinator, body)
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "EPISODE-NOT-FOUND"
    too_early = _post(client, session, world, world.people.qp, {**body, "step": "release"})
    assert too_early.status_code == 409 and too_early.json()["code"] == "CUSTODY-EPISODE-STATE"
    with pytest.raises(StepNotNow):
        scan(session, world.people.coordinator, world.episode, H.STORAGE, barcode(bag))
    for path in ("timeline", "where", "containers", "shipments"):
        url = f"/api/v1/custody/episodes/{world.episode.id}/{path}"
        other = client.get(url, headers=auth(session, world.people.other_center_coordinator.user))
        assert other.status_code == 404, path
    for path in ("", "/label.pdf", "/label.zpl"):
        url = f"/api/v1/custody/containers/{bag.id}{path}"
        other = client.get(url, headers=auth(session, world.people.other_center_coordinator.user))
        assert other.status_code == 404, path
    holdings = client.get(
        "/api/v1/custody/holdings",
        params={"center": world.net.center_a.code},
        headers=auth(session, world.people.other_center_coordinator.user),
    )
    assert holdings.status_code == 404 and holdings.json()["code"] == "PLACE-NOT-FOUND"
    assert _events(session, bag) == 0


def test_bedside_uses_the_bag_and_nothing_hands_it_on_after(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, H.BEDSIDE, product_bags=2)
    used, spare = kit.product_bags
    session.refresh(used)
    assert used.status is ContainerStatus.CONSUMED
    again = scan(session, world.people.nurse, world.episode, H.STORAGE, barcode(used))
    assert again.refusal is None and again.events[0].step is H.STORAGE  # already stored: same event
    twice = scan(
        session,
        world.people.clinician,
        world.episode,
        H.BEDSIDE,
        barcode(spare),
        barcode(used),
        second=world.people.clinician2,
    )
    assert twice.refusal is None
    assert [r.verdict.duplicate for r in twice.results] == [False, True]


def test_other_domains_can_ask_whether_a_step_is_done(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    episode = world.episode
    assert not step_done(session, episode_id=episode.id, step=H.COLLECTION)
    first, second = register(session, world.people.nurse, episode, K.COLLECTION_BAG, 2)
    scan(session, world.people.nurse, episode, H.COLLECTION, barcode(first))
    assert not step_done(session, episode_id=episode.id, step=H.COLLECTION)  # one bag still due
    scan(session, world.people.nurse, episode, H.COLLECTION, barcode(second))
    assert step_done(session, episode_id=episode.id, step=H.COLLECTION)
    assert not step_done(session, episode_id=episode.id, step=H.SITE_RECEIPT)


def test_one_custody_event_per_container_and_step_is_a_database_rule(
    session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    [bag] = register_containers(
        session, actor=world.people.nurse, episode_id=world.episode.id, kind=K.COLLECTION_BAG
    )
    outcome = scan(session, world.people.nurse, world.episode, H.COLLECTION, barcode(bag))
    [event] = outcome.events
    copy = CustodyEvent(
        episode_id=event.episode_id,
        container_id=event.container_id,
        handoff_id=event.handoff_id,
        step=event.step,
        to_kind=event.to_kind,
        to_center_id=event.to_center_id,
        scanned_by_id=event.scanned_by_id,
        raw_scan=event.raw_scan,
        entry=event.entry,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(copy)
        session.flush()
