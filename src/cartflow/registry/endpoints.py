"""Registry outputs over HTTP: cohort counts, overall survival (JSON and PNG), rates and exports.

Every endpoint takes the cohort filters as query parameters (`schemas.CohortQuery`) and reads only
the centers the caller may see (`cohorts.visible_centers`). Heavy imports (matplotlib, pyarrow,
fhir.resources) stay inside the endpoints that need them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cartflow.auth.dependencies import CurrentActor
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.errors import Conflict
from cartflow.registry.cohorts import CohortMember, itt_counts, select_cohort
from cartflow.registry.km import CIType
from cartflow.registry.schemas import CohortOut, CohortQuery, SummaryOut
from cartflow.registry.service import Censoring, build_export, overall_survival, summarise
from cartflow.registry.summaries import km_by_group, km_report

router = APIRouter(tags=["registry"])

Filters = Annotated[CohortQuery, Query()]
ExportTable = Literal["patients", "diagnoses", "procedures", "products", "toxicities", "responses"]


class EmptyCohort(Conflict):
    code = "REGISTRY-EMPTY-COHORT"


def _cohort(session: DbSession, actor: CurrentActor, filters: CohortQuery) -> list[CohortMember]:
    return select_cohort(session, actor=actor, filters=filters.to_filter())


@router.get("/registry/cohort", response_model=CohortOut)
def cohort(session: DbSession, actor: CurrentActor, filters: Filters) -> CohortOut:
    return CohortOut.model_validate(itt_counts(_cohort(session, actor, filters)))


@router.get("/registry/survival")
def survival(
    session: DbSession,
    actor: CurrentActor,
    filters: Filters,
    ci: CIType = "log",
    censor: Censoring = "last_contact",
) -> dict[str, object]:
    """Overall survival from infusion (days), Kaplan-Meier with 95 % CI, as `registry km --json`."""
    times = overall_survival(
        session, _cohort(session, actor, filters), today=utcnow().date(), censor=censor
    )
    if not times.days:
        return {"groups": []}
    return {"groups": km_report(km_by_group(times.days, times.events, ci=ci))["groups"]}


@router.get("/registry/survival.png", response_class=Response)
def survival_png(
    session: DbSession,
    actor: CurrentActor,
    filters: Filters,
    ci: CIType = "log",
    censor: Censoring = "last_contact",
) -> Response:
    from cartflow.registry.plots import km_plot

    times = overall_survival(
        session, _cohort(session, actor, filters), today=utcnow().date(), censor=censor
    )
    if not times.days:
        raise EmptyCohort("no infused patient in this cohort: nothing to plot")
    curves = km_by_group(times.days, times.events, ci=ci)
    png = km_plot(curves, fmt="png", title="Overall survival", time_label="Days from infusion")
    return Response(content=png, media_type="image/png")


@router.get("/registry/summary", response_model=SummaryOut)
def summary(
    session: DbSession,
    actor: CurrentActor,
    filters: Filters,
    censor: Censoring = "last_contact",
) -> SummaryOut:
    result = summarise(
        session, _cohort(session, actor, filters), today=utcnow().date(), censor=censor
    )
    return SummaryOut.model_validate(result)


def _table(session: DbSession, actor: CurrentActor, filters: CohortQuery, table: str) -> Any:
    from cartflow.registry import records

    export = build_export(session, _cohort(session, actor, filters))
    kinds: dict[str, type[Any]] = {
        "patients": records.PatientRecord,
        "diagnoses": records.DiagnosisRecord,
        "procedures": records.ProcedureRecord,
        "products": records.ProductRecord,
        "toxicities": records.ToxicityRecord,
        "responses": records.ResponseRecord,
    }
    return getattr(export, table), kinds[table]


@router.get("/registry/export.csv", response_class=Response)
def export_csv(
    session: DbSession, actor: CurrentActor, filters: Filters, table: ExportTable = "patients"
) -> Response:
    from cartflow.registry.tabular_export import records_to_csv

    rows, kind = _table(session, actor, filters, table)
    return Response(
        content=records_to_csv(rows, record_type=kind),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="registry-{table}.csv"'},
    )


@router.get("/registry/export.parquet", response_class=Response)
def export_parquet(
    session: DbSession, actor: CurrentActor, filters: Filters, table: ExportTable = "patients"
) -> Response:
    from cartflow.registry.tabular_export import records_to_parquet

    rows, kind = _table(session, actor, filters, table)
    return Response(
        content=records_to_parquet(rows, record_type=kind),
        media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": f'attachment; filename="registry-{table}.parquet"'},
    )


@router.get("/registry/export.fhir", response_class=Response)
def export_fhir(session: DbSession, actor: CurrentActor, filters: Filters) -> Response:
    from cartflow.registry.fhir_export import fhir_bundle_json

    export = build_export(session, _cohort(session, actor, filters))
    text = fhir_bundle_json(export, bundle_id=str(uuid.uuid4()), timestamp=utcnow())
    return Response(content=text, media_type="application/fhir+json")
