"""The registry analyst's page: cohort filters (`registry.cohorts`, the same cohorts as the
registry API), cumulative incidence of infusion (withdrawal competing) and the Kaplan-Meier curve
of still waiting; an outcome after infusion (OS, PFS, EFS or duration of response, as the API's
`/registry/survival`) per group with its log-rank test; SVG plots from `cartflow.registry.plots`
titled in the reader's language, and a pseudonymous CSV export of the cohort."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from fastapi import Depends, Query, Request
from fastapi.responses import Response

from cartflow.db.session import DbSession
from cartflow.errors import InvalidInput
from cartflow.i18n import _, gettext
from cartflow.models import Diagnosis, Role
from cartflow.network import service as network
from cartflow.registry.cohorts import (
    INFUSED,
    WITHDRAWN,
    CohortFilter,
    CohortMember,
    GroupBy,
    WaitEndpoint,
    WaitSubject,
    select_cohort,
    time_to_infusion,
)
from cartflow.registry.outcome_times import ENDPOINT_TITLES, Endpoint
from cartflow.registry.plots import cif_plot, km_plot
from cartflow.registry.service import EndpointTimes, endpoint_times
from cartflow.registry.summaries import cif_by_group, km_by_group, logrank_report
from cartflow.web import views
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/registry")

ENDPOINT_LABELS = {
    WaitEndpoint.REFERRAL_TO_INFUSION: _("Referral to infusion"),
    WaitEndpoint.VEIN_TO_VEIN: _("Apheresis to infusion (vein to vein)"),
}
GROUP_LABELS = {
    GroupBy.NONE: _("no grouping"),
    GroupBy.PRODUCT: _("product"),
    GroupBy.CENTER: _("center"),
    GroupBy.DIAGNOSIS: _("diagnosis"),
}
# CSV values stay English: the export is read by programs.
EVENT_NAMES = {0: "censored", INFUSED: "infused", WITHDRAWN: "withdrawn"}

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
    endpoint: WaitEndpoint
    group_by: GroupBy
    outcome: Endpoint = Endpoint.OS

    def params(self) -> str:
        pairs: dict[str, Any] = {
            "product": self.product or "",
            "center": self.center or "",
            "diagnosis": self.diagnosis.value if self.diagnosis else "",
            "referred_from": self.referred_from or "",
            "referred_to": self.referred_to or "",
            "endpoint": self.endpoint.value,
            "group_by": self.group_by.value,
            "outcome": self.outcome.value,
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
    endpoint: WaitEndpoint = WaitEndpoint.REFERRAL_TO_INFUSION,
    group_by: GroupBy = GroupBy.NONE,
    outcome: Endpoint = Endpoint.OS,
) -> CohortParams:
    def day(value: str | None, field: str) -> dt.date | None:
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(
                _("{field}: not a date (YYYY-MM-DD)", field=field), field=field
            ) from exc

    try:
        dx = Diagnosis(diagnosis) if diagnosis else None
    except ValueError as exc:
        raise InvalidInput(
            _("unknown diagnosis {diagnosis}", diagnosis=repr(diagnosis)), field="diagnosis"
        ) from exc
    return CohortParams(
        product=_blank(product),
        center=_blank(center),
        diagnosis=dx,
        referred_from=day(referred_from, "referred_from"),
        referred_to=day(referred_to, "referred_to"),
        endpoint=endpoint,
        group_by=group_by,
        outcome=outcome,
    )


CohortQuery = Annotated[CohortParams, Depends(_query)]


def _members(session: DbSession, actor: PageActor, q: CohortParams) -> list[CohortMember]:
    require_page_role(actor, Role.REGISTRY_ANALYST)
    return select_cohort(
        session,
        actor=actor,
        filters=CohortFilter(
            center=q.center,
            product=q.product,
            indication=q.diagnosis,
            referred_from=q.referred_from,
            referred_to=q.referred_to,
        ),
    )


def _subjects(session: DbSession, actor: PageActor, q: CohortParams) -> list[WaitSubject]:
    return time_to_infusion(
        _members(session, actor, q),
        endpoint=q.endpoint,
        group_by=q.group_by,
        today=views.local_today(None),
    )


def _outcome(session: DbSession, members: list[CohortMember], q: CohortParams) -> EndpointTimes:
    return endpoint_times(
        session,
        members,
        endpoint=q.outcome,
        today=views.local_today(None),
        group_by=q.group_by,
    )


def _arrays(found: list[WaitSubject]) -> tuple[Any, Any, Any]:
    return (
        np.array([s.days for s in found], dtype=np.float64),
        np.array([s.event for s in found], dtype=np.int64),
        np.array([s.group for s in found]),
    )


@router.get("")
def registry_page(
    request: Request, session: DbSession, actor: PageActor, q: CohortQuery
) -> Response:
    members = _members(session, actor, q)
    found = time_to_infusion(
        members, endpoint=q.endpoint, group_by=q.group_by, today=views.local_today(None)
    )
    summary = []
    if found:
        time, event, group = _arrays(found)
        for name, per_cause in cif_by_group(time, event, group):
            infused = next(c for c in per_cause if c.cause == INFUSED)
            summary.append(
                {
                    "name": name,
                    "n": infused.n,
                    "infused": sum(1 for s in found if s.group == name and s.event == INFUSED),
                    "withdrawn": sum(1 for s in found if s.group == name and s.event == WITHDRAWN),
                    "median": infused.median,
                }
            )
    times = _outcome(session, members, q)
    outcome_rows = []
    logrank = None
    if times.days:
        for name, curve in km_by_group(times.days, times.events, times.groups):
            outcome_rows.append(
                {
                    "name": name,
                    "n": curve.n,
                    "events": curve.events,
                    "median": curve.median,
                    "median_ci": curve.median_ci,
                }
            )
        logrank = logrank_report(times.days, times.events, times.groups)
    return render(
        request,
        "registry.html",
        {
            "q": q,
            "n": len(found),
            "summary": summary,
            "outcomes": ENDPOINT_TITLES,
            "outcome_rows": outcome_rows,
            "outcome_left_out": times.left_out,
            "logrank": logrank,
            "products": network.list_products(session),
            "centers": network.list_centers(session),
            "diagnoses": list(Diagnosis),
            "endpoints": ENDPOINT_LABELS,
            "group_labels": GROUP_LABELS,
        },
        actor=actor,
    )


@router.get("/plot.svg")
def plot(session: DbSession, actor: PageActor, q: CohortQuery, kind: str = "cif") -> Response:
    found = _subjects(session, actor, q)
    if not found:
        raise InvalidInput(_("the cohort is empty: nothing to plot"), field="cohort")
    time, event, group = _arrays(found)
    label = ENDPOINT_LABELS[q.endpoint]
    if kind == "km":
        curves = km_by_group(time, (event == INFUSED).astype(np.int64), group)
        image = km_plot(
            curves,
            fmt="svg",
            title=gettext(
                "Still waiting for infusion (Kaplan-Meier; withdrawal censored) — {endpoint}",
                endpoint=label,
            ),
            time_label=gettext("Days"),
        )
    else:
        per_group = cif_by_group(time, event, group)
        image = cif_plot(
            [(name, c) for name, causes in per_group for c in causes],
            fmt="svg",
            title=gettext("Cumulative incidence — {endpoint}", endpoint=label),
            time_label=gettext("Days"),
            cause_names={INFUSED: gettext("infused"), WITHDRAWN: gettext("withdrawn")},
        )
    return Response(image, media_type="image/svg+xml")


@router.get("/outcome.svg")
def outcome_plot(session: DbSession, actor: PageActor, q: CohortQuery) -> Response:
    """Kaplan-Meier curves of the chosen outcome per group, with the at-risk table."""
    times = _outcome(session, _members(session, actor, q), q)
    if not times.days:
        raise InvalidInput(
            _("no patient in this cohort has this end point: nothing to plot"), field="outcome"
        )
    image = km_plot(
        km_by_group(times.days, times.events, times.groups),
        fmt="svg",
        title=str(ENDPOINT_TITLES[q.outcome]),
        time_label=(
            gettext("Days from the first response")
            if q.outcome is Endpoint.DOR
            else gettext("Days from infusion")
        ),
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
        m = s.member
        writer.writerow(
            [
                m.chain_of_identity,
                m.pseudonym,
                m.center_code,
                m.product_code,
                m.diagnosis.value,
                s.group,
                s.days,
                EVENT_NAMES[s.event],
            ]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cartflow-cohort.csv"'},
    )
