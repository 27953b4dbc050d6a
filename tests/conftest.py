"""Test fixtures: a real database built by the migrations (SQLite by default, PostgreSQL when
CARTFLOW_TEST_DATABASE=postgresql), each test in a transaction that is rolled back, and the real
FastAPI app bound to that transaction."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cartflow.app import create_app
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import get_session, must_roll_back

# Property tests judge correctness, not speed: a loaded CI machine must not fail them on time.
hypothesis_settings.register_profile("cartflow", deadline=None, print_blob=True)
hypothesis_settings.load_profile("cartflow")

BACKEND = os.environ.get("CARTFLOW_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "CARTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _create_pg_database(name: str) -> str:
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(name: str) -> None:
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if BACKEND == "postgresql":
        name = f"cartflow_test_{worker}_{os.getpid()}"
        url = _create_pg_database(name)
        upgrade(url)
        yield url
        _drop_pg_database(name)
    else:
        path = Path(tmp_path_factory.mktemp("db")) / "cartflow.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test; the code under
    test may commit (savepoints) without leaking into the next test."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url)


@pytest.fixture
def client(settings: Settings, session: Session) -> Iterator[TestClient]:
    app = create_app(settings)

    def _session_in_test_transaction(request: Request) -> Iterator[Session]:
        # Keep the test's own set-up: a refused request rolls back only its own work.
        session.commit()
        try:
            yield session
            if must_roll_back(request, session):
                session.rollback()
            else:
                session.commit()
        except Exception:
            session.rollback()
            raise

    app.dependency_overrides[get_session] = _session_in_test_transaction
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8].upper()
