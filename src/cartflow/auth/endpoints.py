"""Log-in, log-out, the current user, and user administration."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from cartflow.auth import service
from cartflow.auth.dependencies import CurrentActor, CurrentUser, request_token, require_role
from cartflow.auth.schemas import LoginRequest, LoginResponse, UserCreate, UserOut
from cartflow.config import Settings
from cartflow.db.session import DbSession
from cartflow.models import Role, User

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {"description": "wrong username or password, or account locked"}},
)
def login(body: LoginRequest, request: Request, session: DbSession) -> LoginResponse | JSONResponse:
    settings: Settings = request.app.state.settings
    outcome = service.login(
        session,
        username=body.username,
        password=body.password,
        client="api",
        lifetime=dt.timedelta(hours=settings.session_max_hours),
    )
    if outcome.refusal is not None or outcome.token is None or outcome.user is None:
        refusal = outcome.refusal
        assert refusal is not None
        return JSONResponse(status_code=refusal.status_code, content=refusal.to_dict())
    return LoginResponse(token=outcome.token, user=UserOut.model_validate(outcome.user))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, session: DbSession, _user: CurrentUser) -> None:
    token = request_token(request)
    if token is not None:
        service.logout(session, token=token)


@router.get("/auth/me", response_model=UserOut)
def me(user: CurrentUser) -> User:
    return user


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, actor: CurrentActor) -> list[User]:
    require_role(actor, Role.ADMIN)
    return list(session.execute(select(User).order_by(User.username)).scalars())


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: DbSession, actor: CurrentActor) -> User:
    require_role(actor, Role.ADMIN)
    return service.create_user(
        session,
        actor=actor.as_audit_actor(),
        username=body.username,
        full_name=body.full_name,
        email=body.email,
        password=body.password,
        locale=body.locale,
        grants=[service.RoleGrant(g.role, g.center, g.site) for g in body.roles],
    )
