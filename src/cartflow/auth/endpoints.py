"""Log-in, log-out, the current user, password change, and user administration (network admins;
users are deactivated, never deleted)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from cartflow.auth import admin, service
from cartflow.auth.dependencies import CurrentActor, CurrentUser, request_token
from cartflow.auth.schemas import (
    LocaleChange,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    UserAdminAction,
    UserCreate,
    UserOut,
)
from cartflow.config import Settings
from cartflow.db.session import DbSession
from cartflow.models import User

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
        lockout=service.LockoutPolicy.from_settings(settings),
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


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "the current password is wrong (counts towards lock-out)"}},
)
def change_password(
    body: PasswordChange, request: Request, session: DbSession, actor: CurrentActor
) -> None:
    service.change_password(
        session,
        actor=actor,
        old_password=body.old_password,
        new_password=body.password,
        current_token=request_token(request),
    )


@router.put("/auth/me/locale", response_model=UserOut)
def set_locale(body: LocaleChange, session: DbSession, actor: CurrentActor) -> User:
    """The user's language for pages (ru, en, or empty to follow the browser). The API itself
    answers in the language of each request's Accept-Language header."""
    service.set_preferred_locale(session, actor=actor, locale=body.locale)
    return actor.user


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, actor: CurrentActor) -> list[User]:
    return admin.list_users(session, actor=actor)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: DbSession, actor: CurrentActor) -> User:
    admin.require_network_admin(actor)
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


@router.post("/users/{user_id}/deactivate", response_model=UserOut)
def deactivate_user(
    user_id: uuid.UUID, body: UserAdminAction, session: DbSession, actor: CurrentActor
) -> User:
    user = admin.get_user(session, actor=actor, user_id=user_id)
    return admin.deactivate_user(session, actor=actor, user=user, reason=body.reason)


@router.post("/users/{user_id}/unlock", response_model=UserOut)
def unlock_user(
    user_id: uuid.UUID, body: UserAdminAction, session: DbSession, actor: CurrentActor
) -> User:
    user = admin.get_user(session, actor=actor, user_id=user_id)
    return admin.unlock_user(session, actor=actor, user=user, reason=body.reason)
