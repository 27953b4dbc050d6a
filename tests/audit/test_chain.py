"""The audit chain: every event links to the one before; editing or removing one breaks the chain
from that event, and verification names it."""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from cartflow.audit.service import (
    GENESIS_HASH,
    SYSTEM_ACTOR,
    compute_hash,
    event_content,
    record_event,
    verify_chain,
)
from cartflow.models import AuditEvent


def _three_events(session: Session) -> list[AuditEvent]:
    record = uuid.uuid4()
    for action in ("create", "update", "withdraw"):
        record_event(
            session,
            actor=SYSTEM_ACTOR,
            record_type="test",
            record_id=record,
            action=action,
            before={"n": 1},
            after={"n": 2, "name": "Анна"},
            reason="because",
        )
    return list(session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def test_events_chain_from_genesis_and_verify(session: Session) -> None:
    events = _three_events(session)
    first = session.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
    assert first.prev_hash == GENESIS_HASH
    for previous, current in itertools.pairwise(events):
        assert current.prev_hash == previous.hash
        assert current.hash == compute_hash(current.prev_hash, event_content(current))
    result = verify_chain(events)
    assert result.ok and result.verified == len(events)


def test_reloaded_events_still_verify(session: Session) -> None:
    _three_events(session)
    session.flush()
    session.expire_all()
    reloaded = list(session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())
    assert verify_chain(reloaded).ok


def test_a_changed_event_is_named(session: Session) -> None:
    events = _three_events(session)
    target = events[-2]
    session.expunge(target)
    target.reason = "rewritten"
    result = verify_chain(events)
    assert not result.ok and result.first_broken_id == target.id
    assert result.problem == "content does not match its hash"


def test_a_removed_event_breaks_the_link(session: Session) -> None:
    events = _three_events(session)
    del events[-2]
    result = verify_chain(events)
    assert result.first_broken_id == events[-1].id
    assert result.problem == "previous-hash link does not match"


def test_tampering_in_the_sqlite_file_is_found_by_the_cli(tmp_path: object, engine: Engine) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from cartflow.db.engine import make_engine
    from cartflow.db.migrate import upgrade
    from cartflow.db.session import make_sessionmaker, session_scope

    assert isinstance(tmp_path, Path)
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    upgrade(url)
    own = make_engine(url)
    with session_scope(make_sessionmaker(own)) as s:
        _three_events(s)
    env = {"CARTFLOW_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "cartflow.cli.main", "audit", "verify"]
    ok = subprocess.run(cli, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "3 events" in ok.stdout
    with own.begin() as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'edited' WHERE id = 2"))
    broken = subprocess.run(cli, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "event 2" in broken.stdout
    own.dispose()
