"""Log-in and log-out.

The session cookie is HttpOnly and SameSite=Strict (Secure in production); the log-in form is
bound to a pre-session nonce (see `cartflow.web.csrf`) and log-out is a CSRF-checked POST.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from cartflow.auth import service as auth_service
from cartflow.auth.dependencies import SESSION_COOKIE
from cartflow.config import Settings
from cartflow.db.session import DbSession
from cartflow.i18n import LOCALES, _
from cartflow.i18n.middleware import LOCALE_COOKIE
from cartflow.web.csrf import LOGIN_NONCE_COOKIE, login_nonce_csrf, new_login_nonce
from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import render

router = page_router()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our log-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_form(
    request: Request, *, error: str | None, next_path: str, status_code: int = 200
) -> Response:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE) or new_login_nonce()
    response = render(
        request,
        "login.html",
        {"error": error, "next": next_path, "csrf_token": login_nonce_csrf(request, nonce)},
        status_code=status_code,
    )
    settings: Settings = request.app.state.settings
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )
    return response


@router.get("/login")
def login_page(
    request: Request, next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None
) -> Response:
    return _login_form(request, error=None, next_path=_safe_next(next_path))


@router.post("/login")
def login_submit(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next_path: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    settings: Settings = request.app.state.settings
    outcome = auth_service.login(
        session,
        username=username.strip(),
        password=password,
        client="web",
        lifetime=dt.timedelta(hours=settings.session_max_hours),
    )
    if outcome.token is None:
        message = outcome.refusal.message if outcome.refusal else str(_("log-in refused"))
        return _login_form(request, error=message, next_path=_safe_next(next_path), status_code=401)
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE)
    _remember_locale(response, outcome.user.locale if outcome.user else "", settings)
    return response


_YEAR_SECONDS = 365 * 24 * 3600


def _remember_locale(response: Response, locale: str, settings: Settings) -> None:
    """The language cookie the pages read: the profile's choice, or none to follow the browser."""
    if locale in LOCALES:
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=_YEAR_SECONDS,
            httponly=True,
            samesite="lax",
            secure=settings.environment == "production",
        )
    else:
        response.delete_cookie(LOCALE_COOKIE)


@router.get("/language")
def choose_language(
    request: Request,
    locale: Annotated[str, Query(pattern=r"^(ru|en)?$")] = "",
    next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None,
) -> Response:
    """Before log-in: the language of this browser only (a cookie; nothing is stored)."""
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    _remember_locale(response, locale, request.app.state.settings)
    return response


@router.post("/profile/language")
def save_language(
    request: Request,
    session: DbSession,
    actor: PageActor,
    locale: Annotated[str, Form(pattern=r"^(ru|en)?$")] = "",
    next_path: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    """Logged in: the language is saved in the user's profile and follows them to any browser."""
    auth_service.set_preferred_locale(session, actor=actor, locale=locale)
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    _remember_locale(response, locale, request.app.state.settings)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token is not None:
        auth_service.logout(session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
