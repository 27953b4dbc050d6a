"""Choosing the language of each request before anything else runs (a pure ASGI middleware)."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cartflow.i18n import _current_locale, negotiate, supported

# Set at log-in from the user's profile, and when they change it; read by pages only.
LOCALE_COOKIE: Final = "cartflow_locale"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie_locale(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(LOCALE_COOKIE)
    except CookieError:
        return None
    return supported(morsel.value) if morsel is not None else None


def request_locale(scope: Scope, default: str) -> str:
    """Pages: the profile's language, then Accept-Language; the API: Accept-Language only."""
    accepted = negotiate(_header(scope, b"accept-language"))
    if str(scope.get("path", "")).startswith("/api/"):
        return accepted or default
    return _cookie_locale(scope) or accepted or default


class LocaleMiddleware:
    def __init__(self, app: ASGIApp, default_locale: str) -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = request_locale(scope, self.default_locale)
        token = _current_locale.set(locale)
        language = locale.encode("ascii")

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"content-language", language))
                headers.append((b"vary", b"Accept-Language, Cookie"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _current_locale.reset(token)
