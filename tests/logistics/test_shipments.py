"""Shipments: limits copied from the product, the incoming worklist, the logger file, fresh
apheresis time limits, and who may do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.logistics.shipments import expected_arrival
from cartflow.models import EpisodeState
from cartflow.models.custody import ContainerStatus, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial, ShipmentStatus, TemperatureImport
from tests.factories import auth
from tests.logistics.factories import (
    K,
    World,
    accepted,
    advance,
    barcode,
    make_world,
    plan_shipment,
    register,
    scan,
)

H = HandoffStep
DEPART = dt.datetime(2031, 5, 4, 6, 0, tzinfo=dt.UTC)


def _plan(client: TestClient, session: Session, world: World, role: str, **changes: Any) -> Any:
    body = {
        "material": "cryopreserved_product",
        "shipper_serial": "DS-1",
        "courier": "Cryo Courier",
        "planned_departure_at": DEPART.isoformat(),
        "planned_arrival_at": (DEPART + dt.timedelta(hours=30)).isoformat(),
        **changes,
    }
    return client.post(
        f"/api/v1/custody/episodes/{world.episode.id}/shipments",
        json=body,
        headers=auth(session, getattr(world.people, role).user),
    )


def test_planned_limits_come_from_the_material_and_the_product(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique, state=EpisodeState.QC)
    product = world.net.product
    frozen = _plan(client, session, world, "planner")
    assert frozen.status_code == 201, frozen.text
    body = frozen.json()
    assert (body["min_celsius"], body["max_celsius"]) == (None, product.storage_temperature_max_c)
    assert body["max_transit_hours"] == 240
    assert (body["origin"], body["destination"]) == (world.net.site.code, world.net.center_a.code)
    assert body["status"] == "planned" and body["expected_arrival_at"] == body["planned_arrival_at"]
    strict = _plan(client, session, world, "qp", max_transit_hours=72)
    assert strict.status_code == 201 and strict.json()["max_transit_hours"] == 72
    loose = _plan(client, session, world, "planner", max_transit_hours=500)
    assert loose.status_code == 422 and loose.json()["field"] == "max_transit_hours"
    backwards = _plan(client, session, world, "planner", planned_arrival_at=DEPART.isoformat())
    assert backwards.status_code == 422
    assert _plan(client, session, world, "nurse").status_code == 403
    assert _plan(client, session, world, "other_center_coordinator").status_code == 404

    early = make_world(session, unique[::-1])
    fresh = _plan(client, session, early, "coordinator", material="fresh_apheresis")
    assert fresh.status_code == 201
    assert (fresh.json()["min_celsius"], fresh.json()["max_celsius"]) == (2.0, 8.0)
    assert fresh.json()["max_transit_hours"] == early.net.product.fresh_apheresis_max_hours
    not_now = _plan(client, session, early, "planner")
    assert not_now.status_code == 409 and not_now.json()["code"] == "CUSTODY-EPISODE-STATE"


def test_fresh_material_for_a_product_that_takes_it_frozen_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    world.net.product.fresh_apheresis_max_hours = None
    session.flush()
    refused = _plan(client, session, world, "coordinator", material="fresh_apheresis")
    assert refused.status_code == 422 and refused.json()["field"] == "material"


def test_the_center_worklist_shows_what_comes_and_when(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    advance(session, world.people, world.episode, H.RELEASE)
    first = _plan(client, session, world, "planner").json()
    coordinator = auth(session, world.people.coordinator.user)
    items = client.get("/api/v1/custody/worklist", headers=coordinator).json()
    assert [i["shipment"]["id"] for i in items] == [first["id"]]
    assert items[0]["patient_pseudonym"] == world.episode.patient.pseudonym
    assert items[0]["product_code"] == world.net.product.code
    site = client.get("/api/v1/custody/worklist", headers=auth(session, world.people.planner.user))
    assert first["id"] not in [i["shipment"]["id"] for i in site.json()]
    other = client.get(
        "/api/v1/custody/worklist",
        headers=auth(session, world.people.other_center_coordinator.user),
    )
    assert other.status_code == 200 and other.json() == []
    courier = client.get(
        "/api/v1/custody/worklist", headers=auth(session, world.people.courier.user)
    )
    assert courier.status_code == 403


def test_a_late_pick_up_pushes_the_expected_arrival(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, H.PRODUCT_PICKUP)
    shipment = kit.product_shipment
    assert shipment is not None and shipment.departed_at is not None
    shipment.departed_at = shipment.planned_departure_at + dt.timedelta(hours=5)
    assert expected_arrival(shipment) == shipment.planned_arrival_at + dt.timedelta(hours=5)
    shipment.departed_at = shipment.planned_departure_at - dt.timedelta(hours=1)
    assert expected_arrival(shipment) == shipment.planned_arrival_at


def test_fresh_apheresis_received_after_its_time_limit_is_quarantined(
    session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    people, episode = world.people, world.episode
    [bag] = register(session, people.nurse, episode, K.COLLECTION_BAG)
    collected = dt.datetime.now(dt.UTC)
    accepted(scan(session, people.nurse, episode, H.COLLECTION, barcode(bag), now=collected))
    shipment = plan_shipment(session, people.coordinator, episode, ShipmentMaterial.FRESH_APHERESIS)
    limit = world.net.product.fresh_apheresis_max_hours
    assert limit is not None
    picked = collected + dt.timedelta(hours=limit - 2)
    accepted(scan(session, people.courier, episode, H.APHERESIS_PICKUP, barcode(bag), now=picked))
    outcome = accepted(
        scan(
            session,
            people.planner,
            episode,
            H.SITE_RECEIPT,
            barcode(bag),
            now=picked + dt.timedelta(hours=3),
            temperature_c=5.0,
        )
    )
    assert outcome.quarantine is not None
    assert [f["rule"] for f in outcome.quarantine.findings] == ["FRESH-TIME-LIMIT"]
    session.refresh(bag)
    session.refresh(shipment)
    assert bag.status is ContainerStatus.QUARANTINED
    assert shipment.status is ShipmentStatus.DELIVERED
    assert shipment.arrived_at == picked + dt.timedelta(hours=3)


def test_a_warm_hand_reading_at_receipt_quarantines(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, H.APHERESIS_PICKUP)
    outcome = accepted(
        scan(
            session,
            world.people.planner,
            world.episode,
            H.SITE_RECEIPT,
            *[barcode(b) for b in kit.collection_bags],
            temperature_c=11.5,
        )
    )
    assert outcome.quarantine is not None
    assert [f["rule"] for f in outcome.quarantine.findings] == ["TEMP-AT-RECEIPT"]


def test_a_pick_up_needs_a_planned_shipment_and_a_file_needs_a_departed_one(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, H.COLLECTION)
    bags = [barcode(b) for b in kit.collection_bags]
    courier = auth(session, world.people.courier.user)
    url = f"/api/v1/custody/episodes/{world.episode.id}/handoffs"
    none = client.post(url, json={"step": "apheresis_pickup", "scans": bags}, headers=courier)
    assert none.status_code == 409 and none.json()["code"] == "CUSTODY-NO-SHIPMENT"
    shipment = plan_shipment(
        session, world.people.coordinator, world.episode, ShipmentMaterial.FRESH_APHERESIS
    )
    early = client.post(
        f"/api/v1/custody/shipments/{shipment.id}/temperature",
        content="2031-01-01T00:00:00Z,4\n",
        headers={**courier, "Content-Type": "text/csv"},
    )
    assert early.status_code == 409 and early.json()["code"] == "SHIPMENT-STATE"
    picked = client.post(url, json={"step": "apheresis_pickup", "scans": bags}, headers=courier)
    assert picked.status_code == 201
    assert picked.json()["events"][0]["shipment_id"] == str(shipment.id)
    stranger = client.post(
        f"/api/v1/custody/shipments/{shipment.id}/temperature",
        content="2031-01-01T00:00:00Z,4\n",
        headers={
            **auth(session, world.people.other_center_coordinator.user),
            "Content-Type": "text/csv",
        },
    )
    assert stranger.status_code == 404
    count = session.execute(
        select(func.count()).where(TemperatureImport.shipment_id == shipment.id)
    ).scalar_one()
    assert count == 0


def test_not_utf8_is_refused_with_its_line(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, H.APHERESIS_PICKUP)
    assert kit.apheresis_shipment is not None
    response = client.post(
        f"/api/v1/custody/shipments/{kit.apheresis_shipment.id}/temperature",
        content=b"timestamp,celsius\n2031-01-01T00:00:00Z,4\n2031-01-01T00:10:00Z,\xff4\n",
        headers={**auth(session, world.people.courier.user), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["message"] == "line 3: not UTF-8 text"
