"""Variants of the app for `api_load.py --app`, to measure a proposal before it is made.

`benchmarks.api_load_variants:async_session_app`: the request's unit of work as an async
dependency that hands only its commit to a worker thread. `db.session.get_session` is a sync
generator, which FastAPI runs in the threadpool twice (entry and exit), though creating a session
does no I/O (it connects at its first statement).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cartflow.app import create_app
from cartflow.db.session import get_session, must_roll_back


def _finish(request: Request, session: Session) -> None:
    try:
        if must_roll_back(request, session):
            session.rollback()
        else:
            session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def _abandon(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def async_get_session(request: Request) -> AsyncIterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
    except Exception:
        await run_in_threadpool(_abandon, session)
        raise
    await run_in_threadpool(_finish, request, session)


def async_session_app() -> FastAPI:
    app = create_app()
    app.dependency_overrides[get_session] = async_get_session
    return app
