"""CSRF tokens for every form post of the pages (issue 4: "CSRF tokens for pages").

A token is the HMAC-SHA256, under the server's secret key, of the SHA-256 of the session token:
one token per log-in session, nothing stored, and useless without both the secret and the session
cookie (which is HttpOnly and SameSite=Strict). Before log-in, the log-in form is bound the same
way to a random pre-session nonce cookie, so a forged cross-site log-in is refused too.

A state-changing request to a page must carry the token in the form field `csrf_token` or, for
htmx requests, in the `X-CSRF-Token` header; otherwise it is refused with 403 before its handler
runs. Hand-written on the standard library (hmac, secrets): the rule is a few lines and a
middleware package would also have to know our session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from cartflow.auth.dependencies import SESSION_COOKIE
from cartflow.config import Settings
from cartflow.errors import Forbidden
from cartflow.i18n import _

FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
LOGIN_NONCE_COOKIE = "cartflow_login_nonce"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Forbidden):
    code = "CSRF-REFUSED"


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    return hmac.new(
        secret.encode("utf-8"), f"{purpose}:{digest}".encode(), hashlib.sha256
    ).hexdigest()


def _secret(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.secret_key


def session_token_csrf(request: Request, session_token: str) -> str:
    return _mac(_secret(request), "session", session_token)


def login_nonce_csrf(request: Request, nonce: str) -> str:
    return _mac(_secret(request), "login", nonce)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(request: Request) -> str | None:
    """The token the current page must embed: bound to the session, else to the log-in nonce."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return session_token_csrf(request, session_token)
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if nonce:
        return login_nonce_csrf(request, nonce)
    return None


def _accepted(request: Request) -> list[str]:
    tokens = []
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        tokens.append(session_token_csrf(request, session_token))
    # The log-in form may be posted while an old session cookie is still present.
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if nonce and request.url.path == "/login":
        tokens.append(login_nonce_csrf(request, nonce))
    return tokens


async def csrf_protect(request: Request) -> None:
    """Router dependency: refuse a state-changing request without this session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if not sent:
        form = await request.form()
        value = form.get(FORM_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not any(hmac.compare_digest(sent, token) for token in _accepted(request)):
        raise CsrfRefused(
            _("this form has expired or did not come from cartflow: reload the page and try again")
        )
