"""Settings: defaults for a laptop, and a production that refuses the public default secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cartflow.config import DEFAULT_SECRET_KEY, Settings


def test_default_database_is_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARTFLOW_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite:///var/cartflow.sqlite3"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTFLOW_DATABASE_URL", "postgresql://db/cartflow")
    monkeypatch.setenv("CARTFLOW_PORT", "9000")
    settings = Settings()
    assert settings.database_url == "postgresql://db/cartflow" and settings.port == 9000


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="CARTFLOW_SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET_KEY)
    assert Settings(environment="production", secret_key="x" * 40).secret_key == "x" * 40
