"""The administrator's pages for the network's reference data: sites and their devices, centers
and their routes, products with their indications and versioned release specifications. Every
change goes through `cartflow.network.service` (admin only, audited; a specification is never
edited: a new version supersedes the current one)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.errors import CartflowError
from cartflow.i18n import gettext
from cartflow.models import Diagnosis, PatientPopulation, ProductKind, Role
from cartflow.network import service as network
from cartflow.network.schemas import CenterIn, ProductIn, SiteIn, SpecificationIn
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/admin")

FORMS = ("site", "center", "product", "specification")


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    sites = network.list_sites(session)
    context: dict[str, Any] = {
        "sites": sites,
        "site_options": [(s.code, s.name) for s in sites],
        "centers": network.list_centers(session),
        "products": network.list_products(session),
        "populations": [(p.value, p.value) for p in PatientPopulation],
        "kinds": [(k.value, k.value) for k in ProductKind],
        "diagnoses": [(d.value, d.value) for d in Diagnosis],
        "form": form,
        "errors": errors or {},
        "values": values or {},
    }
    return render(request, "admin.html", context, actor=actor, status_code=status_code)


@router.get("")
def admin_page(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.ADMIN)
    return _page(request, session, actor)


def _devices(text: str) -> list[dict[str, str]]:
    """One device per line: its code, a space, its kind ("PRODIGY-01 CliniMACS Prodigy")."""
    devices = []
    for line in text.splitlines():
        code, _, kind = line.strip().partition(" ")
        if code:
            devices.append({"code": code, "kind": kind.strip()})
    return devices


def _submit(
    request: Request,
    session: Session,
    actor: Actor,
    form: str,
    values: dict[str, str],
    schema: type[BaseModel],
    payload: dict[str, Any],
    action: Any,
) -> Response:
    try:
        data = schema.model_validate(payload)
        action(data)
    except ValidationError as exc:
        return _page(
            request,
            session,
            actor,
            form=form,
            errors=field_errors(exc),
            values=values,
            status_code=422,
        )
    except CartflowError as exc:
        return _page(
            request,
            session,
            actor,
            form=form,
            errors=refusal(session, exc),
            values=values,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/admin#{form}s", status_code=303)


@router.post("/sites")
def add_site(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.ADMIN)
    values = filled(fields)
    payload: dict[str, Any] = {k: v for k, v in values.items() if k != "devices"}
    payload["devices"] = _devices(fields.get("devices", ""))
    return _submit(
        request,
        session,
        actor,
        "site",
        values,
        SiteIn,
        payload,
        lambda data: network.create_site(session, actor=actor, data=data),
    )


@router.post("/centers")
def add_center(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.ADMIN)
    values = filled(fields)
    route_keys = ("route_site", "route_transit_days", "route_courier_weekdays")
    payload: dict[str, Any] = {k: v for k, v in values.items() if k not in route_keys}
    if values.get("route_site"):
        route = {"site": values["route_site"], "transit_days": values.get("route_transit_days")}
        if values.get("route_courier_weekdays"):
            route["courier_weekdays"] = values["route_courier_weekdays"]
        payload["routes"] = [route]
    return _submit(
        request,
        session,
        actor,
        "center",
        values,
        CenterIn,
        payload,
        lambda data: network.create_center(session, actor=actor, data=data),
    )


_INDICATION_KEYS = ("diagnosis", "min_age_years", "max_age_years", "min_prior_lines")


@router.post("/products")
def add_product(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.ADMIN)
    values = filled(fields)
    payload: dict[str, Any] = {
        k: v for k, v in values.items() if k not in _INDICATION_KEYS and k != "gene_modified"
    }
    payload["gene_modified"] = "gene_modified" in fields
    payload["indications"] = [{k: values[k] for k in _INDICATION_KEYS if k in values}]
    return _submit(
        request,
        session,
        actor,
        "product",
        values,
        ProductIn,
        payload,
        lambda data: network.create_product(session, actor=actor, data=data),
    )


@router.post("/products/{code}/specifications")
def add_specification(
    request: Request, code: str, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.ADMIN)
    values = {**filled(fields), "product": code}
    try:
        criteria = json.loads(fields.get("criteria", ""))
    except ValueError as exc:
        return _page(
            request,
            session,
            actor,
            form="specification",
            errors={"criteria": gettext("not valid JSON: {error}", error=exc)},
            values=values,
            status_code=422,
        )
    return _submit(
        request,
        session,
        actor,
        "specification",
        values,
        SpecificationIn,
        {"criteria": criteria, "source": fields.get("source", "")},
        lambda data: network.add_specification(session, actor=actor, product_code=code, data=data),
    )
