"""The `cartflow identity` command-line contract (issue 3, item 2): output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cartflow.cli.main import app

runner = CliRunner()
CARTFLOW = Path(sys.executable).parent / "cartflow"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["identity", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("value", "k"),
    [
        (["G1234 17 654321"], "A"),  # ST-001 Appendix A.1
        (["A9999 21 123456"], "3"),  # ST-001 Figure 2
        (["A9998", "18", "123456"], "N"),  # §7.5.1.1, words unquoted
    ],
)
def test_check_character_prints_k(value: list[str], k: str) -> None:
    assert run("check-character", *value) == (0, f"{k}\n", "")


def test_check_character_of_a_chain_of_identity_identifier() -> None:
    code, out, _ = run("check-character", "CH A9999 23 ABC123")
    assert code == 0
    assert len(out.strip()) == 1


@pytest.mark.parametrize("value", ["A9999", "A9999 21 12345X", "a9999 21 123456", "CHA9999"])
def test_check_character_refuses_malformed_values(value: str) -> None:
    code, out, err = run("check-character", value)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A9999 21 123456 3", 0),
        ("A9999 21 123456 4", 1),
        ("G1234 17 654321 A", 0),
        ("G1234 17 654321 a", 2),
        ("A9999 21 12345 3", 2),
        ("A9999 21 123456", 2),
    ],
)
def test_verify_exit_codes_in_process(value: str, expected: int) -> None:
    code, _, err = run("verify", value)
    assert code == expected
    if expected:
        assert err.count("\n") == 1


def test_verify_exit_codes_of_the_installed_command() -> None:
    cases = {"A9999 21 123456 3": 0, "A9999 21 123456 4": 1, "A9999 21 12345": 2}
    # Started together: most of each run is importing the whole CLI.
    running = {
        value: subprocess.Popen(
            [str(CARTFLOW), "identity", "verify", value],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for value in cases
    }
    for value, process in running.items():
        _, err = process.communicate(timeout=120)
        assert process.returncode == cases[value], err
        assert err.count("\n") == (1 if cases[value] else 0)
        assert "Traceback" not in err


def test_wrong_check_character_does_not_reveal_the_right_one() -> None:
    _, _, err = run("verify", "A9999 21 123456 4")
    assert "does not match A9999 21 123456" in err
    assert " 3" not in err


def test_parse_scan() -> None:
    code, out, _ = run("parse-scan", "=A99992112345600&/CHA999923ABC123")
    assert code == 0
    parsed = json.loads(out)
    assert parsed["din"] == "A9999 21 123456"
    assert parsed["coi"] == "CH A9999 23 ABC123"
    code, out, err = run("parse-scan", "=A99992112345600&/CHA9999")
    assert (code, out) == (2, "")
    assert "cut short" in err


def test_sample_label_writes_pdf_and_zpl(tmp_path: Path) -> None:
    pdf, zpl = tmp_path / "bag.pdf", tmp_path / "bag.zpl"
    assert run("sample-label", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert run("sample-label", str(zpl), "--kind", "cassette")[0] == 0
    assert zpl.read_text(encoding="utf-8").startswith("^XA")
    code, _, err = run("sample-label", str(pdf), "--kind", "bucket")
    assert code == 2 and "unknown label kind" in err
