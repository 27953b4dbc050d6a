"""`cartflow manufacturing ...` on a database file: the whole path from receipt to a certificate,
and bad input as one line on stderr with exit code 2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.manufacturing import app
from cartflow.config import get_settings
from cartflow.db.base import utcnow
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from tests.factories import PASSWORD, make_network
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    PROCESS,
    collected_episode,
    make_specification,
    make_staff,
)


@dataclass
class Seeded:
    episode_id: str
    planner: str
    analyst: str
    second_analyst: str
    qp: str
    received_at: dt.datetime


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        net = make_network(session, "C0FFEE")
        make_specification(session, net)
        staff = make_staff(session, net)
        received = utcnow() - dt.timedelta(days=16)
        episode = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
        seeded = Seeded(
            str(episode.id),
            staff.planner.user.username,
            staff.analyst.user.username,
            staff.second_analyst.user.username,
            staff.qp.user.username,
            received,
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("CARTFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield seeded
    get_settings.cache_clear()


def _run(args: list[str], password: str = PASSWORD) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--password-stdin"], input=password + "\n")
    return result.exit_code, result.stdout, result.stderr


def test_the_whole_path_through_the_command_line(seeded: Seeded, tmp_path: Path) -> None:
    received = seeded.received_at
    code, out, err = _run(
        [
            "start",
            seeded.episode_id,
            "--device",
            "DEV-1",
            "--received-at",
            received.isoformat(),
            "--user",
            seeded.planner,
        ]
    )
    assert code == 0, err
    assert "in_process; next step: activation" in out
    din = out.split()[1]
    for step, start_day, end_day in PROCESS:
        code, out, err = _run(
            [
                "step",
                din,
                step.value,
                "--started-at",
                (received + dt.timedelta(days=start_day)).isoformat(),
                "--completed-at",
                (received + dt.timedelta(days=end_day)).isoformat(),
                "--user",
                seeded.planner,
            ]
        )
        assert code == 0, err
    code, out, err = _run(["submit", din, "--user", seeded.planner])
    assert code == 0 and "in_qc" in out and "specification version 1" in out, err

    values = [f"{test}={value}" for test, value in ARI_0001_LOT_01.items()]
    code, out, err = _run(["result", din, *values, "--user", seeded.analyst])
    assert code == 0, err
    assert out.count("within specification") == len(ARI_0001_LOT_01)
    code, out, err = _run(["verify", "--batch", din, "--user", seeded.analyst])
    assert code == 2 and "nothing awaits your verification" in err
    code, out, err = _run(["verify", "--batch", din, "--user", seeded.second_analyst])
    assert code == 0 and out.count("verified") == len(ARI_0001_LOT_01), err

    code, out, err = _run(["worklist", "qp", "--user", seeded.qp])
    assert code == 0 and f"{din} in_qc: ready" in out, err
    code, out, err = _run(["release", din, "--user", seeded.qp])
    assert code == 0, err
    assert "released" in out and "Released for infusion: Queenie Qualified" in out
    assert "(verifies)" in out
    pdf = tmp_path / "coa.pdf"
    code, out, err = _run(["coa", din, "--output", str(pdf), "--user", seeded.qp])
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF-"), err


def test_bad_input_is_one_line_and_exit_2(seeded: Seeded) -> None:
    cases = [
        (["step", "A999926000001", "activation", "--started-at", "2026-01-01T10:00"], "started_at"),
        (["step", "A999926000001", "thawing", "--started-at", "2026-01-01T10:00Z"], "step:"),
        (["start", "not-an-id", "--device", "DEV-1"], "episode:"),
        (["start", seeded.episode_id, "--device", "DEV-9"], "device:"),
        (["show", "A999926999999"], "no batch"),
    ]
    for args, message in cases:
        code, out, err = _run([*args, "--user", seeded.planner])
        assert code == 2, (args, out, err)
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, (args, err)
    code, _out, err = _run(["show", "A999926999999", "--user", seeded.planner], password="wrong")
    assert code == 2 and err == "wrong username or password\n"


def test_specification_check_and_test_catalogue(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"viability_percent": {"min": 80}, "sterility": {"equals": "no growth"}}')
    result = CliRunner().invoke(app, ["check-spec", str(good)])
    assert (
        result.exit_code == 0
        and result.stdout == "viability_percent: ≥ 80 %\nsterility: no growth\n"
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"viability_percent": {"min": 170}}')
    result = CliRunner().invoke(app, ["check-spec", str(bad)])
    assert result.exit_code == 2 and result.stderr.startswith("criteria.viability_percent.min:")
    catalogue = CliRunner().invoke(app, ["tests"])
    assert catalogue.exit_code == 0 and "car_t_dose: Dose" in catalogue.stdout
