"""FastAPI dependencies: the acting user from a bearer token (API clients) or the session cookie
(pages), and role checks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request

from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.service import authenticate
from cartflow.config import Settings
from cartflow.db.session import DbSession
from cartflow.errors import Unauthorized
from cartflow.models import Role, User

SESSION_COOKIE = "cartflow_session"


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def current_user(request: Request, session: DbSession) -> User:
    token = request_token(request)
    if token is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>'")
    settings: Settings = request.app.state.settings
    return authenticate(
        session, token=token, idle=dt.timedelta(minutes=settings.session_idle_minutes)
    )


CurrentUser = Annotated[User, Depends(current_user)]


def current_actor(user: CurrentUser) -> Actor:
    return Actor(user)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_role(actor: Actor, *roles: Role) -> None:
    if not actor.has_role(*roles):
        names = ", ".join(r.value for r in roles)
        raise RoleRequired(f"this action needs one of the roles: {names}")
