"""Scenario: one episode's containers followed through every hand-off, vein to vein, over the API.

A QA reader's summary:
1. The apheresis nurse labels a collection bag and scans it when collection ends: the episode is
   now "apheresis collected".
2. The courier picks the fresh bag up against a planned 2-8 °C shipment; the site receives it.
3. The site fills two product bags and a cassette, labels them, and scans them into the cryostore;
   the collection bag is used up by the batch.
4. After release, the qualified person scans the product out; the courier takes bags, cassette
   and the dry shipper (episode "shipped").
5. Two people at the center receive it (the second signs with a password; episode "received"),
   store it, and two people check identity at the bedside, where the bag is used.
6. The custody timeline lists every hand-off in order, "where is it now" shows each container's
   custodian, and the audit chain holds.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.service import verify_audit_trail
from cartflow.audit.signatures import RECEIVED_AND_VERIFIED, signatures_for, verify_signature
from cartflow.auth.actor import Actor
from cartflow.identity.labels import datamatrix_payload
from cartflow.logistics.containers import label_content
from cartflow.logistics.scans import handoff_content
from cartflow.models import AuditEvent, EpisodeState
from cartflow.models.custody import CustodyContainer, CustodyEvent
from tests.factories import PASSWORD, auth
from tests.logistics.factories import make_world, move


def _headers(session: Session, actor: Actor) -> dict[str, str]:
    return auth(session, actor.user)


def _label_scan(session: Session, actor: Actor, container_id: str) -> str:
    """What a scanner reads from the container's printed Data Matrix."""
    container = session.get(CustodyContainer, uuid.UUID(container_id))
    assert container is not None
    return datamatrix_payload(label_content(session, actor=actor, container=container))


