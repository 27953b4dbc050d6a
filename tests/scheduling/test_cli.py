"""The stable file contract of ``cartflow schedule`` (exit codes and what is printed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cartflow.cli.main import app

runner = CliRunner()


def _generate(tmp_path: Path, episodes: int = 25) -> Path:
    path = tmp_path / "instance.json"
    result = runner.invoke(
        app, ["schedule", "generate", "-o", str(path), "--episodes", str(episodes), "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    return path


def test_solve_then_validate(tmp_path: Path) -> None:
    inst = _generate(tmp_path)
    plan = tmp_path / "plan.json"
    solved = runner.invoke(
        app,
        ["schedule", "solve", str(inst), "--method", "exact", "--time-limit", "5", "-o", str(plan)],
    )
    assert solved.exit_code == 0, solved.output
    lines = dict(line.split(": ", 1) for line in solved.output.splitlines())
    objective = int(lines["objective"])
    assert int(lines["lower bound"]) <= objective
    assert lines["gap"].endswith("%")
    checked = runner.invoke(app, ["schedule", "validate", str(inst), str(plan)])
    assert checked.exit_code == 0
    assert checked.output.strip() == f"feasible; objective: {objective}"


def test_validate_lists_violations_with_exit_1(tmp_path: Path) -> None:
    inst = _generate(tmp_path)
    plan = tmp_path / "plan.json"
    runner.invoke(app, ["schedule", "solve", str(inst), "--method", "greedy", "-o", str(plan)])
    data = json.loads(plan.read_text())
    data["assignments"][0]["infusion_date"] = "2000-01-01"
    plan.write_text(json.dumps(data))
    checked = runner.invoke(app, ["schedule", "validate", str(inst), str(plan)])
    assert checked.exit_code == 1
    assert "TRANSIT-OUT" in checked.output
    assert "HORIZON" in checked.output


def test_malformed_files_exit_2_with_one_line(tmp_path: Path) -> None:
    inst = _generate(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"assignments": [}')
    for args in (
        ["schedule", "validate", str(inst), str(bad)],
        ["schedule", "validate", str(bad), str(bad)],
        ["schedule", "validate", str(tmp_path / "missing.json"), str(bad)],
        ["schedule", "solve", str(inst), "--method", "magic", "-o", str(bad)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_replan_prints_what_moved(tmp_path: Path) -> None:
    inst = _generate(tmp_path, episodes=30)
    plan = tmp_path / "plan.json"
    runner.invoke(app, ["schedule", "solve", str(inst), "--time-limit", "5", "-o", str(plan)])
    data = json.loads(plan.read_text())
    start = json.loads(inst.read_text())["start_date"]
    planned = [a for a in data["assignments"] if a["manufacturing_start"] >= start]
    victim = min(planned, key=lambda a: a["manufacturing_start"])
    new_plan, new_inst = tmp_path / "new.json", tmp_path / "new-instance.json"
    result = runner.invoke(
        app,
        [
            "schedule", "replan", str(inst), str(plan), "-o", str(new_plan),
            "--on", victim["manufacturing_start"], "--failed-batch", victim["order"],
            "--instance-output", str(new_inst), "--time-limit", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"failed: {victim['order']}" in result.output
    checked = runner.invoke(app, ["schedule", "validate", str(new_inst), str(new_plan)])
    assert checked.exit_code == 0, checked.output


def test_fcfs_plans_validate_through_the_cli(tmp_path: Path) -> None:
    inst = _generate(tmp_path)
    plan = tmp_path / "fcfs.json"
    solved = runner.invoke(
        app, ["schedule", "solve", str(inst), "--method", "fcfs", "-o", str(plan)]
    )
    assert solved.exit_code == 0, solved.output
    assert json.loads(plan.read_text())["method"] == "fcfs"
    assert runner.invoke(app, ["schedule", "validate", str(inst), str(plan)]).exit_code == 0
