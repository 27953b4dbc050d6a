"""The registry API on a hand-built cohort: counts, KM equal to km.kaplan_meier on the same
times, the plot, the summary, exports, scoping, wrong role 403 and a malformed filter 422."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session

from cartflow.models import Role
from cartflow.registry.km import kaplan_meier
from tests.factories import auth, make_user
from tests.registry.test_cohorts import Cohort, build_cohort


@pytest.fixture
def cohort(session: Session, unique: str) -> Cohort:
    return build_cohort(session, unique)


def _q(cohort: Cohort, **extra: str) -> dict[str, str]:
    return {"product": cohort.team.net.product.code, **extra}


def test_cohort_counts_by_intention_to_treat(
    api: TestClient, session: Session, cohort: Cohort
) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    body = api.get("/api/v1/registry/cohort", params=_q(cohort), headers=headers).json()
    assert (body["referred"], body["apheresed"], body["infused"], body["withdrawn"]) == (7, 4, 3, 2)
    assert {(d["reason"], d["from_state"]) for d in body["dropouts"]} == {
        ("ineligible", "referred"),
        ("manufacturing_failure", "apheresis_collected"),
    }


def test_survival_equals_kaplan_meier_on_hand_computed_times(
    api: TestClient, session: Session, cohort: Cohort
) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    params = _q(cohort, indication="DLBCL")
    body = api.get("/api/v1/registry/survival", params=params, headers=headers).json()
    # By hand: death on day 100; the other patient last seen at the day-28 response.
    expected = kaplan_meier([100, 28], [1, 0])
    (group,) = body["groups"]
    assert (group["n"], group["events"]) == (2, 1)
    assert group["timeline"] == expected.timeline.tolist()
    assert group["estimate"] == expected.estimate.tolist()
    assert group["median"] == expected.median
    png = api.get("/api/v1/registry/survival.png", params=params, headers=headers)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_summary_rates_and_vein_to_vein(api: TestClient, session: Session, cohort: Cohort) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    body = api.get(
        "/api/v1/registry/summary", params=_q(cohort, indication="DLBCL"), headers=headers
    ).json()
    assert body["infused"] == 2
    # One evaluable patient, a complete metabolic response (Deauville 2): 1/1.
    assert body["response"]["complete"]["successes"] == 1
    assert body["response"]["not_evaluable"] == 1
    assert body["vein_to_vein_days"]["median"] == 35.0  # 30 and 40 days
    # CRS grades 3 and 1: 1/2, exact interval in closed form (1 - sqrt(0.975), sqrt(0.975)).
    crs = body["crs_grade3"]["rate"]
    assert (crs["successes"], crs["n"]) == (1, 2)
    assert crs["ci_lower"] == pytest.approx(1 - 0.975**0.5)
    assert crs["ci_upper"] == pytest.approx(0.975**0.5)
    assert body["icans_grade3"] is None
    # The infection death competes with relapse: cause 2 has one event, cause 1 none.
    causes = {g["cause"]: g["events"] for g in body["relapse_incidence"]["groups"]}
    assert causes.get(2) == 1 and causes.get(1, 0) == 0
    everyone = api.get("/api/v1/registry/summary", params=_q(cohort), headers=headers).json()
    causes = {g["cause"]: g["events"] for g in everyone["relapse_incidence"]["groups"]}
    assert causes == {1: 1, 2: 1}  # the child's relapse on day 1 of the B-ALL episode


def test_exports_carry_pseudonyms_only(api: TestClient, session: Session, cohort: Cohort) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    text = api.get("/api/v1/registry/export.csv", params=_q(cohort), headers=headers).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7 and all(r["registry_id"].startswith("P-") for r in rows)
    assert "Synthetic" not in text
    fhir = api.get("/api/v1/registry/export.fhir", params=_q(cohort), headers=headers)
    bundle = Bundle.model_validate_json(fhir.content)
    kinds = {e.resource.__resource_type__ for e in bundle.entry or [] if e.resource}
    assert {"Patient", "Condition", "Procedure", "Observation"} <= kinds
    parquet = api.get(
        "/api/v1/registry/export.parquet", params=_q(cohort, table="procedures"), headers=headers
    )
    assert parquet.status_code == 200 and parquet.content.startswith(b"PAR1")


def test_scoping_wrong_role_and_malformed_filter(
    api: TestClient, session: Session, cohort: Cohort
) -> None:
    net = cohort.team.net
    center_b = auth(session, make_user(session, Role.REGISTRY_ANALYST, center=net.center_b))
    mine = api.get("/api/v1/registry/cohort", params=_q(cohort), headers=center_b).json()
    assert mine["referred"] == 1
    other = api.get(
        "/api/v1/registry/export.csv", params=_q(cohort, center=net.center_a.code), headers=center_b
    )
    assert other.status_code == 404
    clinician = auth(session, cohort.team.clinician)
    assert (
        api.get("/api/v1/registry/cohort", params=_q(cohort), headers=clinician).json()["referred"]
        == 6
    )
    planner = auth(session, make_user(session, Role.PLANNER, site=net.site))
    assert (
        api.get("/api/v1/registry/summary", params=_q(cohort), headers=planner).status_code == 403
    )
    analyst = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    for field, value in (("age_group", "elderly"), ("referred_from", "yesterday")):
        bad = api.get("/api/v1/registry/cohort", params={field: value}, headers=analyst)
        assert bad.status_code == 422 and bad.json()["field"] == field
