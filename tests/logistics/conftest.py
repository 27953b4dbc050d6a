"""Fixtures of the custody tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from cartflow.db.engine import make_engine


@pytest.fixture
def committed_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=20, max_overflow=0, pool_timeout=120)
    yield engine
    engine.dispose()
