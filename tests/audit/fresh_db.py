"""A database of its own, committed to for real, for tests that run the CLI or tamper with rows
(never the shared test database: a tampered chain there would break every later test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from cartflow.cli.foundation import audit_app, user_app
from cartflow.config import get_settings
from cartflow.db.migrate import upgrade
from tests.conftest import BACKEND, _create_pg_database, _drop_pg_database


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    if BACKEND == "postgresql":
        name = f"cartflow_fresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = _create_pg_database(name)
        upgrade(url)
        yield url
        _drop_pg_database(name)
    else:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        upgrade(url)
        yield url


# The `user` and `audit` groups as `cartflow.cli.main` registers them (imported alone so that a
# half-built command group elsewhere cannot break these tests).
_cli = typer.Typer(pretty_exceptions_enable=False)
_cli.add_typer(user_app, name="user")
_cli.add_typer(audit_app, name="audit")


def run_cli(url: str, args: list[str], stdin: str = "") -> Result:
    """`cartflow ARGS` in-process (settings read afresh from the environment)."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            _cli, args, input=stdin, env={"CARTFLOW_DATABASE_URL": url}, catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()
