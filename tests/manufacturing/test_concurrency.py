"""Races the database must settle: planners starting batches on one device at the same moment, and
two qualified persons deciding one batch at once. Exactly one wins; the others are refused with a
rule's code, never half-written. Data is committed (threads cannot see a test's open transaction),
under a network of its own."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.errors import CartflowError
from cartflow.manufacturing import disposition, service
from cartflow.manufacturing.schemas import BatchStart, Reject, Sign
from cartflow.models import User
from cartflow.models.manufacturing import Batch
from cartflow.models.manufacturing_qc import BatchDisposition
from tests.factories import PASSWORD, make_network
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    verify_all,
)

PARALLEL = 8


def _race(url: str, attempts: list[Callable[[Session], None]]) -> list[str]:
    engine = (
        make_engine(url, pool_size=PARALLEL, max_overflow=0)
        if url.startswith("postgresql")
        else make_engine(url)
    )
    factory = make_sessionmaker(engine)
    start = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(attempt: Callable[[Session], None]) -> None:
        start.wait()
        try:
            with session_scope(factory) as session:
                attempt(session)
            result = "won"
        except CartflowError as exc:
            result = exc.code
        except Exception as exc:  # a race that slipped past the rules would show here
            result = f"unexpected {type(exc).__name__}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    return outcomes


def _actor(session: Session, user_id: uuid.UUID) -> Actor:
    user = session.get(User, user_id)
    assert user is not None
    return Actor(user)


def test_planners_starting_batches_on_one_device_at_once_one_wins(database_url: str) -> None:
    engine = make_engine(database_url)
    received = utcnow() - dt.timedelta(days=1)
    with session_scope(make_sessionmaker(engine)) as session:
        net = make_network(session, uuid.uuid4().hex[:8].upper())
        staff = make_staff(session, net)
        episodes = [
            collected_episode(session, net, collected_at=received - dt.timedelta(hours=6)).id
            for _ in range(PARALLEL)
        ]
        planner_id = staff.planner.id
    engine.dispose()

    def starter(episode_id: uuid.UUID) -> Callable[[Session], None]:
        def attempt(session: Session) -> None:
            service.start_batch(
                session,
                actor=_actor(session, planner_id),
                data=BatchStart(episode_id=episode_id, device="DEV-1", received_at=received),
            )

        return attempt

    outcomes = _race(database_url, [starter(e) for e in episodes])
    assert outcomes.count("won") == 1, outcomes
    assert set(outcomes) - {"won"} <= {"DEV-002"}, outcomes
    check = make_engine(database_url)
    with session_scope(make_sessionmaker(check)) as session:
        made = session.execute(
            select(func.count(Batch.id)).where(Batch.episode_id.in_(episodes))
        ).scalar_one()
    check.dispose()
    assert made == 1


def test_two_qualified_persons_deciding_one_batch_at_once_one_decision_stands(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    received = utcnow() - dt.timedelta(days=16)
    with session_scope(make_sessionmaker(engine)) as session:
        net = make_network(session, uuid.uuid4().hex[:8].upper())
        make_specification(session, net)
        staff = make_staff(session, net)
        episode = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
        batch = manufacture(session, staff, episode, received_at=received)
        verify_all(
            session,
            staff.second_analyst,
            enter_results(session, staff.analyst, batch, ARI_0001_LOT_01),
        )
        batch_id, qp_id, second_qp_id = batch.id, staff.qp.id, staff.second_qp.id
    engine.dispose()

    def release(session: Session) -> None:
        disposition.release(
            session, actor=_actor(session, qp_id), batch_id=batch_id, data=Sign(password=PASSWORD)
        )

    def reject(session: Session) -> None:
        disposition.reject(
            session,
            actor=_actor(session, second_qp_id),
            batch_id=batch_id,
            data=Reject(password=PASSWORD, reason="appearance doubtful"),
        )

    outcomes = _race(database_url, [release, reject])
    assert outcomes.count("won") == 1, outcomes
    assert set(outcomes) - {"won"} <= {"REL-001", "REJ-001", "CONFLICT"}, outcomes
    check = make_engine(database_url)
    with session_scope(make_sessionmaker(check)) as session:
        decisions = session.execute(
            select(func.count(BatchDisposition.id)).where(BatchDisposition.batch_id == batch_id)
        ).scalar_one()
    check.dispose()
    assert decisions == 1
