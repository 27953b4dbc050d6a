"""PFS, EFS, duration of response by group with log-rank tests, and the CIBMTR follow-up data set,
through the registry API, on synthetic patients whose outcomes are recorded through the clinical
services. Each patient's (days, event) is written here by hand from the scenario; the estimates
are checked against lifelines and against the product-limit formula worked by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy.stats import chi2
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.outcome_service import record_death, record_disease_event, record_response
from cartflow.clinical.response import DeathCause, UptakeChange
from cartflow.clinical.schemas_after import BallIn, DeathIn, DiseaseEventIn, LuganoPetIn
from cartflow.clinical.service import local_date
from cartflow.models import Diagnosis, ProductIndication, Role
from cartflow.models.clinical_outcome import DiseaseEventKind
from tests.clinical.factories import Team, infused_episode, make_team, timeline
from tests.factories import auth, make_patient, make_user
from tests.web.helpers import login

DAYS_AGO = 300


@dataclass
class Scenario:
    team: Team
    day0: dt.date
    pseudonyms: dict[str, str]


def _lugano(
    day: dt.date, deauville: int, uptake: UptakeChange, new_lesions: bool = False
) -> LuganoPetIn:
    return LuganoPetIn(
        framework="lugano_pet",
        assessed_on=day,
        deauville=deauville,
        uptake_vs_baseline=uptake,
        new_fdg_avid_lesions=new_lesions,
    )


def _ball(day: dt.date, *, blasts: float, anc: float) -> BallIn:
    return BallIn(
        framework="b_all",
        assessed_on=day,
        marrow_blasts_pct=blasts,
        circulating_blasts=False,
        extramedullary_disease=False,
        anc_10e9_per_l=anc,
        platelets_10e9_per_l=150.0,
        transfusion_independent=True,
    )


def build(session: Session, unique: str) -> Scenario:
    """Eight patients infused on the same day, 300 days ago (day n = day 0 + n):

    DLBCL  L1  CR d28 (Deauville 2), PD d120 (new FDG-avid lesions), died of lymphoma d200
           L2  PR d28 (Deauville 4, reduced), CR d90
           L3  SD d28 and d180 (Deauville 4, unchanged)
           L4  no assessment, died of CRS d20
    B-ALL  A1  CR d28, relapse d150
           A2  no response d28 (40 % blasts), died of leukaemia d60
           A3  CRi d28 (ANC 0.5), CR d56
    FL     F1  nothing recorded since the infusion
    """
    team = make_team(session, unique)
    # The factory product is labelled for B-ALL and DLBCL; this cohort has a follicular lymphoma too.
    session.add(
        ProductIndication(
            product_id=team.net.product.id,
            diagnosis=Diagnosis.FOLLICULAR_LYMPHOMA,
            min_age_years=18,
            max_age_years=None,
            min_prior_lines=2,
        )
    )
    clinician = Actor(team.clinician)
    when = timeline(days_ago=DAYS_AGO)
    day0 = local_date(when.day0, team.net.center_a.timezone)

    def d(n: int) -> dt.date:
        return day0 + dt.timedelta(days=n)

    pseudonyms: dict[str, str] = {}
    ids = {}
    for name, diagnosis in (
        ("L1", Diagnosis.DLBCL),
        ("L2", Diagnosis.DLBCL),
        ("L3", Diagnosis.DLBCL),
        ("L4", Diagnosis.DLBCL),
        ("A1", Diagnosis.B_ALL),
        ("A2", Diagnosis.B_ALL),
        ("A3", Diagnosis.B_ALL),
        ("F1", Diagnosis.FOLLICULAR_LYMPHOMA),
    ):
        age = (
            12 if diagnosis is Diagnosis.B_ALL else 50
        )  # the test product's B-ALL label: 3-25 years
        patient = make_patient(session, team.net.center_a, diagnosis=diagnosis, age_years=age)
        episode, _ = infused_episode(session, team, when, patient=patient)
        pseudonyms[name] = patient.pseudonym
        ids[name] = episode.id

    def respond(name: str, data: LuganoPetIn | BallIn) -> None:
        record_response(session, actor=clinician, episode_id=ids[name], data=data)

    def die(name: str, n: int, cause: DeathCause) -> None:
        record_death(
            session, actor=clinician, episode_id=ids[name], data=DeathIn(died_on=d(n), cause=cause)
        )

    respond("L1", _lugano(d(28), 2, UptakeChange.REDUCED))
    respond("L1", _lugano(d(120), 5, UptakeChange.INCREASED, new_lesions=True))
    die("L1", 200, DeathCause.DISEASE)
    respond("L2", _lugano(d(28), 4, UptakeChange.REDUCED))
    respond("L2", _lugano(d(90), 2, UptakeChange.REDUCED))
    respond("L3", _lugano(d(28), 4, UptakeChange.UNCHANGED))
    respond("L3", _lugano(d(180), 4, UptakeChange.UNCHANGED))
    die("L4", 20, DeathCause.CRS)
    respond("A1", _ball(d(28), blasts=1.0, anc=1.5))
    record_disease_event(
        session,
        actor=clinician,
        episode_id=ids["A1"],
        data=DiseaseEventIn(kind=DiseaseEventKind.RELAPSE, occurred_on=d(150)),
    )
    respond("A2", _ball(d(28), blasts=40.0, anc=1.5))
    die("A2", 60, DeathCause.DISEASE)
    respond("A3", _ball(d(28), blasts=1.0, anc=0.5))
    respond("A3", _ball(d(56), blasts=1.0, anc=1.5))
    session.flush()
    return Scenario(team=team, day0=day0, pseudonyms=pseudonyms)


# By hand from the scenario (definitions in cartflow.registry.outcome_times).
PFS = {
    "DLBCL": [(120, 1), (90, 0), (180, 0), (20, 1)],
    "B-ALL": [(150, 1), (60, 1), (56, 0)],
    "FL": [(0, 0)],
}
EFS = {  # no CR/PR by day 150 (L3) or death before any response (L4, A2): an event on day 0
    "DLBCL": [(120, 1), (90, 0), (0, 1), (0, 1)],
    "B-ALL": [(150, 1), (0, 1), (56, 0)],
}
DOR = {"DLBCL": [(92, 1), (62, 0)], "B-ALL": [(122, 1), (28, 0)]}


@pytest.fixture
def scenario(session: Session, unique: str) -> Scenario:
    return build(session, unique)


def _get(api: TestClient, session: Session, scenario: Scenario, **params: str) -> dict[str, Any]:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    response = api.get(
        "/api/v1/registry/survival",
        params={"product": scenario.team.net.product.code, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _check_against_lifelines(
    groups: list[dict[str, Any]], expected: dict[str, list[tuple[int, int]]]
) -> None:
    assert [g["name"] for g in groups] == sorted(expected)
    for group in groups:
        rows = expected[group["name"]]
        fitter = KaplanMeierFitter().fit([t for t, _ in rows], [e for _, e in rows])
        assert group["n"] == len(rows)
        assert group["events"] == sum(e for _, e in rows)
        for t, s in zip(group["timeline"], group["estimate"], strict=True):
            assert s == pytest.approx(float(fitter.survival_function_at_times(t).iloc[0]))


def test_pfs_by_disease_matches_lifelines_and_the_product_limit_by_hand(
    api: TestClient,
    session: Session,
    scenario: Scenario,
) -> None:
    body = _get(api, session, scenario, endpoint="pfs", group_by="diagnosis")
    assert (body["endpoint"], body["group_by"], body["left_out"]) == ("pfs", "diagnosis", 0)
    _check_against_lifelines(body["groups"], PFS)
    dlbcl = next(g for g in body["groups"] if g["name"] == "DLBCL")
    # Product-limit by hand: 4 at risk; event at 20 (3/4); censored at 90; 2 at risk at 120,
    # one event (3/4 * 1/2 = 3/8); censored at 180. The median is the first S <= 0.5: day 120.
    assert dlbcl["timeline"] == [20.0, 90.0, 120.0, 180.0]
    assert dlbcl["estimate"] == pytest.approx([3 / 4, 3 / 4, 3 / 8, 3 / 8])
    assert dlbcl["median"] == 120.0
    test = multivariate_logrank_test(
        [t for g in sorted(PFS) for t, _ in PFS[g]],
        [g for g in sorted(PFS) for _ in PFS[g]],
        [e for g in sorted(PFS) for _, e in PFS[g]],
    )
    logrank = body["logrank"]
    assert logrank["groups"] == ["B-ALL", "DLBCL", "FL"]
    assert logrank["observed"] == [2.0, 2.0, 0.0]
    assert logrank["chisq"] == pytest.approx(test.test_statistic, rel=1e-9)
    # The FL patient is at risk at no event time (E = 0): R's survdiff then counts one degree of
    # freedom fewer than lifelines' k - 1.
    assert logrank["df"] == 1
    assert logrank["p_value"] == pytest.approx(float(chi2.sf(test.test_statistic, 1)), rel=1e-9)


def test_efs_two_groups_log_rank_equals_lifelines(
    api: TestClient,
    session: Session,
    scenario: Scenario,
) -> None:
    body = _get(api, session, scenario, endpoint="efs", group_by="diagnosis")
    assert body["left_out"] == 1  # the FL patient: EFS is not defined for follicular lymphoma
    _check_against_lifelines(body["groups"], EFS)
    dlbcl = next(g for g in body["groups"] if g["name"] == "DLBCL")
    # Two of four fail on day 0 (S = 1/2), censored at 90, the last one at risk fails at 120.
    assert dlbcl["estimate"] == pytest.approx([1 / 2, 1 / 2, 0.0])
    # S is exactly 1/2 from day 0 until day 120: R's rule takes the midpoint, (0 + 120) / 2.
    assert dlbcl["median"] == 60.0
    a, b = EFS["B-ALL"], EFS["DLBCL"]
    expected = logrank_test(
        [t for t, _ in a], [t for t, _ in b], [e for _, e in a], [e for _, e in b]
    )
    assert body["logrank"]["chisq"] == pytest.approx(expected.test_statistic, rel=1e-9)
    assert body["logrank"]["p_value"] == pytest.approx(expected.p_value, rel=1e-9)


def test_duration_of_response_among_responders(
    api: TestClient,
    session: Session,
    scenario: Scenario,
) -> None:
    body = _get(api, session, scenario, endpoint="dor", group_by="diagnosis")
    assert body["left_out"] == 4  # L3, L4, A2 never responded; F1 has no assessment
    _check_against_lifelines(body["groups"], DOR)
    overall = _get(api, session, scenario, endpoint="dor")
    (group,) = overall["groups"]
    assert group["name"] == "all" and overall["logrank"] is None
    # Pooled by hand: 28 (c), 62 (c), 92 (e, 2 at risk: 1/2), 122 (e, 1 at risk: 0).
    assert group["timeline"] == [28.0, 62.0, 92.0, 122.0]
    assert group["estimate"] == pytest.approx([1.0, 1.0, 0.5, 0.0])
    png = api.get(
        "/api/v1/registry/survival.png",
        params={
            "product": scenario.team.net.product.code,
            "endpoint": "efs",
            "group_by": "diagnosis",
        },
        headers=auth(session, make_user(session, Role.REGISTRY_ANALYST)),
    )
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_cibmtr_follow_up_data_set(
    api: TestClient,
    session: Session,
    scenario: Scenario,
) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    params = {"product": scenario.team.net.product.code, "table": "followup"}
    text = api.get("/api/v1/registry/export.csv", params=params, headers=headers).text
    rows = list(csv.DictReader(io.StringIO(text)))
    by_patient: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_patient.setdefault(row["patient_id"], []).append(row)
    d0 = scenario.day0
    # L1 died on day 200: day 100 (85-115) had no contact and closed long ago -> overdue; the
    # death on day 200 is the contact of the 6-month window (150-210) -> done; the 1-year window
    # opens after the death and is not owed.
    l1 = by_patient[scenario.pseudonyms["L1"]]
    assert [(r["time_point"], r["status"], r["contact_date"]) for r in l1] == [
        ("day 100", "overdue", ""),
        ("6 months", "done", (d0 + dt.timedelta(days=200)).isoformat()),
    ]
    # L3 is alive, 300 days after the infusion, seen on days 28 and 180: day 100 overdue, 6
    # months done on day 180, 1 year (day 365-425) upcoming, then yearly to 15 years.
    l3 = by_patient[scenario.pseudonyms["L3"]]
    assert [(r["time_point"], r["status"]) for r in l3[:3]] == [
        ("day 100", "overdue"),
        ("6 months", "done"),
        ("1 year", "upcoming"),
    ]
    assert len(l3) == 2 + 15 and all(r["track"] == "15-year" for r in l3)
    assert l3[2]["opens"] == (d0 + dt.timedelta(days=365)).isoformat()
    # L4 (day 20) and A2 (day 60) died before the first window opened on day 85: nothing owed.
    assert scenario.pseudonyms["L4"] not in by_patient
    assert scenario.pseudonyms["A2"] not in by_patient
    assert len(by_patient) == 6
    parquet = api.get("/api/v1/registry/export.parquet", params=params, headers=headers)
    assert parquet.status_code == 200 and parquet.content.startswith(b"PAR1")


def test_bad_endpoint_and_group_are_refused_naming_the_field(
    api: TestClient,
    session: Session,
) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    for field, value in (("endpoint", "rfs"), ("group_by", "sex")):
        bad = api.get("/api/v1/registry/survival", params={field: value}, headers=headers)
        assert bad.status_code == 422 and bad.json()["field"] == field


def test_the_registry_page_shows_the_outcome_by_group_with_its_log_rank(
    client: TestClient, session: Session, scenario: Scenario
) -> None:
    login(client, make_user(session, Role.REGISTRY_ANALYST).username)
    params = {
        "product": scenario.team.net.product.code,
        "outcome": "pfs",
        "group_by": "diagnosis",
    }
    page = client.get("/registry", params=params)
    assert page.status_code == 200, page.text
    table = page.text[page.text.index('id="outcome-table"') :]
    rows = re.findall(
        r'<td data-label="Group">([^<]+)</td><td data-label="Patients">(\d+)</td>'
        r'<td data-label="Events">(\d+)</td><td data-label="Median \(days\)" class="median">'
        r"([^<]+)</td>",
        table,
    )
    # PFS by hand (PFS above): DLBCL S = 3/8 from day 120, the median; B-ALL S = 1/2 exactly
    # from day 60 to the event on day 150, so R's midpoint rule gives (60 + 150) / 2; FL: one
    # patient censored on day 0.
    assert rows == [
        ("B-ALL", "3", "2", "105.0"),
        ("DLBCL", "4", "2", "120.0"),
        ("FL", "1", "0", "not reached"),
    ]
    expected = multivariate_logrank_test(
        [t for g in sorted(PFS) for t, _ in PFS[g]],
        [g for g in sorted(PFS) for _ in PFS[g]],
        [e for g in sorted(PFS) for _, e in PFS[g]],
    ).test_statistic
    sentence = (
        f"Log-rank test: chi-square {expected:.2f} on 1 degrees of freedom, "
        f"p = {chi2.sf(expected, 1):.3g}"
    )
    assert sentence in page.text
    svg = client.get("/registry/outcome.svg", params=params)
    assert svg.status_code == 200 and "Progression-free survival" in svg.text
    client.cookies.set("cartflow_locale", "ru")
    russian = client.get("/registry", params={**params, "outcome": "efs"})
    assert "Исход после инфузии: Бессобытийная выживаемость" in russian.text
    assert "1 пациент с инфузией не входит в анализ этой конечной точки" in russian.text
    svg = client.get("/registry/outcome.svg", params={**params, "outcome": "efs"})
    assert "Бессобытийная выживаемость" in svg.text and "Дни от инфузии" in svg.text
