"""The registry analyst's page: cohort filters over the network's episodes, cumulative incidence
of infusion (withdrawal competing) and the Kaplan-Meier curve of still waiting, as SVG plots from
`cartflow.registry.plots`, and a pseudonymous CSV export of the cohort."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from fastapi import Depends, Query, Request
from fastapi.responses import Response

from cartflow.db.session import DbSession
from cartflow.errors import InvalidInput
from cartflow.models import Diagnosis, Role
from cartflow.network import service as network
from cartflow.registry.plots import cif_plot, km_plot
from cartflow.registry.summaries import cif_by_group, km_by_group
from cartflow.web import views
from cartflow.web.cohort import (
    ENDPOINT_LABELS,
    INFUSED,
    CohortFilter,
    Endpoint,
    GroupBy,
    Subject,
    cohort,
    subjects,
)
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/registry")

EXPORT_COLUMNS = (
    "chain_of_identity",
    "pseudonym",
    "center",
    "product",
    "diagnosis",
    "group",
    "days",
    "event",
)


@dataclass(frozen=True)
class CohortParams:
    product: str | None
    center: str | None
    diagnosis: Diagnosis | None
    referred_from: dt.date | None
    referred_to: dt.date | None
    endpoint: Endpoint
    group_by: GroupBy

    def params(self) -> str:
        pairs: dict[str, Any] = {
            "product": self.product or "",
            "center": self.center or "",
            "diagnosis": self.diagnosis.value if self.diagnosis else "",
            "referred_from": self.referred_from or "",
            "referred_to": self.referred_to or "",
            "endpoint": self.endpoint.value,
            "group_by": self.group_by.value,
        }
        return urlencode({k: str(v) for k, v in pairs.items()})


def _blank(value: str | None) -> str | None:
    return value or None


def _query(
    product: Annotated[str | None, Query(max_length=32)] = None,
    center: Annotated[str | None, Query(max_length=32)] = None,
    diagnosis: Annotated[str | None, Query(max_length=16)] = None,
    referred_from: Annotated[str | None, Query(max_length=10)] = None,
    referred_to: Annotated[str | None, Query(max_length=10)] = None,
    endpoint: Endpoint = Endpoint.REFERRAL_TO_INFUSION,
    group_by: GroupBy = GroupBy.NONE,
) -> CohortParams:
    def day(value: str | None, field: str) -> dt.date | None:
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(f"{field}: not a date (YYYY-MM-DD)", field=field) from exc

    try:
        dx = Diagnosis(diagnosis) if diagnosis else None
    except ValueError as exc:
        raise InvalidInput(f"unknown diagnosis {diagnosis!r}", field="diagnosis") from exc
    return CohortParams(
        product=_blank(product),
        center=_blank(center),
        diagnosis=dx,
        referred_from=day(referred_from, "referred_from"),
        referred_to=day(referred_to, "referred_to"),
        endpoint=endpoint,
        group_by=group_by,
    )


CohortQuery = Annotated[CohortParams, Depends(_query)]


def _subjects(session: DbSession, actor: PageActor, q: CohortParams) -> list[Subject]:
    require_page_role(actor, Role.REGISTRY_ANALYST)
    center_id: uuid.UUID | None = None
    if q.center:
        center_id = network.get_center(session, code=q.center).id
    rows = cohort(
        session,
        actor=actor,
        filters=CohortFilter(
            product=q.product,
            center_id=center_id,
            diagnosis=q.diagnosis,
            referred_from=q.referred_from,
            referred_to=q.referred_to,
        ),
    )
    return subjects(rows, endpoint=q.endpoint, group_by=q.group_by, today=views.local_today(None))


def _arrays(found: list[Subject]) -> tuple[Any, Any, Any]:
    return (
        np.array([s.days for s in found], dtype=np.float64),
        np.array([s.event for s in found], dtype=np.int64),
        np.array([s.group for s in found]),
    )


@router.get("")
def registry_page(
    request: Request, session: DbSession, actor: PageActor, q: CohortQuery
) -> Response:
    found = _subjects(session, actor, q)
    summary = []
    if found:
        time, event, group = _arrays(found)
        for name, per_cause in cif_by_group(time, event, group):
            infused = next(c for c in per_cause if c.cause == INFUSED)
            summary.append(
                {
                    "name": name,
                    "n": infused.n,
                    "infused": int(sum(1 for s in found if s.group == name and s.event == 1)),
                    "withdrawn": int(sum(1 for s in found if s.group == name and s.event == 2)),
                    "median": infused.median,
                }
            )
    return render(
        request,
        "registry.html",
        {
            "q": q,
            "n": len(found),
            "summary": summary,
            "products": network.list_products(session),
            "centers": network.list_centers(session),
            "diagnoses": list(Diagnosis),
            "endpoints": ENDPOINT_LABELS,
            "group_choices": list(GroupBy),
        },
        actor=actor,
    )


@router.get("/plot.svg")
def plot(session: DbSession, actor: PageActor, q: CohortQuery, kind: str = "cif") -> Response:
    found = _subjects(session, actor, q)
    if not found:
        raise InvalidInput("the cohort is empty: nothing to plot", field="cohort")
    time, event, group = _arrays(found)
    label = ENDPOINT_LABELS[q.endpoint]
    if kind == "km":
        curves = km_by_group(time, (event == INFUSED).astype(np.int64), group)
        image = km_plot(
            curves,
            fmt="svg",
            title=f"Still waiting for infusion (Kaplan-Meier; withdrawal censored) — {label}",
            time_label="Days",
        )
    else:
        per_group = cif_by_group(time, event, group)
        image = cif_plot(
            [(name, c) for name, causes in per_group for c in causes],
            fmt="svg",
            title=f"Cumulative incidence — {label}",
            time_label="Days",
            cause_names={1: "infused", 2: "withdrawn"},
        )
    return Response(image, media_type="image/svg+xml")


@router.get("/cohort.csv")
def export(session: DbSession, actor: PageActor, q: CohortQuery) -> Response:
    """Pseudonymous rows: no name, MRN or date of birth leaves through the registry export."""
    found = _subjects(session, actor, q)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for s in found:
        e = s.episode
        writer.writerow(
            [
                e.chain_of_identity,
                e.patient.pseudonym,
                e.center.code,
                e.product.code,
                e.patient.diagnosis.value,
                s.group,
                s.days,
                {0: "censored", 1: "infused", 2: "withdrawn"}[s.event],
            ]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cartflow-cohort.csv"'},
    )
