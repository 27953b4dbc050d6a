"""Containers: DINs from the site's never-reused sequence, expiry, labels as PDF and ZPL."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from cartflow.identity.isbt128 import Din
from cartflow.identity.scan import parse_scan, verify_scan
from cartflow.logistics.containers import expected_container
from cartflow.models import EpisodeState
from cartflow.models.custody import CustodyContainer, HandoffStep
from tests.factories import auth
from tests.logistics.factories import K, World, barcode, make_world, register, scan


def _register(
    client: TestClient, session: Session, world: World, actor_role: str, body: dict[str, object]
) -> Response:
    actor = getattr(world.people, actor_role)
    response: Response = client.post(
        f"/api/v1/custody/episodes/{world.episode.id}/containers",
        json=body,
        headers=auth(session, actor.user),
    )
    return response


def test_each_container_gets_the_next_din_under_the_site_fin(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    response = _register(client, session, world, "nurse", {"kind": "collection_bag", "count": 3})
    assert response.status_code == 201, response.text
    bags = response.json()
    dins = [Din.parse(b["din"]) for b in bags]
    year = f"{dt.datetime.now(dt.UTC).year % 100:02d}"
    assert {d.fin for d in dins} == {world.net.site.facility_identification_number}
    assert {d.year for d in dins} == {year}
    numbers = [int(d.sequence) for d in dins]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    assert [b["din_check_character"] for b in bags] == [d.check_character for d in dins]
    assert {b["chain_of_identity"] for b in bags} == {world.episode.chain_of_identity}
    assert {b["product_code"] for b in bags} == {None}
    assert {b["next_step"] for b in bags} == {"collection"}


def test_product_bags_expire_after_the_shelf_life_and_the_shipper_with_them(
    session: Session, unique: str
) -> None:
    world = make_world(session, unique, state=EpisodeState.IN_MANUFACTURING)
    before = dt.datetime.now(dt.UTC)
    [bag] = register(session, world.people.planner, world.episode, K.PRODUCT_BAG)
    after = dt.datetime.now(dt.UTC)
    shelf = dt.timedelta(days=world.net.product.shelf_life_days)
    assert bag.expires_at is not None and before + shelf <= bag.expires_at <= after + shelf
    assert bag.product_code == world.net.product.isbt_product_code
    world.episode.state = EpisodeState.RELEASED  # set-up: the release is manufacturing's
    [shipper] = register(session, world.people.planner, world.episode, K.SHIPPER)
    assert shipper.expires_at == bag.expires_at
    # The record verifies the label it prints (identity.scan.verify_scan).
    decision = verify_scan(expected_container(bag), parse_scan(barcode(bag)), now=after)
    assert decision.accepted, decision.message


def test_who_labels_what_and_when(client: TestClient, session: Session, unique: str) -> None:
    world = make_world(session, unique)
    product = _register(client, session, world, "nurse", {"kind": "product_bag"})
    assert product.status_code == 403
    bag_by_planner = _register(client, session, world, "planner", {"kind": "collection_bag"})
    assert bag_by_planner.status_code == 403
    stranger = _register(
        client, session, world, "other_center_coordinator", {"kind": "collection_bag"}
    )
    assert stranger.status_code == 404
    late = make_world(session, unique[::-1], state=EpisodeState.IN_MANUFACTURING)
    refused = _register(client, session, late, "nurse", {"kind": "collection_bag"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "CONTAINER-NOT-NOW"
    too_many = _register(client, session, world, "nurse", {"kind": "collection_bag", "count": 11})
    assert too_many.status_code == 422


def test_labels_print_as_pdf_and_zpl_with_the_patient_shown_only_to_the_center(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique, state=EpisodeState.IN_MANUFACTURING)
    [bag] = register(session, world.people.planner, world.episode, K.PRODUCT_BAG)
    url = f"/api/v1/custody/containers/{bag.id}"
    pdf = client.get(f"{url}/label.pdf", headers=auth(session, world.people.coordinator.user))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and world.episode.chain_of_identity is not None
    assert world.episode.chain_of_identity.encode() in pdf.content  # the document's title
    din = Din.parse(bag.din)
    center_zpl = client.get(
        f"{url}/label.zpl", headers=auth(session, world.people.coordinator.user)
    ).text
    assert "^XA" in center_zpl and din.eye_readable in center_zpl
    assert "Synthetic Patient" in center_zpl
    site_zpl = client.get(f"{url}/label.zpl", headers=auth(session, world.people.planner.user))
    assert site_zpl.status_code == 200
    assert "Synthetic" not in site_zpl.text
    assert world.episode.patient.pseudonym in site_zpl.text


def test_an_unused_label_can_be_discarded_not_one_in_custody(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    unused, used = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG, 2)
    scan(session, world.people.nurse, world.episode, HandoffStep.COLLECTION, barcode(used))
    headers = auth(session, world.people.nurse.user)
    ok = client.post(
        f"/api/v1/custody/containers/{unused.id}/discard",
        json={"reason": "smudged"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["status"] == "discarded"
    refused = client.post(
        f"/api/v1/custody/containers/{used.id}/discard", json={"reason": "oops"}, headers=headers
    )
    assert refused.status_code == 409 and refused.json()["code"] == "CONTAINER-STATE"
    planner = client.post(
        f"/api/v1/custody/containers/{used.id}/discard",
        json={"reason": "oops"},
        headers=auth(session, world.people.planner.user),
    )
    assert planner.status_code == 403
    row = session.get(CustodyContainer, used.id)
    assert row is not None and row.status.value == "in_use"
