"""Audit events are chained and written when their transaction commits: a rolled-back savepoint
or transaction takes its events with it, a transaction reads its own events, and writers that
commit at the same time still build one unbroken chain in id order."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.service import (
    SYSTEM_ACTOR,
    compute_hash,
    event_content,
    history,
    record_event,
    verify_audit_trail,
)
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import AuditEvent, AuditEventStaged
from tests.audit.fresh_db import fresh_url
from tests.conftest import BACKEND

__all__ = ["fresh_url"]


def _record(session: Session, record_id: str, action: str) -> None:
    record_event(
        session,
        actor=SYSTEM_ACTOR,
        record_type="test",
        record_id=record_id,
        action=action,
        after={"action": action, "name": "Анна"},
    )


def _actions(session: Session, record_id: str) -> list[str]:
    return [event.action for event in history(session, record_type="test", record_id=record_id)]


def test_a_transaction_reads_its_own_events_before_it_commits(session: Session) -> None:
    record = uuid.uuid4().hex
    _record(session, record, "create")
    _record(session, record, "update")
    assert _actions(session, record) == ["create", "update"]
    _record(session, record, "withdraw")
    events = history(session, record_type="test", record_id=record)
    assert [e.action for e in events] == ["create", "update", "withdraw"]
    assert events[1].prev_hash == events[0].hash
    assert events[2].hash == compute_hash(events[2].prev_hash, event_content(events[2]))


def test_events_of_a_rolled_back_savepoint_are_dropped_the_others_kept(session: Session) -> None:
    record = uuid.uuid4().hex
    _record(session, record, "before")
    savepoint = session.begin_nested()
    _record(session, record, "inside")
    inner = session.begin_nested()
    _record(session, record, "deeper")
    inner.rollback()
    _record(session, record, "inside again")
    savepoint.rollback()
    _record(session, record, "after")
    session.commit()
    assert _actions(session, record) == ["before", "after"]


def test_events_of_a_released_savepoint_are_written(session: Session) -> None:
    record = uuid.uuid4().hex
    with session.begin_nested():
        _record(session, record, "inside")
    _record(session, record, "after")
    session.commit()
    assert _actions(session, record) == ["inside", "after"]


def test_a_rollback_drops_the_pending_events(session: Session) -> None:
    record = uuid.uuid4().hex
    _record(session, record, "refused")
    session.rollback()
    _record(session, record, "accepted")
    session.commit()
    assert _actions(session, record) == ["accepted"]


def test_events_reach_the_database_with_the_commit(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    factory = make_sessionmaker(engine)
    try:
        with session_scope(factory) as session:
            _record(session, "r", "create")
            _record(session, "r", "update")
            with session_scope(factory) as other:
                # Not before: another transaction sees nothing yet.
                assert other.execute(select(func.count()).select_from(AuditEvent)).scalar() == 0
        with session_scope(factory) as session:
            first, second = history(session, record_type="test", record_id="r")
            assert (first.action, second.action) == ("create", "update")
            assert second.id > first.id and second.prev_hash == first.hash
            assert verify_audit_trail(session).ok
            if BACKEND == "postgresql":
                staged = select(func.count()).select_from(AuditEventStaged)
                assert session.execute(staged).scalar() == 0
    finally:
        engine.dispose()


@pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite serialises its writers whole")
def test_writers_committing_at_once_build_one_chain(fresh_url: str) -> None:
    engine = make_engine(fresh_url, pool_size=12, max_overflow=0)
    factory = make_sessionmaker(engine)
    start = threading.Barrier(12)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait(timeout=60)
            for round_ in range(5):
                with session_scope(factory) as session:
                    for step in range(3):
                        _record(session, f"writer-{n}", f"{round_}-{step}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        with session_scope(factory) as session:
            assert session.execute(select(func.count()).select_from(AuditEvent)).scalar() == 180
            assert verify_audit_trail(session).ok
            for n in range(12):
                # A transaction's events are consecutive in the chain, in the order recorded.
                events = history(session, record_type="test", record_id=f"writer-{n}")
                assert [e.action for e in events] == [
                    f"{r}-{s}" for r in range(5) for s in range(3)
                ]
                for i in range(0, 15, 3):
                    assert events[i + 1].id == events[i].id + 1
                    assert events[i + 2].prev_hash == events[i + 1].hash
    finally:
        engine.dispose()
