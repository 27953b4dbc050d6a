"""`cartflow identity` in Russian (issue #12): the refusal is one Russian line and exit 2; the
machine-readable output (the check character) is the same in every language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cartflow.cli.main import app
from cartflow.i18n import DEFAULT_LOCALE, use_locale

CARTFLOW = Path(sys.executable).parent / "cartflow"
runner = CliRunner()


def _invoke(*args: str, lang: str) -> tuple[int, str, str]:
    # The command sets the process's language from CARTFLOW_LANG; `use_locale` gives the test's
    # own language back afterwards, as a new process would start afresh.
    with use_locale(DEFAULT_LOCALE):
        result = runner.invoke(app, ["identity", *args], env={"CARTFLOW_LANG": lang})
    return result.exit_code, result.stdout, result.stderr


def test_a_malformed_value_is_refused_in_russian_with_exit_2() -> None:
    """The real command in its own process, as a user runs it."""
    env = {**os.environ, "CARTFLOW_LANG": "ru"}
    russian = subprocess.run(
        [str(CARTFLOW), "identity", "check-character", "A9999 21 12345"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert (russian.returncode, russian.stdout) == (2, "")
    assert russian.stderr == (
        "'A99992112345': символов — 12; ожидается DIN из 13 символов (например, A9999 21 123456) "
        "или идентификатор цепочки идентификации из 15 символов (например, CHA999923ABC123)\n"
    )
    code, out, err = _invoke("check-character", "A9999 21 12345", lang="en")
    assert (code, out) == (2, "")
    assert err.startswith("'A99992112345' has 12 characters; expected a 13-character DIN")


def test_a_lower_case_identifier_names_the_character_in_russian() -> None:
    code, _out, err = _invoke("check-character", "a9999 21 123456", lang="ru")
    assert code == 2
    assert err == (
        "DIN 'a999921123456': символ 1 'a' должен быть A-N, P-Z или 1-9 (FIN, первый символ) "
        "(идентификаторы ISBT 128 пишутся заглавными буквами)\n"
    )


def test_the_check_character_itself_is_the_same_in_russian() -> None:
    assert _invoke("check-character", "G1234 17 654321", lang="ru")[:2] == (0, "A\n")
    assert _invoke("verify", "A9999 21 123456 3", lang="ru")[:2] == (
        0,
        "A9999 21 123456 3: контрольный символ верен\n",
    )
    code, _out, err = _invoke("verify", "A9999 21 123456 4", lang="ru")
    assert (code, err) == (1, "контрольный символ 4 не соответствует A9999 21 123456\n")


def test_a_sample_label_takes_its_language_from_the_option(tmp_path: Path) -> None:
    from tests.pdftext import pdf_text

    out = tmp_path / "label.pdf"
    assert _invoke("sample-label", str(out), "--lang", "ru", lang="en")[0] == 0
    text = pdf_text(out.read_bytes())
    assert "Пациент" in text and "Иванова Анна Петровна" in text
    code, _out, err = _invoke("sample-label", str(out), "--lang", "de", lang="ru")
    assert (code, err) == (2, "--lang: 'de' — допустимые значения: ru, en\n")
