"""`cartflow simulate`: tables, JSON, the sweep's chart, and one-line refusals with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from cartflow.cli import simulate
from tests.simulation.builders import demo_dict

# The command exactly as cli/main.py registers it, without importing the other command groups.
app = typer.Typer()
app.command("simulate")(simulate.simulate)


@app.command("version", hidden=True)
def _version() -> None:
    """A second command keeps `simulate` a sub-command, as in the real app."""


runner = CliRunner()
QUICK = ["--years", "1", "--warmup-years", "0.5", "--replications", "2", "--jobs", "1"]


def test_table_output_for_the_demo_network() -> None:
    result = runner.invoke(app, ["simulate", "demo_network", *QUICK, "--seed", "3"])
    assert result.exit_code == 0, result.output
    for text in (
        "Patients infused per year",
        "Wait for a slot, 90th percentile",
        "Vein-to-vein time, median",
        "Utilisation",
        "nmrc-hem-gmp",
        "Conservation",
    ):
        assert text in result.output


def test_json_output_is_deterministic_for_a_seed() -> None:
    args = ["simulate", "demo_network", *QUICK, "--seed", "9", "--policy", "priority", "--json"]
    first = runner.invoke(app, args)
    second = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    assert body == json.loads(second.stdout)
    assert body["policy"] == "priority" and body["replications"] == 2
    infused = body["results"]["infused_per_year"]
    assert infused["ci95_low"] <= infused["mean"] <= infused["ci95_high"]
    assert "utilisation.beds[petrov]" in body["results"]


def test_sweep_prints_table_answer_and_writes_png(tmp_path: Path) -> None:
    png = tmp_path / "sweep.png"
    result = runner.invoke(
        app,
        [
            "simulate",
            "mgc_reference",
            "--years",
            "4",
            "--replications",
            "3",
            "--jobs",
            "1",
            "--sweep",
            "devices=20:24:2",
            "--target-p90",
            "7",
            "--plot",
            str(png),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [p["devices"] for p in body["sweep"]["points"]] == [20, 22, 24]
    assert body["sweep"]["devices_needed"]["by_mean"] in (22, 24)
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = runner.invoke(
        app,
        [
            "simulate",
            "mgc_reference",
            "--years",
            "2",
            "--replications",
            "2",
            "--jobs",
            "1",
            "--sweep",
            "devices=21:22",
            "--plot",
            str(png),
        ],
    )
    assert table.exit_code == 0, table.output
    assert "Devices needed to keep the 90th-percentile wait under 7 days" in table.output


def _one_line_exit_2(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_malformed_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    data = demo_dict()
    data["centers"][2]["infusion_beds"] = -4
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    line = _one_line_exit_2(["simulate", str(bad)])
    assert line.startswith("bad.yaml: centers.2.infusion_beds: ")


def test_bad_options_exit_2_with_one_line() -> None:
    assert "--replications" in _one_line_exit_2(["simulate", "demo_network", "--replications", "1"])
    assert "--policy" in _one_line_exit_2(["simulate", "demo_network", "--policy", "lottery"])
    assert "--sweep" in _one_line_exit_2(["simulate", "demo_network", "--sweep", "beds=1:3"])
    assert "--years" in _one_line_exit_2(["simulate", "demo_network", "--years", "0"])
    assert "no such file" in _one_line_exit_2(["simulate", "nowhere.yaml"])
