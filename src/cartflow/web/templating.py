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

from cartflow.auth.actor import Actor
from cartflow.models import EpisodeState, Role
from cartflow.web.csrf import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


# The home worklist of each role. A role whose domain service has not landed has no page yet.
ROLE_HOME: dict[Role, NavItem] = {
    Role.COORDINATOR: NavItem("/coordinator", "Patients"),
    Role.APHERESIS_NURSE: NavItem("/nurse", "Collections"),
    Role.PLANNER: NavItem("/planner", "Manufacturing plan"),
    Role.QC_ANALYST: NavItem("/qc", "QC results"),
    Role.QUALIFIED_PERSON: NavItem("/qp", "Disposition"),
    Role.CLINICIAN: NavItem("/clinician", "Ward"),
    Role.COURIER: NavItem("/courier", "Pick-ups"),
    Role.REGISTRY_ANALYST: NavItem("/registry", "Registry"),
    Role.ADMIN: NavItem("/admin", "Administration"),
}

STATE_LABELS: dict[EpisodeState, str] = {
    EpisodeState.REFERRED: "Referred",
    EpisodeState.ELIGIBLE: "Eligible",
    EpisodeState.SLOT_BOOKED: "Slot booked",
    EpisodeState.APHERESIS_COLLECTED: "Cells collected",
    EpisodeState.IN_MANUFACTURING: "In manufacturing",
    EpisodeState.QC: "In QC",
    EpisodeState.RELEASED: "Released",
    EpisodeState.SHIPPED: "Shipped",
    EpisodeState.RECEIVED: "Received at center",
    EpisodeState.LYMPHODEPLETION: "Lymphodepletion",
    EpisodeState.INFUSED: "Infused",
    EpisodeState.FOLLOW_UP: "Follow-up",
    EpisodeState.CLOSED: "Closed",
    EpisodeState.WITHDRAWN: "Withdrawn",
}


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    held = actor.roles
    return [item for role, item in ROLE_HOME.items() if role in held]


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _state_label(value: EpisodeState | str) -> str:
    try:
        return STATE_LABELS[EpisodeState(value)]
    except ValueError:
        return str(value)


def _role_label(value: Role | str) -> str:
    return str(value).replace("_", " ")


templates.env.filters["when"] = _when
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
    }
    full.update(context or {})
    return templates.TemplateResponse(request, template, full, status_code=status_code)
