"""Change an audit row directly in the database: `cartflow audit verify` names it (exit 1). On
PostgreSQL the append-only trigger refuses the change first; the test disables it as superuser,
as an attacker with full database rights could."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from cartflow.audit.service import SYSTEM_ACTOR, record_event
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import AuditEvent
from tests.audit.fresh_db import fresh_url, run_cli
from tests.conftest import BACKEND

__all__ = ["fresh_url"]


def _write_events(url: str, n: int) -> list[int]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        for i in range(n):
            record_event(
                session,
                actor=SYSTEM_ACTOR,
                record_type="batch",
                record_id=f"B-{i}",
                action="record_result",
                after={"viability_percent": 90 + i},
                reason="entered",
            )
    # Events are chained and written when their transaction commits: ids exist from then on.
    with session_scope(factory) as session:
        ids = list(session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
    engine.dispose()
    return ids


def _tamper(url: str, statement: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if BACKEND == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        conn.execute(text(statement))
        if BACKEND == "postgresql":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    engine.dispose()


def test_an_edited_value_is_named(fresh_url: str) -> None:
    ids = _write_events(fresh_url, 4)
    ok = run_cli(fresh_url, ["audit", "verify"])
    assert ok.exit_code == 0 and "4 events" in ok.stdout
    # The JSON text of a recorded value is changed: 90 + 2 becomes 99.
    target = ids[2]
    column = "after::jsonb" if BACKEND == "postgresql" else "after"
    _tamper(
        fresh_url,
        f"UPDATE audit_event SET after = REPLACE(CAST({column} AS TEXT), '92', '99')"
        + ("::jsonb" if BACKEND == "postgresql" else "")
        + f" WHERE id = {target}",
    )
    broken = run_cli(fresh_url, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"event {target}:" in broken.stdout and "content does not match" in broken.stdout
    assert "2 events verified before it" in broken.stdout


def test_a_deleted_event_is_named_by_its_successor(fresh_url: str) -> None:
    ids = _write_events(fresh_url, 3)
    _tamper(fresh_url, f"DELETE FROM audit_event WHERE id = {ids[1]}")
    broken = run_cli(fresh_url, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"event {ids[2]}:" in broken.stdout and "previous-hash link" in broken.stdout


@pytest.mark.skipif(BACKEND != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_postgresql_refuses_the_edit_while_the_trigger_is_on(fresh_url: str) -> None:
    ids = _write_events(fresh_url, 1)
    engine = make_engine(fresh_url)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_event SET reason = 'x' WHERE id = {ids[0]}"))
    engine.dispose()
    assert run_cli(fresh_url, ["audit", "verify"]).exit_code == 0
