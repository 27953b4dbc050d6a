"""Exporting the live network as a planning instance that the solver plans and the validator accepts."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.models import EpisodeState, Role
from cartflow.scheduling.export import export_instance
from cartflow.scheduling.solver import solve, validate
from tests.factories import make_episode, make_network, make_user


def test_open_episodes_become_orders_and_plan_feasibly(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    waiting = [make_episode(session, net, state=EpisodeState.ELIGIBLE) for _ in range(3)]
    collected = make_episode(session, net, state=EpisodeState.APHERESIS_COLLECTED)
    released = make_episode(session, net, state=EpisodeState.RELEASED)
    planner = Actor(make_user(session, Role.PLANNER, site=net.site))
    today = dt.date.today()  # noqa: DTZ011
    instance = export_instance(session, actor=planner, start_date=today, horizon_days=90)

    ids = {o.id for o in instance.orders}
    assert {str(e.id) for e in waiting} | {str(collected.id)} <= ids
    assert str(released.id) not in ids
    order = instance.order_by_id[str(collected.id)]
    assert order.fixed_apheresis == today
    site = instance.site_by_id[net.site.code]
    assert site.devices == (f"{net.site.code}/DEV-1",) and site.qc_releases_per_day == 3
    assert instance.center_by_id[net.center_a.code].transit_days[net.site.code] == 1

    plan = solve(instance, method="greedy", time_limit=5, seed=1)
    report = validate(instance, plan)
    assert report.feasible, report.violations


def test_export_needs_a_planner_or_admin(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    coordinator = Actor(make_user(session, Role.COORDINATOR, center=net.center_a))
    with pytest.raises(RoleRequired):
        export_instance(session, actor=coordinator, start_date=dt.date(2026, 1, 1))


def test_cli_export_then_solve_and_validate(tmp_path: Path) -> None:
    env = {**os.environ, "CARTFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cartflow.cli.main", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    assert run("demo", "--no-serve", "--episodes", "40").returncode == 0
    instance_file, plan_file = tmp_path / "instance.json", tmp_path / "plan.json"
    exported = run(
        "schedule",
        "export-instance",
        "-o",
        str(instance_file),
        "--user",
        "planner.nmrc-hem-gmp",
        "--password-stdin",
        stdin="cartflow-demo\n",
    )
    assert exported.returncode == 0, exported.stderr
    data = json.loads(instance_file.read_text())
    assert {s["id"] for s in data["sites"]} == {"NMRC-HEM-GMP", "NVS-STEIN"}
    assert len(next(s for s in data["sites"] if s["id"] == "NMRC-HEM-GMP")["devices"]) == 22
    solved = run(
        "schedule", "solve", str(instance_file), "--method", "greedy", "-o", str(plan_file)
    )
    assert solved.returncode == 0, solved.stderr
    checked = run("schedule", "validate", str(instance_file), str(plan_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    wrong = run(
        "schedule",
        "export-instance",
        "-o",
        str(instance_file),
        "--user",
        "planner.nmrc-hem-gmp",
        "--password-stdin",
        stdin="nope\n",
    )
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
