"""Engine construction for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL keeps acknowledged writes across a crash
    # and lets readers proceed while one writer commits.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Take transactions into our own hands (pysqlite's implicit BEGIN is deferred and breaks
    # SAVEPOINT): see `_sqlite_begin_immediate`.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that read first and
    # writes later fails at once (SQLITE_BUSY_SNAPSHOT) when another writer committed meanwhile,
    # and the audit chain must never fork. Readers still proceed under WAL.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10, **kwargs: Any) -> Engine:
    """An engine whose pool holds `pool_size` connections and opens up to `max_overflow` more under
    load: `pool_size + max_overflow` is what the app's admission limit admits per process."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # An in-memory database has a pool of its own kind, without these parameters.
            kwargs |= {"pool_size": pool_size, "max_overflow": max_overflow}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Use psycopg 3, the driver we ship, whatever the URL spelling.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs |= {"pool_size": pool_size, "max_overflow": max_overflow}
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
