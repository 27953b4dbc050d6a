"""Server-rendered pages. The foundation serves a log-in page and a home page per user; the
role worklists grow here as their services land (issue: the web application)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cartflow.auth import service as auth_service
from cartflow.auth.dependencies import SESSION_COOKIE, request_token
from cartflow.config import Settings
from cartflow.db.session import DbSession
from cartflow.errors import Unauthorized
from cartflow.models import User

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def _page_user(request: Request, session: DbSession) -> User | None:
    token = request_token(request)
    if token is None:
        return None
    settings: Settings = request.app.state.settings
    try:
        return auth_service.authenticate(
            session, token=token, idle=dt.timedelta(minutes=settings.session_idle_minutes)
        )
    except Unauthorized:
        return None


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> Response:
    user = _page_user(request, session)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(request, "home.html", {"user": user})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    settings: Settings = request.app.state.settings
    outcome = auth_service.login(
        session,
        username=username,
        password=password,
        client="web",
        lifetime=dt.timedelta(hours=settings.session_max_hours),
    )
    if outcome.token is None:
        message = outcome.refusal.message if outcome.refusal else "log-in refused"
        return templates.TemplateResponse(
            request, "login.html", {"error": message}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    token = request_token(request)
    if token is not None:
        auth_service.logout(session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
