"""The `cartflow registry km|cif` file contract: JSON shape, R numbers, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cartflow.cli.registry import app
from tests.registry.datasets import bmt, lung

CONTRACT_KEYS = {
    "name",
    "n",
    "events",
    "timeline",
    "estimate",
    "ci_lower",
    "ci_upper",
    "median",
    "median_ci",
}


@pytest.fixture
def lung_csv(tmp_path: Path) -> Path:
    path = tmp_path / "lung.csv"
    lung().to_csv(path, index=False)
    return path


@pytest.fixture
def bmt_csv(tmp_path: Path) -> Path:
    dis, time, status = bmt()
    path = tmp_path / "bmt.csv"
    lines = ["dis,ftime,status"] + [
        f"{d},{t},{s}" for d, t, s in zip(dis, time, status, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_km_json_matches_contract_and_r(lung_csv: Path) -> None:
    code, out, _ = _run("km", str(lung_csv), "--time", "time", "--event", "status", "--json")
    assert code == 0
    report = json.loads(out)
    (group,) = report["groups"]
    assert set(group) == CONTRACT_KEYS
    assert (group["name"], group["n"], group["events"]) == ("all", 228, 165)
    assert group["median"] == 310
    assert group["median_ci"] == [285, 363]
    assert len(group["timeline"]) == len(group["estimate"]) == len(group["ci_lower"])


def test_km_groups_and_log_log(lung_csv: Path) -> None:
    code, out, _ = _run(
        "km",
        str(lung_csv),
        "--time",
        "time",
        "--event",
        "status",
        "--group",
        "sex",
        "--ci",
        "log-log",
        "--json",
    )
    assert code == 0
    groups = {g["name"]: g for g in json.loads(out)["groups"]}
    assert set(groups) == {"1", "2"}
    assert (groups["1"]["n"], groups["2"]["n"]) == (138, 90)


def test_km_table_prints_medians_and_log_rank(lung_csv: Path) -> None:
    code, out, _ = _run(
        "km", str(lung_csv), "--time", "time", "--event", "status", "--group", "sex"
    )
    assert code == 0
    assert "270" in out and "426" in out
    assert "Log-rank" in out and "10.33" in out


def test_cif_json_has_one_entry_per_group_and_cause(bmt_csv: Path) -> None:
    code, out, _ = _run(
        "cif", str(bmt_csv), "--time", "ftime", "--event", "status", "--group", "dis", "--json"
    )
    assert code == 0
    groups = json.loads(out)["groups"]
    assert [(g["name"], g["cause"]) for g in groups] == [("0", 1), ("0", 2), ("1", 1), ("1", 2)]
    assert all(set(g) == CONTRACT_KEYS | {"cause"} for g in groups)
    assert sum(g["events"] for g in groups) == 24


def test_cif_without_group_reproduces_bmt_anchor(bmt_csv: Path) -> None:
    code, out, _ = _run("cif", str(bmt_csv), "--time", "ftime", "--event", "status", "--json")
    assert code == 0
    relapse = json.loads(out)["groups"][1]
    assert relapse["cause"] == 2
    assert relapse["estimate"][-1] == pytest.approx(0.4813, abs=5e-5)


def test_plot_option_writes_an_image(lung_csv: Path, tmp_path: Path) -> None:
    target = tmp_path / "km.svg"
    code, _, _ = _run(
        "km", str(lung_csv), "--time", "time", "--event", "status", "--plot", str(target)
    )
    assert code == 0
    assert target.read_text().lstrip().startswith("<?xml")


def _bad_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("body", "command", "needles"),
    [
        ("t,e\n1,1\n", "km", ["'time'", "not found"]),
        ("time,e\n1,1\nabc,0\n", "km", ["'time'", "row 2", "abc"]),
        ("time,e\n1,1\n-3,0\n", "km", ["'time'", "row 2", "negative"]),
        ("time,e\n1,1\n2,\n", "km", ["'e'", "row 2", "empty"]),
        ("time,e\n1,1\n2,2\n", "km", ["'e'", "row 2"]),
        ("time,e\n1,1\n2,1.5\n", "cif", ["'e'", "row 2"]),
    ],
)
def test_bad_input_is_one_line_naming_column_and_row(
    tmp_path: Path, body: str, command: str, needles: list[str]
) -> None:
    path = _bad_file(tmp_path, body)
    code, out, err = _run(command, str(path), "--time", "time", "--event", "e", "--json")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    for needle in needles:
        assert needle in err


def test_missing_file_and_bad_transform_exit_2(tmp_path: Path, lung_csv: Path) -> None:
    code, _, err = _run("km", str(tmp_path / "none.csv"), "--time", "t", "--event", "e")
    assert code == 2 and "not found" in err
    code, _, err = _run("km", str(lung_csv), "--time", "time", "--event", "status", "--ci", "x")
    assert code == 2 and len(err.strip().splitlines()) == 1
