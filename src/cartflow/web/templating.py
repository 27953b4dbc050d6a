"""Rendering pages: the Jinja2 environment, the per-role navigation and the shared context.

Every page gets the acting user, the navigation for their roles, and the CSRF token that its forms
and htmx requests carry (see `cartflow.web.csrf`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from cartflow.auth.actor import Actor
from cartflow.config import get_settings
from cartflow.i18n import LOCALES, Message, _, current_locale, format_date, format_datetime
from cartflow.i18n.catalog import translations
from cartflow.i18n.labels import ROLE_LABELS as ROLE_LABELS
from cartflow.i18n.labels import STATE_LABELS as STATE_LABELS
from cartflow.i18n.labels import role_label, state_label
from cartflow.models import EpisodeState, Role
from cartflow.web.csrf import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
# {% trans %} blocks collapse their whitespace, as the extractor does (cartflow.i18n.extract).
templates.env.policies["ext.i18n.trimmed"] = True


# Templates use %-style names: Jinja2's newstyle gettext wraps these two and fills the names
# (and `num`, the count) after translating, so they only translate.
def _template_gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    _template_gettext, _template_ngettext, newstyle=True
)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: Message


# The home worklist of each role. A role whose domain service has not landed has no page yet.
ROLE_HOME: dict[Role, NavItem] = {
    Role.COORDINATOR: NavItem("/coordinator", _("Patients")),
    Role.APHERESIS_NURSE: NavItem("/nurse", _("Collections")),
    Role.PLANNER: NavItem("/planner", _("Manufacturing plan")),
    Role.QC_ANALYST: NavItem("/qc", _("QC results")),
    Role.QUALIFIED_PERSON: NavItem("/qp", _("Disposition")),
    Role.CLINICIAN: NavItem("/clinician", _("Ward")),
    Role.COURIER: NavItem("/courier", _("Pick-ups")),
    Role.REGISTRY_ANALYST: NavItem("/registry", _("Registry")),
    Role.ADMIN: NavItem("/admin", _("Administration")),
}


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    held = actor.roles
    return [item for role, item in ROLE_HOME.items() if role in held]


@pass_context
def _when(context: Context, value: dt.datetime | None, zone: str | None = None) -> str:
    """A stored UTC moment in local time with its zone named: the zone given, else the page's
    `zone` (the center's or site's the page is about), else the network's display zone."""
    return format_datetime(value, zone or context.get("zone") or get_settings().display_timezone)


@pass_context
def _day(context: Context, value: dt.date | dt.datetime | None, zone: str | None = None) -> str:
    return format_date(value, zone or context.get("zone") or get_settings().display_timezone)


def _state_label(value: EpisodeState | str) -> str:
    return str(state_label(value))


def _role_label(value: Role | str) -> str:
    return str(role_label(value))


templates.env.filters["when"] = _when
templates.env.filters["day"] = _day
templates.env.filters["state_label"] = _state_label
templates.env.filters["role_label"] = _role_label


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    full: dict[str, Any] = {
        "user": actor.user if actor is not None else None,
        "actor": actor,
        "nav": nav_for(actor),
        "csrf_token": csrf_token(request) or "",
        "path": request.url.path,
        "locale": current_locale(),
        "locales": LOCALES,
    }
    full.update(context or {})
    return templates.TemplateResponse(request, template, full, status_code=status_code)
