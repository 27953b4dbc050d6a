"""Fixtures for operations tests, which need whole databases of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKEND, _create_pg_database, _drop_pg_database


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: restore replaces everything in it."""
    if BACKEND == "postgresql":
        name = f"cartflow_backup_{uuid.uuid4().hex[:8]}"
        yield _create_pg_database(name)
        _drop_pg_database(name)
    else:
        yield f"sqlite:///{tmp_path / 'live.sqlite3'}"
