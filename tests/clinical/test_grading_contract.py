"""The grading contract through the CLI: CliRunner, and once as a real `cartflow` process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cartflow.cli.main import app as cli_app

CARTFLOW = Path("/work/main/.venv/bin/cartflow")

C1 = {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}
C5 = {
    "temperature_c": 37.1,
    "anticytokine_given": True,
    "hypotension": "multiple_vasopressors",
    "oxygen": "none",
}
P1 = {
    "age_years": 7,
    "capd_score": 10,
    "consciousness": "awakens_spontaneously",
    "seizure": "none",
    "cerebral_edema": "none",
}

runner = CliRunner()


def run_cli(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(cli_app, ["grade", *args], input=stdin)


def test_cli_object_on_stdin_prints_a_list() -> None:
    result = run_cli("crs", stdin=json.dumps(C1))
    assert result.exit_code == 0
    [graded] = json.loads(result.stdout)
    assert set(graded) == {"grade", "reason"}
    assert graded["grade"] == 3


def test_cli_list_from_a_file_keeps_input_order(tmp_path: Path) -> None:
    source = tmp_path / "crs.json"
    source.write_text(json.dumps([C5, C1, {**C1, "temperature_c": 37.0}]), encoding="utf-8")
    result = run_cli("crs", str(source))
    assert result.exit_code == 0
    assert [g["grade"] for g in json.loads(result.stdout)] == [4, 3, 0]


def test_cli_icans_child_is_graded_by_capd() -> None:
    result = run_cli("icans", "-", stdin=json.dumps(P1))
    assert result.exit_code == 0
    [graded] = json.loads(result.stdout)
    assert graded["grade"] == 3
    assert "CAPD" in graded["reason"]


def test_cli_empty_list_is_an_empty_list() -> None:
    result = run_cli("icans", stdin="[]")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


@pytest.mark.parametrize(
    ("command", "payload", "named"),
    [
        ("crs", {**C1, "hypotension": "two_pressors"}, "hypotension"),
        ("crs", {k: v for k, v in C1.items() if k != "oxygen"}, "oxygen"),
        ("crs", {**C1, "temperature_c": 101.3}, "temperature_c"),  # Fahrenheit
        ("crs", {**C1, "died_of_crs": "no"}, "died_of_crs"),
        ("crs", {**C1, "hypotenson": "none"}, "hypotenson"),  # typo in a field name
        ("icans", {**P1, "ice_score": 5}, "ice_score"),  # ICE under age 12
        ("icans", {**P1, "capd_score": 40}, "capd_score"),
        ("icans", {**P1, "consciousness": "drowsy"}, "consciousness"),
    ],
)
def test_cli_malformed_object_exits_2_with_one_line_naming_the_field(
    command: str, payload: dict[str, Any], named: str
) -> None:
    result = run_cli(command, stdin=json.dumps(payload))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert named in lines[0]


def test_cli_malformed_list_item_is_named_by_index() -> None:
    result = run_cli("crs", stdin=json.dumps([C1, C1, {**C1, "oxygen": "lots"}]))
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "[2].oxygen" in line
    assert "[0]" not in line and "[1]" not in line


@pytest.mark.parametrize("stdin", ["{not json", "42", '"text"', "[1]", ""])
def test_cli_non_objects_exit_2_with_one_line(stdin: str) -> None:
    result = run_cli("crs", stdin=stdin)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("icans", str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.skipif(not CARTFLOW.exists(), reason="installed console script not present")
def test_installed_cartflow_command_in_a_real_process() -> None:
    # One real process (startup costs seconds): exit code 2, one stderr line, no traceback.
    bad = subprocess.run(
        [str(CARTFLOW), "grade", "icans"],
        input=json.dumps([P1, {**P1, "seizure": "long"}]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    [line] = bad.stderr.splitlines()
    assert "[1].seizure" in line
    assert "Traceback" not in bad.stderr
