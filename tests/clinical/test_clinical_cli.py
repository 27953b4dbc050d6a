"""`cartflow clinical`: a clinician records the bedside check, the infusion and a toxicity course
from the command line, against a database built by the migrations; refusals are one line, exit 2.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app
from cartflow.config import get_settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from tests.clinical.factories import (
    Team,
    Timeline,
    bag_read,
    in_lymphodepletion,
    make_team,
    timeline,
    wristband_read,
)
from tests.factories import PASSWORD


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Team, Any, Timeline]]:
    """A committed episode in lymphodepletion in a fresh SQLite file the CLI is pointed at."""
    url = f"sqlite:///{tmp_path / 'clinical.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    when = timeline(days_ago=3)
    with Session(engine, expire_on_commit=False) as session:
        team = make_team(session, uuid.uuid4().hex[:8].upper())
        episode = in_lymphodepletion(session, team, when)
        reads = (bag_read(episode), wristband_read(episode))
        session.commit()
    engine.dispose()
    monkeypatch.setenv("CARTFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield team, (episode.id, *reads), when
    get_settings.cache_clear()


def _run(user: str, *args: str, password: str = PASSWORD) -> Any:
    result = CliRunner().invoke(
        app, ["clinical", *args, "--user", user, "--password-stdin"], input=password + "\n"
    )
    return result


def _ok(user: str, *args: str) -> Any:
    result = _run(user, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_infusion_and_toxicity_course_from_the_command_line(
    cli_db: tuple[Team, Any, Timeline],
) -> None:
    team, (episode_id, bag, band), when = cli_db
    episode = str(episode_id)
    nurse, clinician = team.nurse.username, team.clinician.username

    wrong_bag = _run(
        nurse, "bedside-scan", episode, "--bag", "&/CHA999926999999", "--wristband", band
    )
    assert wrong_bag.exit_code == 2
    assert "BEDSIDE-BAG-MISMATCH" in wrong_bag.stderr and wrong_bag.stderr.count("\n") == 1
    naive = _run(
        nurse,
        "bedside-scan",
        episode,
        "--bag",
        bag,
        "--wristband",
        band,
        "--at",
        "2026-01-01T09:00",
    )
    assert naive.exit_code == 2 and "offset" in naive.stderr
    wrong_password = _run(
        nurse, "bedside-scan", episode, "--bag", bag, "--wristband", band, password="nope"
    )
    assert wrong_password.exit_code == 2 and wrong_password.stderr.count("\n") == 1

    at = ["--at", when.first_scan.isoformat()]
    check = _ok(nurse, "bedside-scan", episode, "--bag", bag, "--wristband", band, *at)
    assert check["status"] == "awaiting_second"
    same = _run(nurse, "bedside-confirm", check["id"], "--bag", bag, "--wristband", band)
    assert same.exit_code == 2 and "BEDSIDE-SAME-PERSON" in same.stderr
    at = ["--at", when.second_scan.isoformat()]
    verified = _ok(
        clinician, "bedside-confirm", check["id"], "--bag", bag, "--wristband", band, *at
    )
    assert verified["status"] == "verified" and len(verified["signatures"]) == 2

    infusion = _ok(
        clinician,
        "infuse",
        episode,
        "--check",
        check["id"],
        "--thaw-start",
        when.thaw_start.isoformat(),
        "--thaw-end",
        when.thaw_end.isoformat(),
        "--start",
        when.day0.isoformat(),
        "--end",
        when.infusion_end.isoformat(),
        "--cells",
        "100",
        "--volume",
        "40",
    )
    assert infusion["thaw_window_exceeded"] is False

    crs = json.dumps(
        {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}
    )
    graded = _ok(clinician, "assess", episode, "--at", when.at(1).isoformat(), "--crs", crs)
    assert graded["crs_grade"] == 3
    worklist = _ok(clinician, "worklist", "toxicity")
    assert [row["episode_id"] for row in worklist] == [episode]
    toci = _ok(
        clinician,
        "treat",
        episode,
        "--agent",
        "tocilizumab",
        "--indication",
        "crs",
        "--dose-mg",
        "320",
        "--at",
        when.at(1, 1).isoformat(),
    )
    assert toci["label_dose_mg"] == 320
    resolved = json.dumps({"temperature_c": 37.0, "hypotension": "none", "oxygen": "none"})
    _ok(clinician, "assess", episode, "--at", when.at(2).isoformat(), "--crs", resolved)
    course = _ok(clinician, "course", episode)
    assert course["crs"]["max_grade"] == 3 and course["crs"]["duration_days"] == 1
    assert course["treatments"] == {"tocilizumab": 1}

    malformed = _run(
        clinician,
        "assess",
        episode,
        "--at",
        when.at(2).isoformat(),
        "--crs",
        '{"temperature_c": "hot"}',
    )
    assert malformed.exit_code == 2 and malformed.stderr.startswith("crs.")
    other = _run(team.other_center_clinician.username, "course", episode)
    assert other.exit_code == 2 and "no episode" in other.stderr
