"""Scenario: a swapped bag at receipt stops the hand-off and opens a deviation that stays.

Two patients of the same center have their products shipped on the same day. At receipt the
coordinator scans patient A's shipper and cassette, but the bag in A's cassette is patient B's.
The system must:
- refuse the whole receipt (409, rule SCAN-WRONG-EPISODE), move nothing and leave the episode
  "shipped";
- keep the deviation even though the request was refused, with who scanned what, where and when,
  in the deviation and in the audit trail;
- accept the receipt once the right bag is scanned, and let QA close the deviation with a note.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.models import AuditEvent, EpisodeState
from cartflow.models.custody import CustodyDeviation, CustodyEvent, HandoffStep
from tests.factories import PASSWORD, auth, make_episode
from tests.logistics.factories import advance, barcode, make_world


def test_a_swapped_bag_at_receipt_stops_and_opens_a_deviation(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    people = world.people
    patient_a = world.episode
    patient_b = make_episode(session, world.net, state=EpisodeState.SLOT_BOOKED)
    kit_a = advance(session, people, patient_a, HandoffStep.PRODUCT_PICKUP)
    kit_b = advance(session, people, patient_b, HandoffStep.PRODUCT_PICKUP)

    swapped = [
        barcode(kit_a.shippers[0]),
        barcode(kit_a.cassettes[0]),
        barcode(kit_b.product_bags[0]),
    ]
    coordinator = auth(session, people.coordinator.user)
    response = client.post(
        f"/api/v1/custody/episodes/{patient_a.id}/handoffs",
        json={
            "step": "center_receipt",
            "scans": swapped,
            "location": "Cell therapy lab, LN2 dewar 2",
            "witness": {"username": people.clinician.user.username, "password": PASSWORD},
        },
        headers=coordinator,
    )
    assert response.status_code == 409
    refusal = response.json()
    assert refusal["code"] == "SCAN-WRONG-EPISODE"
    assert "another patient" in refusal["message"]
    assert [r["accepted"] for r in refusal["results"]] == [True, True, False]

    # Nothing moved: no receipt event for any of patient A's containers, A is still shipped.
    received = session.execute(
        select(CustodyEvent).where(
            CustodyEvent.episode_id == patient_a.id,
            CustodyEvent.step == HandoffStep.CENTER_RECEIPT,
        )
    ).all()
    assert received == []
    episode = client.get(f"/api/v1/episodes/{patient_a.id}", headers=coordinator).json()
    assert episode["state"] == "shipped"

    # The deviation stayed although the request was refused; it names who, what, where, when.
    [deviation_id] = refusal["deviation_ids"]
    deviation = session.get(CustodyDeviation, uuid.UUID(deviation_id))
    assert deviation is not None
    assert deviation.raw_scan == swapped[2]
    assert deviation.scanned_container_id == kit_b.product_bags[0].id
    assert deviation.location == "Cell therapy lab, LN2 dewar 2"
    assert deviation.reported_by_id == people.coordinator.id
    audit = session.execute(
        select(AuditEvent).where(
            AuditEvent.record_type == "custody_deviation", AuditEvent.record_id == deviation_id
        )
    ).scalar_one()
    assert audit.actor_username == people.coordinator.user.username
    assert audit.after is not None and audit.after["raw_scan"] == swapped[2]
    assert audit.occurred_at == deviation.occurred_at

    # With the right bag the receipt goes through; QA closes the deviation.
    right = [*swapped[:2], barcode(kit_a.product_bags[0])]
    accepted = client.post(
        f"/api/v1/custody/episodes/{patient_a.id}/handoffs",
        json={
            "step": "center_receipt",
            "scans": right,
            "witness": {"username": people.clinician.user.username, "password": PASSWORD},
        },
        headers=coordinator,
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["episode_state"] == "received"
    closed = client.post(
        f"/api/v1/custody/deviations/{deviation_id}/close",
        json={"note": "bags of two patients packed side by side; packing SOP revised"},
        headers=coordinator,
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(
        f"/api/v1/custody/deviations/{deviation_id}/close",
        json={"note": "twice"},
        headers=coordinator,
    )
    assert again.status_code == 409
    nurse = client.post(
        f"/api/v1/custody/deviations/{deviation_id}/close",
        json={"note": "not mine to close"},
        headers=auth(session, people.nurse.user),
    )
    assert nurse.status_code == 403