def test_one_episode_followed_through_every_hand_off(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    p, episode = world.people, world.episode
    base = f"/api/v1/custody/episodes/{episode.id}"

    def post(path: str, actor: Actor, body: dict[str, Any], expected: int = 201) -> Any:
        response = client.post(path, json=body, headers=_headers(session, actor))
        assert response.status_code == expected, response.text
        return response.json()

    def handoff(actor: Actor, step: str, ids: list[str], second: Actor | None = None) -> Any:
        body: dict[str, Any] = {
            "step": step,
            "scans": [_label_scan(session, actor, i) for i in ids],
            "location": f"{step} point",
        }
        if second is not None:
            body["witness"] = {"username": second.user.username, "password": PASSWORD}
        return post(f"{base}/handoffs", actor, body)

    # 1. Collection.
    bag = post(f"{base}/containers", p.nurse, {"kind": "collection_bag"})[0]
    assert bag["din"].startswith(world.net.site.facility_identification_number)
    out = handoff(p.nurse, "collection", [bag["id"]])
    assert out["transition"] == "record_apheresis"
    assert out["episode_state"] == "apheresis_collected"

    # 2. Fresh apheresis to the site.
    post(
        f"{base}/shipments",
        p.coordinator,
        {
            "material": "fresh_apheresis",
            "shipper_serial": "NC-0007",
            "courier": "Cold Courier",
            "planned_departure_at": "2030-01-01T08:00:00+03:00",
            "planned_arrival_at": "2030-01-01T20:00:00+03:00",
        },
    )
    handoff(p.courier, "apheresis_pickup", [bag["id"]])
    out = handoff(p.planner, "site_receipt", [bag["id"]])
    assert out["quarantine_id"] is None

    # 3. Manufacture (the manufacturing domain's step) and cryopreservation.
    move(session, p, episode, "start_manufacturing")
    bags = post(f"{base}/containers", p.planner, {"kind": "product_bag", "count": 2})
    cassette = post(f"{base}/containers", p.planner, {"kind": "cassette"})[0]
    product = [b["id"] for b in bags] + [cassette["id"]]
    handoff(p.planner, "cryopreservation", product)
    used = client.get(f"/api/v1/custody/containers/{bag['id']}", headers=_headers(session, p.nurse))
    assert used.json()["status"] == "consumed"

    # 4. Release and the courier.
    move(session, p, episode, "submit_for_qc")
    move(session, p, episode, "release")
    handoff(p.qp, "release", product)
    shipper = post(f"{base}/containers", p.planner, {"kind": "shipper"})[0]
    post(
        f"{base}/shipments",
        p.planner,
        {
            "material": "cryopreserved_product",
            "shipper_serial": "DS-4411",
            "courier": "Cryo Courier",
            "planned_departure_at": "2030-02-01T08:00:00+03:00",
            "planned_arrival_at": "2030-02-02T08:00:00+03:00",
        },
    )
    out = handoff(p.courier, "product_pickup", [*product, shipper["id"]])
    assert (out["transition"], out["episode_state"]) == ("ship", "shipped")
    held = client.get("/api/v1/custody/holdings", headers=_headers(session, p.courier)).json()
    assert {c["id"] for c in held} == {*product, shipper["id"]}

    # 5. Receipt (two people), storage, bedside (two people).
    out = handoff(p.coordinator, "center_receipt", [*product, shipper["id"]], second=p.clinician)
    assert (out["transition"], out["episode_state"]) == ("receive", "received")
    assert {e["witness"] for e in out["events"]} == {p.clinician.user.username}
    handoff(p.nurse, "storage", product)
    move(session, p, episode, "start_lymphodepletion")
    out = handoff(p.clinician, "bedside", [bags[0]["id"]], second=p.clinician2)
    assert out["episode_state"] == EpisodeState.LYMPHODEPLETION.value

    # 6. The record of it all.
    timeline = client.get(f"{base}/timeline", headers=_headers(session, p.coordinator)).json()
    steps = [e["step"] for e in timeline]
    assert steps.count("collection") == 1 and steps[0] == "collection"
    assert steps.count("cryopreservation") == 3 and steps.count("center_receipt") == 4
    assert steps[-1] == "bedside"
    assert [e["occurred_at"] for e in timeline] == sorted(e["occurred_at"] for e in timeline)
    bedside = timeline[-1]
    assert bedside["from_custodian"]["code"] == world.net.center_a.code
    assert bedside["to_custodian"]["kind"] == "patient"

    where = client.get(f"{base}/where", headers=_headers(session, p.coordinator)).json()
    by_id = {c["id"]: c for c in where["containers"]}
    assert by_id[bags[0]["id"]]["status"] == "consumed"
    assert by_id[bags[1]["id"]]["custodian"]["code"] == world.net.center_a.code
    assert by_id[bags[1]["id"]]["next_step"] == "bedside"
    assert by_id[shipper["id"]]["next_step"] is None

    center = client.get(
        "/api/v1/custody/holdings",
        params={"center": world.net.center_a.code},
        headers=_headers(session, p.coordinator),
    ).json()
    assert {c["id"] for c in center} == {bags[1]["id"], cassette["id"], shipper["id"]}

    # The receipt signature covers exactly the receipt's custody events.
    receipt_events = list(
        session.execute(
            select(CustodyEvent).where(
                CustodyEvent.episode_id == episode.id, CustodyEvent.step == "center_receipt"
            )
        ).scalars()
    )
    handoff_id = receipt_events[0].handoff_id
    [signature] = signatures_for(session, record_type="custody_handoff", record_id=handoff_id)
    assert signature.meaning == RECEIVED_AND_VERIFIED
    assert signature.signer_id == p.clinician.id
    assert verify_signature(
        signature,
        record_type="custody_handoff",
        record_id=handoff_id,
        record_content=handoff_content(receipt_events),
    )
    who = session.execute(
        select(AuditEvent.actor_username).where(
            AuditEvent.record_id == bags[0]["id"], AuditEvent.action == "bedside"
        )
    ).scalar_one()
    assert who == p.clinician.user.username
    assert verify_audit_trail(session).ok
