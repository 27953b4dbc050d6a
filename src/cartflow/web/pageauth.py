"""Who is looking at a page, and how the pages answer refusals.

Pages authenticate by the session cookie only (API clients use bearer tokens under /api/v1). A
visitor who is not logged in is sent to the log-in page; a refusal from a service (403, 404, 409,
422) is shown as an HTML page with the rule's message instead of the API's JSON body. Every page
router is made by `page_router()`, which also puts the CSRF check in front of every form post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from cartflow.auth import service as auth_service
from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import SESSION_COOKIE
from cartflow.auth.errors import RoleRequired
from cartflow.config import Settings
from cartflow.db.session import DbSession, mark_rollback_only
from cartflow.errors import CartflowError, Conflict, InvalidInput, Unauthorized
from cartflow.i18n import _
from cartflow.models import Role
from cartflow.web.csrf import csrf_protect
from cartflow.web.templating import ROLE_LABELS, render


class LoginRequired(Exception):
    """The visitor has no live session; the page sends them to the log-in form."""


def page_actor(request: Request, session: DbSession) -> Actor:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    settings: Settings = request.app.state.settings
    try:
        user = auth_service.authenticate(
            session, token=token, idle=dt.timedelta(minutes=settings.session_idle_minutes)
        )
    except Unauthorized as exc:
        raise LoginRequired from exc
    return Actor(user)


PageActor = Annotated[Actor, Depends(page_actor)]


def require_page_role(actor: Actor, *roles: Role) -> None:
    """A page for other roles is refused (403) with the roles it is for."""
    if not actor.has_role(*roles):
        names = ", ".join(str(ROLE_LABELS[r]) for r in roles)
        raise RoleRequired(_("this page is for: {names}", names=names))


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _login_redirect(request: Request) -> Response:
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        target += "?next=" + quote(request.url.path, safe="/")
    if _is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, exc: CartflowError) -> Response:
    return render(
        request,
        "error.html",
        {"code": exc.code, "message": exc.message, "status": exc.status_code},
        status_code=exc.status_code,
    )


class PageRoute(APIRoute):
    """Answers a page's refusals in HTML (the app's handlers answer in JSON, for the API)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return _login_redirect(request)
            except (StaleDataError, IntegrityError):
                mark_rollback_only(request)
                return error_page(
                    request,
                    Conflict(
                        _("someone else changed this record at the same moment: reload and retry"),
                        code="CONCURRENT-CHANGE",
                    ),
                )
            except DataError:
                # e.g. a NUL character PostgreSQL cannot store, or a number out of range
                mark_rollback_only(request)
                return error_page(
                    request,
                    InvalidInput(_("a value in the form cannot be stored (a control character?)")),
                )
            except CartflowError as exc:
                mark_rollback_only(request)
                return error_page(request, exc)

        return page_handler


def page_router(**kwargs: Any) -> APIRouter:
    return APIRouter(
        include_in_schema=False,
        route_class=PageRoute,
        dependencies=[Depends(csrf_protect)],
        **kwargs,
    )
