"""The operator's commands: database upgrade, user creation, and their one-line refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(args: list[str], url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartflow.cli.main", *args],
        env={"CARTFLOW_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_db_upgrade_then_user_add(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert _run(["db", "upgrade"], url).returncode == 0
    created = _run(
        ["user", "add", "courier1", "--name", "A Courier", "--role", "courier", "--password-stdin"],
        url,
        "a-good-long-password\n",
    )
    assert created.returncode == 0, created.stderr
    again = _run(
        ["user", "add", "courier1", "--name", "A Courier", "--role", "courier", "--password-stdin"],
        url,
        "a-good-long-password\n",
    )
    assert again.returncode == 2
    assert (
        again.stderr.count("\n") == 1
        and "taken" in again.stderr
        and "Traceback" not in again.stderr
    )


def test_user_add_refusals_are_one_line_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    _run(["db", "upgrade"], url)
    cases = [
        (["--role", "wizard"], "a-good-long-password", "unknown role"),
        (["--role", "coordinator"], "a-good-long-password", "must be scoped to a center"),
        (["--role", "coordinator@center:NOPE"], "a-good-long-password", "unknown center"),
        (["--role", "courier"], "short", "at least 10"),
    ]
    for extra, password, message in cases:
        result = _run(
            ["user", "add", "u1", "--name", "U", *extra, "--password-stdin"], url, password + "\n"
        )
        assert result.returncode == 2, result
        assert message in result.stderr and result.stderr.count("\n") == 1


def test_demo_seeds_every_state(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    result = _run(["demo", "--no-serve"], url)
    assert result.returncode == 0, result.stderr
    assert "admin" in result.stdout and "cartflow-demo" in result.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "demo.sqlite3") as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM episode GROUP BY state").fetchall())
        synthetic = conn.execute("SELECT min(is_synthetic) FROM patient").fetchone()[0]
    assert synthetic == 1
    assert {
        "referred",
        "slot_booked",
        "in_manufacturing",
        "qc",
        "shipped",
        "infused",
        "follow_up",
        "closed",
        "withdrawn",
    } <= set(states)
    verify = _run(["audit", "verify"], url)
    assert verify.returncode == 0 and "verified" in verify.stdout
    # Running the demo again does not seed twice.
    assert _run(["demo", "--no-serve"], url).returncode == 0
    with sqlite3.connect(tmp_path / "demo.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM episode").fetchone()[0] == sum(states.values())
