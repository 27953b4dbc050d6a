"""FastAPI dependencies: the acting user from a bearer token (API clients) or the session cookie
(pages), and role checks.

A wrong password re-entered during a request (an electronic signature refused by
`audit.signatures.sign`, or a wrong current password at a password change) must count towards
the lock-out, yet the request's own work must be rolled back ("nothing signed, nothing changed").
So `current_user` wraps the request: on such a refusal it rolls the request back, counts the
failure in a unit of work of its own (committed by `db.session.session_scope`), and re-raises.
Reaching the limit this way locks the account and ends all its sessions, including this one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cartflow.audit.signatures import SignatureRefused
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired, WrongPassword
from cartflow.auth.service import (
    LockoutPolicy,
    authenticate,
    end_sessions,
    register_failed_password,
    token_digest,
)
from cartflow.config import Settings
from cartflow.db.session import DbSession, session_scope
from cartflow.errors import CartflowError, Unauthorized
from cartflow.i18n import _
from cartflow.models import AuthSession, Role, User

SESSION_COOKIE = "cartflow_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # The API takes the page session cookie for reads only: a cross-site form could post with the
    # cookie but never with a bearer header, so changes need the header (pages have CSRF tokens).
    if request.method in _SAFE_METHODS:
        return request.cookies.get(SESSION_COOKIE)
    return None


def is_wrong_password(exc: BaseException) -> bool:
    """A refusal caused by a wrong password re-entered by the logged-in user."""
    return isinstance(exc, WrongPassword) or (
        isinstance(exc, SignatureRefused) and exc.field == "password"
    )


def count_wrong_password(
    session: Session,
    *,
    policy: LockoutPolicy,
    what: str,
    user_id: uuid.UUID | None = None,
    token: str | None = None,
) -> bool:
    """Roll back the request's work, then count the failure for the user (given by id, or by the
    session token) in a unit of work of its own. Returns True when the account got locked; its
    sessions are then ended in the same unit of work."""
    session.rollback()
    with session_scope(sessionmaker(bind=session.get_bind(), expire_on_commit=False)) as own:
        if user_id is None and token is not None:
            user_id = own.execute(
                select(AuthSession.user_id).where(AuthSession.token_sha256 == token_digest(token))
            ).scalar_one_or_none()
        user = own.get(User, user_id) if user_id is not None else None
        if user is None:
            return False
        locked = register_failed_password(own, user=user, policy=policy, what=what)
        if locked:
            end_sessions(own, user_id=user.id)
        return locked


def _what(exc: BaseException) -> str:
    return "signing" if isinstance(exc, SignatureRefused) else "password change"


def wrong_password_guard(request: Request, session: DbSession) -> Iterator[None]:
    """The same counting for routers whose acting user does not come from `current_user` (the
    pages): add `Depends(wrong_password_guard, scope="function")` to the router's dependencies."""
    try:
        yield
    except CartflowError as exc:
        token = request_token(request)
        if is_wrong_password(exc) and token is not None:
            settings: Settings = request.app.state.settings
            count_wrong_password(
                session, policy=LockoutPolicy.from_settings(settings), what=_what(exc), token=token
            )
        raise


async def current_user(request: Request, session: DbSession) -> AsyncIterator[User]:
    # Async, with the queries handed to a worker thread explicitly: FastAPI runs a sync
    # dependency with yield in the threadpool twice (on entry and on exit), and each hand-off
    # costs a scan measurable CPU (docs/operations.md); this one hands off once.
    token = request_token(request)
    if token is None:
        raise Unauthorized(_("log in first: send 'Authorization: Bearer <token>'"))
    settings: Settings = request.app.state.settings
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    user = await run_in_threadpool(authenticate, session, token=token, idle=idle)
    user_id = user.id
    try:
        yield user
    except CartflowError as exc:
        if is_wrong_password(exc):
            await run_in_threadpool(
                count_wrong_password,
                session,
                policy=LockoutPolicy.from_settings(settings),
                what=_what(exc),
                user_id=user_id,
            )
        raise


# Function scope: the wrapper above runs before the request's unit of work (`DbSession`) ends.
CurrentUser = Annotated[User, Depends(current_user, scope="function")]


async def current_actor(user: CurrentUser) -> Actor:
    # Async: no I/O here, so no hand-off to a worker thread.
    return Actor(user)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_role(actor: Actor, *roles: Role) -> None:
    if not actor.has_role(*roles):
        names = ", ".join(r.value for r in roles)
        raise RoleRequired(_("this action needs one of the roles: {names}", names=names))
