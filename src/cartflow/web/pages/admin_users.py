"""User administration for the network-wide admin: the users with their roles, adding a user
with one role (scoped to a center, a site or the network), deactivating and unlocking. Users are
never deleted (`cartflow.auth.admin`); every change carries a reason where the service asks one."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cartflow.auth import admin as user_admin
from cartflow.auth import service as auth_service
from cartflow.auth.actor import Actor
from cartflow.auth.schemas import UserCreate
from cartflow.db.session import DbSession
from cartflow.errors import CartflowError
from cartflow.models import ManufacturingSite, Role, TreatmentCenter
from cartflow.network import service as network
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import ROLE_LABELS, render

router = page_router(prefix="/admin/users")


def _scope_names(session: Session) -> dict[uuid.UUID, str]:
    names = {c.id: c.code for c in session.query(TreatmentCenter)}
    names.update({s.id: s.code for s in session.query(ManufacturingSite)})
    return names


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    row_errors: dict[uuid.UUID, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    users = user_admin.list_users(session, actor=actor)
    context: dict[str, Any] = {
        "users": sorted(users, key=lambda u: u.username),
        "scopes": _scope_names(session),
        "roles": [(r.value, str(ROLE_LABELS[r])) for r in Role],
        "centers": [(c.code, c.name) for c in network.list_centers(session)],
        "sites": [(s.code, s.name) for s in network.list_sites(session)],
        "locked": {u.id for u in users if auth_service.is_locked(u)},
        "errors": errors or {},
        "values": values or {},
        "row_errors": row_errors or {},
    }
    return render(request, "admin_users.html", context, actor=actor, status_code=status_code)


@router.get("")
def users_page(request: Request, session: DbSession, actor: PageActor) -> Response:
    user_admin.require_network_admin(actor)
    return _page(request, session, actor)


@router.post("")
def add_user(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    user_admin.require_network_admin(actor)
    values = filled(fields, "username", "full_name", "email", "role", "center", "site")
    grant = {k: values[k] for k in ("role", "center", "site") if k in values}
    try:
        person = {k: v for k, v in values.items() if k not in grant}
        data = UserCreate.model_validate(
            {**person, "password": fields.get("password", ""), "roles": [grant]}
        )
        auth_service.create_user(
            session,
            actor=actor.as_audit_actor(),
            username=data.username,
            full_name=data.full_name,
            email=data.email,
            password=data.password,
            locale=data.locale,
            grants=[auth_service.RoleGrant(g.role, g.center, g.site) for g in data.roles],
        )
    except ValidationError as exc:
        errors = {k.removeprefix("roles.0."): v for k, v in field_errors(exc).items()}
        return _page(request, session, actor, errors=errors, values=values, status_code=422)
    except CartflowError as exc:
        return _page(
            request,
            session,
            actor,
            errors=refusal(session, exc),
            values=values,
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/{user_id}/{action}")
def change_user(
    request: Request,
    user_id: uuid.UUID,
    action: str,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    user_admin.require_network_admin(actor)
    user = user_admin.get_user(session, actor=actor, user_id=user_id)
    reason = fields.get("reason", "")
    try:
        if action == "deactivate":
            user_admin.deactivate_user(session, actor=actor, user=user, reason=reason)
        elif action == "unlock":
            user_admin.unlock_user(session, actor=actor, user=user, reason=reason)
        else:
            return Response(status_code=404)
    except CartflowError as exc:
        return _page(
            request,
            session,
            actor,
            row_errors={user_id: refusal(session, exc)},
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/users", status_code=303)
