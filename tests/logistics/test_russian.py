"""The custody area in Russian and English (issue #12): the same hard stop with the same code in
both languages through the API, the scan station's hard stop in Russian, and shipment times in the
local zone of each end, with the zone named."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.identity.isbt128 import Din
from cartflow.logistics.schemas import ShipmentCreate
from cartflow.logistics.shipments import create_shipment
from cartflow.models.custody import CustodyDeviation, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial
from tests.factories import auth
from tests.logistics.factories import K, advance, barcode, make_world, register
from tests.web.helpers import login, post_form

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _handoff(
    client: TestClient, session: Session, world: Any, body: dict[str, Any], language: str
) -> Any:
    return client.post(
        f"/api/v1/custody/episodes/{world.episode.id}/handoffs",
        json=body,
        headers={**auth(session, world.people.nurse.user), "Accept-Language": language},
    )


def test_a_hard_stop_has_the_same_code_in_russian_and_english(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    other = make_world(session, unique[::-1])
    [foreign] = register(session, other.people.nurse, other.episode, K.COLLECTION_BAG)
    body = {"step": "collection", "scans": [barcode(foreign)], "location": "chair 2"}

    russian = _handoff(client, session, world, body, "ru-RU,ru;q=0.9,en;q=0.5")
    english = _handoff(client, session, world, body, "en")

    assert russian.status_code == english.status_code == 409
    ru, en = russian.json(), english.json()
    assert ru["code"] == en["code"] == "SCAN-WRONG-EPISODE"
    assert russian.headers["content-language"] == "ru"
    din = Din.parse(foreign.din).eye_readable
    assert "этот контейнер принадлежит другому пациенту" in ru["message"]
    assert "this container belongs to another patient" in en["message"]
    assert din in ru["message"] and din in en["message"]
    assert CYRILLIC.search(ru["results"][0]["message"])
    assert not CYRILLIC.search(en["message"] + en["results"][0]["message"])
    # The deviation is one record for every reader: kept in the source language, named by rule.
    deviation = session.get(CustodyDeviation, uuid.UUID(ru["deviation_ids"][0]))
    assert deviation is not None and deviation.rule == "SCAN-WRONG-EPISODE"
    assert "belongs to another patient" in deviation.message


def test_a_malformed_scan_and_a_wrong_step_are_refused_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    [bag] = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    malformed = _handoff(
        client, session, world, {"step": "collection", "scans": [barcode(bag), "=A99"]}, "ru"
    )
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "SCAN-MALFORMED"
    assert malformed.json()["message"].startswith("скан 2: ")
    too_early = _handoff(client, session, world, {"step": "storage", "scans": [barcode(bag)]}, "ru")
    assert too_early.status_code == 409
    assert too_early.json()["code"] == "CUSTODY-EPISODE-STATE"
    assert too_early.json()["message"] == (
        "шаг «в хранилище центра» выполняется, когда эпизод в состоянии: получен центром, "
        "лимфодеплеция; сейчас — слот забронирован"
    )


def test_the_scan_station_shows_the_hard_stop_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    other = make_world(session, unique[::-1])
    [foreign] = register(session, other.people.nurse, other.episode, K.COLLECTION_BAG)
    token = login(client, world.people.nurse.user.username)
    client.cookies.set("cartflow_locale", "ru")
    station = client.get(f"/scan?episode={world.episode.id}&step=collection")
    assert station.status_code == 200
    assert "Сканы, по одному в строке" in station.text and "Записать передачу" in station.text

    stopped = post_form(
        client,
        f"/scan/episodes/{world.episode.id}",
        token,
        {"step": "collection", "scans": barcode(foreign)},
    )

    assert stopped.status_code == 409
    page = stopped.text
    assert "СТОП — не передавайте" in page
    assert "этот контейнер принадлежит другому пациенту" in page
    assert "Для этой передачи ничего не записано. Открыто 1 отклонение" in page
    assert "<code>SCAN-WRONG-EPISODE</code>" in page
    assert "Я отложил(а) его — назад" in page
    assert "STOP — do not hand over" not in page and "belongs to another" not in page


def test_shipment_times_are_shown_in_the_zone_of_each_end(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    world.net.center_a.timezone = "Europe/Moscow"
    world.net.site.timezone = "Asia/Yekaterinburg"
    session.flush()
    departure = dt.datetime(2030, 3, 1, 6, 0, tzinfo=dt.UTC)
    create_shipment(
        session,
        actor=world.people.coordinator,
        episode_id=world.episode.id,
        data=ShipmentCreate(
            material=ShipmentMaterial.FRESH_APHERESIS,
            shipper_serial="DS-ZONES",
            courier="Synthetic Courier",
            planned_departure_at=departure,
            planned_arrival_at=departure + dt.timedelta(hours=5),
        ),
    )
    login(client, world.people.coordinator.user.username)
    client.cookies.set("cartflow_locale", "ru")
    page = client.get(f"/scan?episode={world.episode.id}").text
    # Apheresis leaves the center at 09:00 Moscow time and reaches the site at 16:00 local.
    assert "по плану 01.03.2030 09:00 МСК" in page
    assert "по плану 01.03.2030 16:00 UTC+5" in page
    client.cookies.set("cartflow_locale", "en")
    page = client.get(f"/scan?episode={world.episode.id}").text
    assert "planned 2030-03-01 09:00 MSK" in page and "planned 2030-03-01 16:00 UTC+5" in page


def test_a_recorded_hand_off_reads_in_russian_with_the_right_plural(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    bags = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG, 2)
    token = login(client, world.people.nurse.user.username)
    client.cookies.set("cartflow_locale", "ru")
    recorded = post_form(
        client,
        f"/scan/episodes/{world.episode.id}",
        token,
        {"step": "collection", "scans": "\n".join(barcode(b) for b in bags)},
    )
    assert recorded.status_code == 200, recorded.text
    page = recorded.text
    assert "Записано: Заготовка (окончание афереза)" in page
    assert "2 контейнера передано." in page
    assert "Эпизод перешёл: record apheresis → Клетки заготовлены." in page
    # The container table names kinds and statuses in Russian; the DIN stays as printed.
    assert "пакет афереза" in page and "в обращении" in page
    assert all(b.din in page for b in bags)


def test_a_quarantine_at_receipt_is_named_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, HandoffStep.APHERESIS_PICKUP)
    token = login(client, world.people.planner.user.username)
    client.cookies.set("cartflow_locale", "ru")
    received = post_form(
        client,
        f"/scan/episodes/{world.episode.id}",
        token,
        {
            "step": "site_receipt",
            "scans": "\n".join(barcode(b) for b in kit.collection_bags),
            "temperature_c": "12,5",
        },
    )
    assert received.status_code == 200, received.text
    assert (
        "Помещено на карантин после проверки транспортировки: "
        "температура при получении вне допустимого диапазона." in received.text
    )
