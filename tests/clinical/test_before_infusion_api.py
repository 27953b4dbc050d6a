"""Eligibility, protocol, lymphodepletion and CAR-HEMATOTOX through the API."""

from __future__ import annotations

import datetime as dt
import math

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.db.base import utcnow
from cartflow.models import Diagnosis, EpisodeState, Role
from cartflow.models.clinical import EligibilityAssessment
from tests.clinical.factories import make_team, received_episode
from tests.factories import auth, make_episode, make_patient, make_user

ZUMA1_LABS = {
    "anc_per_ul": 1500,
    "lymphocytes_per_ul": 300,
    "platelets_10e9_per_l": 120,
    "alt_x_uln": 1.0,
    "ast_x_uln": 1.0,
    "bilirubin_mg_per_dl": 0.8,
    "creatinine_clearance_ml_min": 90,
    "lvef_pct": 60,
    "spo2_room_air_pct": 97,
}


def _consent(client: TestClient, headers: dict[str, str], episode_id: object) -> None:
    response = client.post(
        f"/api/v1/clinical/episodes/{episode_id}/consents",
        json={"signed_on": str(dt.date.today()), "form_version": "v1"},  # noqa: DTZ011
        headers=headers,
    )
    assert response.status_code == 201, response.text


def test_default_criteria_and_the_indication_guard(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    clinician = auth(session, team.clinician)
    # The product's B-ALL indication is 3-25 years: a 40-year-old fails the episode's own guard.
    too_old = make_episode(
        session, team.net, patient=make_patient(session, team.net.center_a, age_years=40)
    )
    _consent(client, clinician, too_old.id)
    url = f"/api/v1/clinical/episodes/{too_old.id}/eligibility-assessments"
    refused = client.post(url, json={"ecog": 3, "labs": ZUMA1_LABS}, headers=clinician)
    assert refused.status_code == 201
    body = refused.json()
    assert body["eligible"] is False and body["protocol_version"] == 0
    assert [f["code"] for f in body["failures"]] == ["ELIG-002", "ELIG-ECOG"]
    assert body["episode_state"] == "referred"

    fit = make_episode(session, team.net)
    _consent(client, clinician, fit.id)
    passed = client.post(
        f"/api/v1/clinical/episodes/{fit.id}/eligibility-assessments",
        json={"ecog": 1, "labs": ZUMA1_LABS},
        headers=clinician,
    )
    assert passed.json()["eligible"] is True and passed.json()["episode_state"] == "eligible"
    listed = client.get(
        f"/api/v1/clinical/episodes/{fit.id}/eligibility-assessments", headers=clinician
    ).json()
    assert len(listed) == 1
    stored = session.execute(
        select(EligibilityAssessment).where(EligibilityAssessment.episode_id == fit.id)
    ).scalar_one()
    assert stored.findings["ecog"] == 1 and stored.criteria["max_ecog"] == 1


def test_the_generic_transition_cannot_confirm_eligibility(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    episode = make_episode(session, team.net)
    response = client.post(
        f"/api/v1/episodes/{episode.id}/transitions",
        json={"transition": "confirm_eligibility"},
        headers=auth(session, team.clinician),
    )
    assert response.status_code == 409 and response.json()["code"] == "STATE-002"


def test_protocols_are_versioned_and_set_by_admins(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    url = f"/api/v1/clinical/products/{team.net.product.code}/protocol"
    body = {"max_ecog": 2, "labs": {"lvef_pct": {"min": 45}}, "source": "local protocol v1"}
    assert client.put(url, json=body, headers=auth(session, team.clinician)).status_code == 403
    admin = auth(session, make_user(session, Role.ADMIN))
    assert client.put(url, json=body, headers=admin).json()["version"] == 1
    second = client.put(url, json=body | {"max_ecog": 1}, headers=admin).json()
    assert second["version"] == 2 and second["criteria"]["max_ecog"] == 1
    bad = client.put(url, json=body | {"labs": {"lvef_pct": {}}}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"].startswith("labs")
    unknown = client.put(url, json=body | {"ld_regimen_code": "no-such"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["field"] == "ld_regimen_code"


def test_lymphodepletion_plan_and_start(client: TestClient, session: Session, unique: str) -> None:
    team = make_team(session, unique)
    clinician = auth(session, team.clinician)
    patient = make_patient(session, team.net.center_a, diagnosis=Diagnosis.DLBCL, age_years=60)
    episode = received_episode(session, team, patient=patient, days_ago=2)
    base = f"/api/v1/clinical/episodes/{episode.id}"
    day0 = dt.date.today() + dt.timedelta(days=5)  # noqa: DTZ011
    not_yet = client.post(f"{base}/lymphodepletion/start", json={}, headers=clinician)
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "LD-NO-PLAN"

    # CrCl 50 mL/min: reduced renal function, fludarabine -20% (fludarabine label 2.2).
    plan = client.post(
        f"{base}/lymphodepletion-plans",
        json={"infusion_date": str(day0), "regimen": "axi-cel", "crcl_ml_min": 50},
        headers=clinician,
    )
    assert plan.status_code == 201, plan.text
    body = plan.json()
    bsa = math.sqrt(150 * 40 / 3600)  # the factory patient's height and weight
    assert body["reduced_renal_function"] is True and body["fludarabine_dose_factor"] == 0.8
    flu = {d["dose_mg"] for d in body["doses"] if d["drug"] == "fludarabine"}
    cy = {d["dose_mg"] for d in body["doses"] if d["drug"] == "cyclophosphamide"}
    assert flu == {round(30 * 0.8 * bsa, 1)} and cy == {round(500 * bsa, 1)}
    assert {d["on"] for d in body["doses"]} == {str(day0 - dt.timedelta(days=n)) for n in (5, 4, 3)}

    # Severe renal impairment: the labels disagree, so the clinician must choose the factor.
    severe = client.post(
        f"{base}/lymphodepletion-plans",
        json={"infusion_date": str(day0), "regimen": "axi-cel", "crcl_ml_min": 25, "reason": "x"},
        headers=clinician,
    )
    assert severe.status_code == 409 and severe.json()["code"] == "LD-RENAL-SEVERE"
    unexplained = client.post(
        f"{base}/lymphodepletion-plans",
        json={"infusion_date": str(day0), "regimen": "axi-cel", "crcl_ml_min": 80},
        headers=clinician,
    )
    assert unexplained.status_code == 422 and unexplained.json()["field"] == "reason"
    replan = client.post(
        f"{base}/lymphodepletion-plans",
        json={
            "infusion_date": str(day0),
            "regimen": "axi-cel",
            "serum_creatinine_mg_dl": 0.8,
            "reason": "creatinine repeated",
        },
        headers=clinician,
    ).json()
    assert replan["supersedes_id"] == body["id"]
    # Cockcroft-Gault for the 60-year-old, 40 kg woman: (140-60) x 40 / (72 x 0.8) x 0.85.
    assert replan["crcl_ml_min"] == round((140 - 60) * 40 / (72 * 0.8) * 0.85, 1)
    current = client.get(f"{base}/lymphodepletion-plan", headers=clinician).json()
    assert current["id"] == replan["id"]

    before_release = (utcnow() - dt.timedelta(days=3)).isoformat()
    early = client.post(
        f"{base}/lymphodepletion/start", json={"started_at": before_release}, headers=clinician
    )
    assert early.status_code == 409 and early.json()["code"] == "LD-NOT-RELEASED"
    started = client.post(f"{base}/lymphodepletion/start", json={}, headers=clinician)
    assert started.status_code == 200 and started.json()["started_at"] is not None
    state = client.get(f"/api/v1/episodes/{episode.id}", headers=clinician).json()
    assert state["state"] == "lymphodepletion" and state["planned_infusion_date"] == str(day0)
    fixed = client.post(
        f"{base}/lymphodepletion-plans",
        json={"infusion_date": str(day0), "regimen": "axi-cel", "crcl_ml_min": 90, "reason": "r"},
        headers=clinician,
    )
    assert fixed.status_code == 409 and fixed.json()["code"] in ("LD-STATE", "LD-ALREADY-STARTED")

    # CAR-HEMATOTOX is the baseline before lymphodepletion: later labs are refused.
    late = client.post(
        f"{base}/hematotox",
        json={
            "measured_on": str(dt.date.today() + dt.timedelta(days=1)),  # noqa: DTZ011
            "platelets_10e9_per_l": 200,
            "anc_per_ul": 3000,
            "hemoglobin_g_per_dl": 12,
            "crp_mg_per_dl": 0.5,
            "ferritin_ng_per_ml": 300,
        },
        headers=clinician,
    )
    assert late.status_code == 409 and late.json()["code"] == "HEMATOTOX-AFTER-LD"


def test_lymphodepletion_start_needs_the_episode_received(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    clinician = auth(session, team.clinician)
    episode = make_episode(session, team.net, state=EpisodeState.QC)
    base = f"/api/v1/clinical/episodes/{episode.id}"
    day0 = dt.date.today() + dt.timedelta(days=12)  # noqa: DTZ011
    planned = client.post(
        f"{base}/lymphodepletion-plans",
        json={"infusion_date": str(day0), "regimen": "tisa-cel-all", "crcl_ml_min": 100},
        headers=clinician,
    )
    assert planned.status_code == 201
    # Planned while in QC, but not started: the product is not released.
    start = client.post(f"{base}/lymphodepletion/start", json={}, headers=clinician)
    assert start.status_code == 409 and start.json()["code"] == "LD-NOT-RELEASED"
