"""Custody follow-up through the real app and database: closing a deviation, importing a
shipper's temperature log (an excursion quarantines), and the registry cohort as FHIR; each
refusal is shown beside its field and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import EpisodeState, Role
from cartflow.models.custody import ContainerKind, CustodyDeviation, DeviationStatus, HandoffStep
from cartflow.models.logistics_shipment import Shipment, TemperatureImport
from tests.factories import make_episode, make_user
from tests.logistics.factories import World, advance, keyed, make_world, register, scan
from tests.web.helpers import login, post_form


@dataclass
class Deviated:
    world: World
    deviation: CustodyDeviation


def deviated(session: Session, unique: str) -> Deviated:
    """A collection bag scanned with a wrong check character: a hard stop and one deviation."""
    world = make_world(session, unique)
    bag = register(session, world.people.nurse, world.episode, ContainerKind.COLLECTION_BAG)[0]
    outcome = scan(
        session, world.people.nurse, world.episode, HandoffStep.COLLECTION, keyed(bag, k="Z")
    )
    assert outcome.refusal is not None
    deviation = session.execute(
        select(CustodyDeviation).where(CustodyDeviation.episode_id == world.episode.id)
    ).scalar_one()
    return Deviated(world, deviation)


def status_of(session: Session, deviation: CustodyDeviation) -> DeviationStatus:
    session.refresh(deviation)
    return deviation.status


def in_transit(session: Session, unique: str) -> tuple[World, Shipment]:
    world = make_world(session, unique)
    kit = advance(session, world.people, world.episode, HandoffStep.APHERESIS_PICKUP)
    assert kit.apheresis_shipment is not None
    return world, kit.apheresis_shipment


def logger_csv(shipment: Shipment, *celsius: float) -> bytes:
    start = shipment.departed_at or dt.datetime.now(dt.UTC)
    lines = ["timestamp,celsius"] + [
        f"{(start + dt.timedelta(minutes=5 * (i + 1))).isoformat()},{c}"
        for i, c in enumerate(celsius)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_deviation_is_closed_with_its_outcome_and_an_empty_one_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    case = deviated(session, unique)
    token = login(client, case.world.people.coordinator.user.username)
    page = client.get("/deviations", params={"episode": str(case.world.episode.id)})
    assert page.status_code == 200 and "SCAN-CHECK-CHARACTER" in page.text
    url = f"/deviations/{case.deviation.id}/close"
    episode = str(case.world.episode.id)
    empty = post_form(client, url, token, {"note": "  ", "episode": episode})
    assert empty.status_code == 422 and 'id="note-error"' in empty.text
    ru = client.post(url, data={"note": "", "csrf_token": token}, cookies={"cartflow_locale": "ru"})
    assert ru.status_code == 422 and "Отклонения цепочки хранения" in ru.text
    assert status_of(session, case.deviation) is DeviationStatus.OPEN
    done = post_form(
        client, url, token, {"note": "label misprint; relabelled, QA-31", "episode": episode}
    )
    assert done.status_code == 303, done.text
    assert status_of(session, case.deviation) is DeviationStatus.CLOSED
    assert case.deviation.closure_note == "label misprint; relabelled, QA-31"
    again = post_form(client, url, token, {"note": "twice", "episode": episode})
    assert again.status_code == 409


def test_a_temperature_log_is_imported_and_a_bad_file_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    world, shipment = in_transit(session, unique)
    token = login(client, world.people.courier.user.username)
    url = f"/shipments/{shipment.id}/temperature"
    assert client.get(url).status_code == 200

    def imports() -> int:
        return session.execute(
            select(func.count(TemperatureImport.id)).where(
                TemperatureImport.shipment_id == shipment.id
            )
        ).scalar_one()

    def upload(content: bytes, name: str = "logger.csv") -> object:
        return client.post(
            url,
            data={"csrf_token": token},
            files={"file": (name, content, "text/csv")},
            follow_redirects=False,
        )

    bad = upload(b"timestamp,celsius\nyesterday,4\n")
    assert bad.status_code == 422 and 'id="file-error"' in bad.text  # type: ignore[attr-defined]
    none = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert none.status_code == 422 and "choose the logger" in none.text
    assert imports() == 0
    good = upload(logger_csv(shipment, 4.0, 4.5, 5.0))
    assert good.status_code == 303  # type: ignore[attr-defined]
    assert imports() == 1
    page = client.get(url)
    assert "logger.csv" in page.text and ">3<" in page.text
    twice = upload(logger_csv(shipment, 4.0, 4.5, 5.0))
    assert twice.status_code == 409 and imports() == 1  # type: ignore[attr-defined]


def test_the_registry_cohort_downloads_as_a_fhir_bundle(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique, state=EpisodeState.INFUSED)
    make_episode(session, world.net, state=EpisodeState.ELIGIBLE)
    analyst = make_user(session, Role.REGISTRY_ANALYST)
    login(client, analyst.username)
    assert "/registry/cohort.fhir.json?" in client.get("/registry").text
    bundle = client.get("/registry/cohort.fhir.json", params={"product": world.net.product.code})
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("application/fhir+json")
    body = json.loads(bundle.text)
    assert body["resourceType"] == "Bundle"
    patients = [e for e in body["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(patients) == 2
    assert world.episode.patient.mrn not in bundle.text  # pseudonymous
    bad = client.get("/registry/cohort.fhir.json", params={"referred_from": "2026-13-01"})
    assert bad.status_code == 422 and "referred_from" in bad.text
