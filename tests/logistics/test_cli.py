"""`cartflow custody`: the same hand-offs, refusals and records as the API, from the terminal.

The CLI opens its own sessions, so these tests commit their set-up on the test database and
delete it afterwards (`committed.purge`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.auth.actor import Actor
from cartflow.cli.main import app
from cartflow.config import get_settings
from cartflow.identity.isbt128 import Din
from cartflow.models.custody import CustodyDeviation, HandoffStep
from cartflow.models.logistics_shipment import Shipment
from tests.factories import PASSWORD
from tests.logistics.committed import purge
from tests.logistics.factories import Kit, World, advance, barcode, keyed, make_world

runner = CliRunner()


@pytest.fixture
def cli_database(
    committed_engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("CARTFLOW_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield committed_engine
    get_settings.cache_clear()


def custody(*args: str, user: str, stdin: str = PASSWORD + "\n") -> tuple[int, Any, str]:
    result = runner.invoke(app, ["custody", *args, "--user", user, "--password-stdin"], input=stdin)
    out: Any = result.stdout
    if result.exit_code == 0 and result.stdout.lstrip().startswith(("{", "[")):
        out = json.loads(result.stdout)
    return result.exit_code, out, result.stderr


# Every command checks its user's password (argon2id). The real verifier reads the cost from the
# hash, so users whose hash was made with the lowest cost keep twenty commands to seconds.
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


def _world(engine: Engine, unique: str, until: HandoffStep | None = None) -> tuple[World, Kit]:
    with Session(engine, expire_on_commit=False) as setup:
        world = make_world(setup, unique)
        kit = advance(setup, world.people, world.episode, until) if until else Kit()
        for person in vars(world.people).values():
            if isinstance(person, Actor):
                person.user.password_hash = CHEAP_HASH
        setup.commit()
    return world, kit


def test_collection_to_site_receipt_from_the_terminal(
    cli_database: Engine, unique: str, tmp_path: Path
) -> None:
    world, _ = _world(cli_database, unique)
    people = world.people
    coi = world.episode.chain_of_identity
    assert coi is not None
    nurse, coordinator = people.nurse.user.username, people.coordinator.user.username
    try:
        code, bags, err = custody("containers", coi, "--kind", "collection_bag", user=nurse)
        assert code == 0, err
        [bag] = bags
        din = Din.parse(bag["din"])

        assert custody("label", bag["din"], str(tmp_path / "bag.pdf"), user=nurse)[0] == 0
        assert (tmp_path / "bag.pdf").read_bytes().startswith(b"%PDF-")
        assert custody("label", bag["din"], str(tmp_path / "bag.zpl"), user=nurse)[0] == 0
        assert din.eye_readable in (tmp_path / "bag.zpl").read_text()

        # A typo in the check character: hard stop, exit 1, the deviation is recorded.
        wrong_k = f"{din.eye_readable} {'0' if din.check_character != '0' else '1'}"
        code, out, err = custody("scan", coi, "collection", wrong_k, user=nurse)
        assert (code, out) == (1, "")
        assert err.count("\n") == 1 and "SCAN-CHECK-CHARACTER" in err and "deviation" in err
        deviation_id = err.rsplit("deviation ", 1)[1].split(" ")[0]
        with Session(cli_database) as check:
            kept = check.get(CustodyDeviation, uuid.UUID(deviation_id))
            assert kept is not None and kept.raw_scan == wrong_k

        code, out, err = custody("scan", coi, "collection", "=A99", user=nurse)
        assert code == 2 and "cut short" in err and err.count("\n") == 1
        code, out, err = custody("scan", coi, "collect", "x", user=nurse)
        assert code == 2 and "not one of" in err

        right = f"{din.eye_readable} {din.check_character}"
        code, out, err = custody(
            "scan", coi, "collection", right, "--location", "chair 2", user=nurse
        )
        assert code == 0, err
        assert out["transition"] == "record_apheresis" and out["events"][0]["location"] == "chair 2"

        depart = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        code, shipment, err = custody(
            "shipment", "plan", coi,
            "--material", "fresh_apheresis",
            "--shipper", "NC-1",
            "--courier", "Cold Courier",
            "--depart", depart.isoformat(),
            "--arrive", (depart + dt.timedelta(hours=6)).isoformat(),
            user=coordinator,
        )  # fmt: skip
        assert code == 0, err
        assert (shipment["min_celsius"], shipment["max_celsius"]) == (2.0, 8.0)
        courier = people.courier.user.username
        assert custody("scan", coi, "apheresis_pickup", barcode_of(bag), user=courier)[0] == 0

        logger = tmp_path / "NC-1.csv"
        start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        lines = [
            f"{(start + dt.timedelta(minutes=5 * i)).isoformat()},{4 + i % 2}" for i in range(12)
        ]
        logger.write_text(
            "timestamp,celsius\n" + "\n".join(lines[:5]) + "\noops\n" + "\n".join(lines[5:])
        )
        code, _, err = custody("shipment", "temperature", shipment["id"], str(logger), user=courier)
        assert code == 2 and err.startswith("file: line 7:")

        planner = people.planner.user.username
        code, out, err = custody("scan", coi, "site_receipt", barcode_of(bag), user=planner)
        assert code == 0 and out["quarantine_id"] is None, err

        code, where, _ = custody("where", coi, user=coordinator)
        assert where["containers"][0]["custodian"]["code"] == world.net.site.code
        code, events, _ = custody("timeline", coi, user=coordinator)
        assert [e["step"] for e in events] == ["collection", "apheresis_pickup", "site_receipt"]
        code, held, _ = custody("holdings", "--site", world.net.site.code, user=planner)
        assert [c["din"] for c in held] == [bag["din"]]
        code, open_ones, _ = custody("deviations", "--open", user=coordinator)
        assert [d["id"] for d in open_ones] == [deviation_id]
        code, closed, err = custody(
            "close-deviation", deviation_id, "--note", "nurse re-read the label", user=coordinator
        )
        assert code == 0 and closed[0]["status"] == "closed", err

        assert custody("where", coi, user=nurse, stdin="wrong\n")[0] == 2
        stranger = people.other_center_coordinator.user.username
        code, _, err = custody("where", coi, user=stranger)
        assert code == 2 and "no episode" in err
    finally:
        purge(cli_database, site_id=world.net.site.id, extra_users=[people.courier.id])


def barcode_of(container: dict[str, Any]) -> str:
    return Din.parse(container["din"]).barcode_data()


def test_receipt_needs_two_people_and_a_quarantine_is_decided_from_the_terminal(
    cli_database: Engine, unique: str, tmp_path: Path
) -> None:
    world, kit = _world(cli_database, unique, until=HandoffStep.PRODUCT_PICKUP)
    people = world.people
    coi = world.episode.chain_of_identity
    assert coi is not None
    scans = [barcode(c) for c in (*kit.product, *kit.shippers)]
    coordinator = people.coordinator.user.username
    try:
        code, _, err = custody(
            "scan", coi, "center_receipt", *scans, "--witness", coordinator,
            user=coordinator, stdin=f"{PASSWORD}\n{PASSWORD}\n",
        )  # fmt: skip
        assert code == 2 and "two different people" in err
        code, _, err = custody("scan", coi, "center_receipt", *scans, user=coordinator)
        assert code == 2 and "second person" in err
        code, out, err = custody(
            "scan", coi, "center_receipt", *scans, "--witness", people.clinician.user.username,
            user=coordinator, stdin=f"{PASSWORD}\n{PASSWORD}\n",
        )  # fmt: skip
        assert code == 0, err
        assert out["episode_state"] == "received"

        assert kit.product_shipment is not None
        with Session(cli_database) as check:
            shipment = check.get(Shipment, kit.product_shipment.id)
            assert shipment is not None and shipment.departed_at and shipment.arrived_at
        # Four readings spread over the transit; the third one far too warm.
        step = (shipment.arrived_at - shipment.departed_at) / 5
        rows = [
            f"{(shipment.departed_at + step * (i + 1)).isoformat()},{-60 if i == 2 else -190}"
            for i in range(4)
        ]
        logger = tmp_path / "DS.csv"
        logger.write_text("\n".join(rows) + "\n")
        code, imported, err = custody(
            "shipment", "temperature", str(shipment.id), str(logger), user=coordinator
        )
        assert code == 0, err
        assert imported["excursion"] is True and imported["quarantine_id"]
        bag = keyed(kit.product_bags[0])
        code, _, err = custody("scan", coi, "storage", bag, user=people.nurse.user.username)
        assert code == 1 and "CUSTODY-QUARANTINED" in err

        qp = people.qp.user.username
        code, listed, _ = custody("quarantine", "list", "--open", user=qp)
        assert [q["id"] for q in listed] == [imported["quarantine_id"]]
        code, _, err = custody(
            "quarantine", "decide", imported["quarantine_id"], "release", "--reason", "ok",
            user=people.qc.user.username,
        )  # fmt: skip
        assert code == 2 and "qualified person" in err
        code, decided, err = custody(
            "quarantine", "decide", imported["quarantine_id"], "release",
            "--reason", "20 s at -60 °C; within the stability data",
            user=qp,
        )  # fmt: skip
        assert code == 0 and decided["status"] == "released", err
        code, out, err = custody("scan", coi, "storage", bag, user=people.nurse.user.username)
        assert code == 0, err
        code, incoming, _ = custody("shipment", "incoming", user=coordinator)
        assert incoming == []
        with Session(cli_database) as check:
            rules = check.execute(
                select(CustodyDeviation.rule).where(CustodyDeviation.episode_id == world.episode.id)
            ).scalars()
            assert list(rules) == ["CUSTODY-QUARANTINED"]
    finally:
        purge(cli_database, site_id=world.net.site.id, extra_users=[people.courier.id])
