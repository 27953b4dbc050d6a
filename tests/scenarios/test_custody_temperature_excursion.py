"""Scenario: a temperature excursion in transit ends in quarantine and a qualified person's
decision; a malformed logger file is refused whole with its line number.

1. The product leaves the site in dry shipper DS-77 (limit: the product's storage temperature).
2. The center receives it. The logger file has a malformed line 4: refused with "line 4",
   nothing of it stored.
3. The corrected file shows the shipper warming above the limit for half an hour: the bag and
   cassette are quarantined, and the center cannot store them (hard stop, deviation).
4. A QC analyst may not decide; the qualified person signs "Released from quarantine" with
   their password (a wrong password changes nothing); the product can be stored again.
5. A second shipment that arrives too late is quarantined at receipt and rejected: its
   containers are discarded.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.signatures import REJECTED, signatures_for, verify_signature
from cartflow.logistics.quarantine import (
    RELEASED_FROM_QUARANTINE,
    quarantined_container_ids,
    signed_content,
)
from cartflow.models.custody import ContainerStatus, HandoffStep
from cartflow.models.logistics_shipment import Quarantine, TemperatureImport
from tests.factories import PASSWORD, auth
from tests.logistics.factories import advance, barcode, make_world, scan

H = HandoffStep


def _logger_file(start: dt.datetime, celsius: list[float]) -> str:
    rows = ["timestamp,celsius"]
    for index, value in enumerate(celsius):
        rows.append(f"{(start + dt.timedelta(minutes=15 * index)).isoformat()},{value}")
    return "\n".join(rows) + "\n"


def test_excursion_quarantines_until_the_qualified_person_decides(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    people = world.people
    kit = advance(session, people, world.episode, H.PRODUCT_PICKUP)
    shipment = kit.product_shipment
    assert shipment is not None and shipment.departed_at is not None
    arrival = shipment.departed_at + dt.timedelta(hours=20)
    everything = [barcode(c) for c in (*kit.product, *kit.shippers)]
    received = scan(
        session,
        people.coordinator,
        world.episode,
        H.CENTER_RECEIPT,
        *everything,
        second=people.clinician,
        now=arrival,
    )
    assert received.refusal is None and received.quarantine is None
    limit = world.net.product.storage_temperature_max_c
    assert shipment.max_celsius == limit
    url = f"/api/v1/custody/shipments/{shipment.id}/temperature"
    center = auth(session, people.coordinator.user)

    # 2. A malformed line refuses the whole file.
    start = shipment.departed_at + dt.timedelta(minutes=1)
    good = _logger_file(start, [limit - 60, limit - 55, limit + 25, limit + 30, limit - 50])
    broken = good.replace(f",{limit + 25}\n", ",  \n")
    refused = client.post(
        url,
        content=broken,
        headers={**center, "Content-Type": "text/csv"},
        params={"filename": "DS-77.csv"},
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "TEMPERATURE-FILE-MALFORMED"
    assert refused.json()["message"].startswith("line 4:")
    stored = session.execute(
        select(func.count()).where(TemperatureImport.shipment_id == shipment.id)
    ).scalar_one()
    assert stored == 0

    # 3. The real file shows an excursion: quarantine.
    imported = client.post(url, content=good, headers={**center, "Content-Type": "text/csv"})
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert body["reading_count"] == 5 and body["excursion"] is True
    assert [f["rule"] for f in body["findings"]] == ["TEMP-HIGH"]
    assert "(line 5)" in body["findings"][0]["message"]
    quarantine_id = body["quarantine_id"]
    duplicate = client.post(url, content=good, headers={**center, "Content-Type": "text/csv"})
    assert duplicate.status_code == 409

    product = [barcode(c) for c in kit.product]
    later = arrival + dt.timedelta(hours=1)
    blocked = scan(session, people.nurse, world.episode, H.STORAGE, *product, now=later)
    assert blocked.refusal is not None and blocked.refusal.code == "CUSTODY-QUARANTINED"
    assert len(blocked.deviations) == 2

    stranger = auth(session, people.other_center_coordinator.user)
    hidden = client.get(f"/api/v1/custody/quarantines/{quarantine_id}", headers=stranger)
    assert hidden.status_code == 404

    # 4. The decision.
    decision_url = f"/api/v1/custody/quarantines/{quarantine_id}/decision"
    decision = {"decision": "release", "reason": "30 min above limit; stability data cover it"}
    qc = client.post(
        decision_url, json={**decision, "password": PASSWORD}, headers=auth(session, people.qc.user)
    )
    assert qc.status_code == 403
    qp = auth(session, people.qp.user)
    wrong = client.post(decision_url, json={**decision, "password": "wrong-password"}, headers=qp)
    assert wrong.status_code == 403 and wrong.json()["code"] == "SIGNATURE-REFUSED"
    assert (
        client.get(f"/api/v1/custody/quarantines/{quarantine_id}", headers=qp).json()["status"]
        == "open"
    )
    released = client.post(decision_url, json={**decision, "password": PASSWORD}, headers=qp)
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["decided_by"] == people.qp.user.username
    twice = client.post(decision_url, json={**decision, "password": PASSWORD}, headers=qp)
    assert twice.status_code == 409

    quarantine = session.get(Quarantine, uuid.UUID(quarantine_id))
    assert quarantine is not None
    [signature] = signatures_for(session, record_type="quarantine", record_id=quarantine.id)
    assert signature.meaning == RELEASED_FROM_QUARANTINE
    ids = quarantined_container_ids(session, quarantine)
    assert sorted(ids) == sorted(c.id for c in (*kit.product, *kit.shippers))
    assert verify_signature(
        signature,
        record_type="quarantine",
        record_id=quarantine.id,
        record_content=signed_content(quarantine, ids),
    )
    stored_now = scan(session, people.nurse, world.episode, H.STORAGE, *product, now=later)
    assert stored_now.refusal is None


def test_late_arrival_is_quarantined_at_receipt_and_rejected(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    people = world.people
    kit = advance(session, people, world.episode, H.PRODUCT_PICKUP)
    shipment = kit.product_shipment
    assert shipment is not None and shipment.departed_at is not None
    late = shipment.departed_at + dt.timedelta(hours=shipment.max_transit_hours, minutes=5)
    everything = [barcode(c) for c in (*kit.product, *kit.shippers)]
    received = scan(
        session,
        people.coordinator,
        world.episode,
        H.CENTER_RECEIPT,
        *everything,
        second=people.clinician,
        now=late,
    )
    assert received.refusal is None and received.quarantine is not None
    assert [f["rule"] for f in received.quarantine.findings] == ["TRANSIT-TIME"]
    assert received.transition == "receive"  # physically here, but on hold
    qp = auth(session, people.qp.user)
    rejected = client.post(
        f"/api/v1/custody/quarantines/{received.quarantine.id}/decision",
        json={"decision": "reject", "reason": "hold time exceeded", "password": PASSWORD},
        headers=qp,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    [signature] = signatures_for(
        session, record_type="quarantine", record_id=received.quarantine.id
    )
    assert signature.meaning == REJECTED
    for container in (*kit.product, *kit.shippers):
        session.refresh(container)
        assert container.status is ContainerStatus.DISCARDED
