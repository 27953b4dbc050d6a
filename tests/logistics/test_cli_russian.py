"""`cartflow custody` in Russian (issue #12): refusals are one Russian line on stderr with exit 2
(exit 1 for a hard stop, whose deviation is recorded), with CARTFLOW_LANG=ru; JSON output keeps
its keys and codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cartflow.cli.main import app
from cartflow.config import get_settings
from cartflow.i18n import DEFAULT_LOCALE, use_locale
from cartflow.identity.isbt128 import Din
from tests.factories import PASSWORD
from tests.logistics.committed import purge
from tests.logistics.test_cli import _world

runner = CliRunner()


@pytest.fixture
def cli_database(
    committed_engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("CARTFLOW_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield committed_engine
    get_settings.cache_clear()


def custody(*args: str, user: str, lang: str = "ru") -> tuple[int, Any, str]:
    # The command sets the language from CARTFLOW_LANG for the rest of its context; `use_locale`
    # restores the test's own, as a new process would start afresh.
    with use_locale(DEFAULT_LOCALE):
        result = runner.invoke(
            app,
            ["custody", *args, "--user", user, "--password-stdin"],
            input=PASSWORD + "\n",
            env={"CARTFLOW_LANG": lang},
        )
    return result.exit_code, result.stdout, result.stderr


def test_custody_refusals_read_in_russian(cli_database: Engine, unique: str) -> None:
    world, _ = _world(cli_database, unique)
    people = world.people
    coi = world.episode.chain_of_identity
    assert coi is not None
    nurse, planner = people.nurse.user.username, people.planner.user.username
    try:
        # A refusal by the service: the planner does not label collection bags.
        code, out, err = custody("containers", coi, "--kind", "collection_bag", user=planner)
        assert (code, out) == (2, "")
        assert err == (
            "для маркировки (пакет афереза) здесь нужна одна из ролей "
            "координатор, медсестра афереза\n"
        )
        # Bad input refused before anything is read.
        code, out, err = custody("scan", coi, "collect", "x", user=nurse)
        assert code == 2 and err.startswith("step: 'collect' — допустимые значения: collection, ")
        # A hard stop: exit 1, the deviation is recorded and named, in Russian; the rule code stays.
        code, bags, err = custody("containers", coi, "--kind", "collection_bag", user=nurse)
        assert code == 0, err
        din = Din.parse(json.loads(bags)[0]["din"])
        wrong = f"{din.eye_readable} {'0' if din.check_character != '0' else '1'}"
        code, out, err = custody("scan", coi, "collection", wrong, user=nurse)
        assert (code, out) == (1, "")
        assert err.startswith("SCAN-CHECK-CHARACTER: контрольный символ ")
        assert "перечитайте этикетку (открыто отклонение " in err and err.count("\n") == 1
    finally:
        purge(cli_database, site_id=world.net.site.id, extra_users=[people.courier.id])
