"""The unit of work: the only module that commits.

Requests get `get_session` (commit on success, roll back on any error); the CLI and the simulation
use `session_scope`. Services never commit, so a refusal half-way leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def get_session(request: Request) -> Iterator[Session]:
    """Per-request unit of work; declared with `scope="function"` so the commit happens *before*
    the response is sent: a client is never told "saved" for a write that then fails to commit."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        if must_roll_back(request, session):
            session.rollback()
        else:
            session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def must_roll_back(request: Request, session: Session) -> bool:
    """A request whose refusal was turned into a page (see `web.pageauth.PageRoute`) or whose
    transaction already failed must not commit what it wrote before the refusal."""
    return bool(getattr(request.state, "rollback_only", False)) or not session.is_active


def mark_rollback_only(request: Request) -> None:
    request.state.rollback_only = True


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session, scope="function")]
