"""Scenario: the whole clinical course of one synthetic patient, through the API.

A 14-year-old with relapsed B-ALL is referred for a CD19 CAR-T product. The coordinator records the
family's consent; the clinician assesses eligibility against the product's paediatric protocol; the
product is made, released and received (other domains, taken on their behalf). Before
lymphodepletion the clinician records CAR-HEMATOTOX and a Flu/Cy plan, then starts it. On infusion
day a nurse and the clinician each scan the bag and the wristband and sign; the infusion is
recorded. CRS rises to grade 3 on day 2, is treated with tocilizumab and resolves; a grade-2 ICANS
follows and resolves. At day 28 the marrow is in MRD-negative complete remission, and the early
follow-up visits are done.

Expected values come from the sources: the CRS/ICANS grades from Lee 2019 (clinical.md 1.8), the
CAR-HEMATOTOX score from clinical.md 1.6's worked example, the doses from Mosteller's formula and
the tisagenlecleucel ALL regimen, the tocilizumab dose from the label (8 mg/kg from 30 kg).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.audit.service import verify_audit_trail
from cartflow.models import EpisodeState, Role
from tests.clinical.factories import (
    backdate,
    bag_read,
    make_team,
    timeline,
    walk_to_received,
    wristband_read,
)
from tests.factories import PASSWORD, auth, make_episode, make_patient, make_user


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_one_patient_from_referral_to_day_28(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    patient = make_patient(session, team.net.center_a, age_years=14)
    episode = make_episode(session, team.net, patient=patient)
    base = f"/api/v1/clinical/episodes/{episode.id}"
    clinician = auth(session, team.clinician)
    nurse = auth(session, team.nurse)
    coordinator = auth(session, team.coordinator)
    admin = auth(session, make_user(session, Role.ADMIN))
    when = timeline(days_ago=30)

    # The admin configures the product's paediatric protocol (ELIANA: Lansky >= 50).
    protocol = client.put(
        f"/api/v1/clinical/products/{team.net.product.code}/protocol",
        json={
            "min_karnofsky_lansky": 50,
            "labs": {"creatinine_clearance_ml_min": {"min": 60}, "spo2_room_air_pct": {"min": 92}},
            "ld_regimen_code": "tisa-cel-all",
            "source": "ELIANA eligibility (Haematologica 2020;105:297, Table 1)",
        },
        headers=admin,
    )
    assert protocol.status_code == 200, protocol.text
    assert protocol.json()["version"] == 1

    # Without consent the assessment is kept but fails, and the episode stays referred.
    labs = {"creatinine_clearance_ml_min": 110, "spo2_room_air_pct": 98}
    early = client.post(
        f"{base}/eligibility-assessments",
        json={"karnofsky_lansky": 80, "labs": labs},
        headers=clinician,
    )
    assert early.status_code == 201, early.text
    assert early.json()["eligible"] is False
    assert [f["code"] for f in early.json()["failures"]] == ["ELIG-CONSENT"]
    assert early.json()["episode_state"] == "referred"

    consent = client.post(
        f"{base}/consents",
        json={
            "signed_on": str(episode.referred_on),
            "form_version": "ped-v3",
            "signed_by": "parent",
        },
        headers=coordinator,
    )
    assert consent.status_code == 201, consent.text
    eligible = client.post(
        f"{base}/eligibility-assessments",
        json={"karnofsky_lansky": 80, "labs": labs},
        headers=clinician,
    )
    assert eligible.json()["eligible"] is True and eligible.json()["episode_state"] == "eligible"

    # Manufacturing, release, shipping and receipt belong to other domains.
    session.refresh(episode)
    walk_to_received(session, team, episode)
    backdate(session, episode, days=40)

    # CAR-HEMATOTOX before lymphodepletion: clinical.md 1.6 worked example, 2+1+1+0+1 = 5 (high).
    hematotox = client.post(
        f"{base}/hematotox",
        json={
            "measured_on": str(when.at(-7).date()),
            "platelets_10e9_per_l": 60,
            "anc_per_ul": 1000,
            "hemoglobin_g_per_dl": 8.5,
            "crp_mg_per_dl": 1.0,
            "ferritin_ng_per_ml": 700,
        },
        headers=clinician,
    )
    assert hematotox.json()["score"] == 5 and hematotox.json()["risk"] == "high"

    # Flu 30 mg/m2 x4 and Cy 500 mg/m2 x2 (tisa-cel ALL) by Mosteller BSA, the protocol's default.
    plan = client.post(
        f"{base}/lymphodepletion-plans",
        json={"infusion_date": str(when.day0.date()), "crcl_ml_min": 110},
        headers=clinician,
    ).json()
    bsa = math.sqrt(patient.height_cm * patient.weight_kg / 3600)
    assert plan["bsa_m2"] == round(bsa, 3) and plan["reduced_renal_function"] is False
    flu = [d for d in plan["doses"] if d["drug"] == "fludarabine"]
    cy = [d for d in plan["doses"] if d["drug"] == "cyclophosphamide"]
    assert [d["study_day"] for d in flu] == [-6, -5, -4, -3]
    assert [d["study_day"] for d in cy] == [-6, -5]
    assert {d["dose_mg"] for d in flu} == {round(30 * bsa, 1)}
    assert {d["dose_mg"] for d in cy} == {round(500 * bsa, 1)}
    started = client.post(
        f"{base}/lymphodepletion/start",
        json={"started_at": _iso(when.at(-6))},
        headers=clinician,
    )
    assert started.status_code == 200, started.text

    # Infusion day: two people, each scanning bag and wristband, each signing.
    reads = {"bag_scan": bag_read(episode), "wristband_scan": wristband_read(episode)}
    first = client.post(
        f"{base}/bedside-checks",
        json=reads | {"password": PASSWORD, "scanned_at": _iso(when.first_scan)},
        headers=nurse,
    )
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "awaiting_second"
    check_id = first.json()["id"]
    second = client.post(
        f"/api/v1/clinical/bedside-checks/{check_id}/confirm",
        json=reads | {"password": PASSWORD, "scanned_at": _iso(when.second_scan)},
        headers=clinician,
    )
    assert second.json()["status"] == "verified"
    signatures = second.json()["signatures"]
    assert [s["meaning"] for s in signatures] == ["Identity verified at bedside"] * 2
    assert all(s["valid"] for s in signatures)
    assert {s["signer_username"] for s in signatures} == {
        team.nurse.username,
        team.clinician.username,
    }
    infusion = client.post(
        f"{base}/infusion",
        json={
            "bedside_check_id": check_id,
            "thaw_started_at": _iso(when.thaw_start),
            "thaw_completed_at": _iso(when.thaw_end),
            "infusion_started_at": _iso(when.day0),
            "infusion_ended_at": _iso(when.infusion_end),
            "cells_infused_1e6": 100.0,
            "volume_ml": 40.0,
        },
        headers=clinician,
    )
    assert infusion.status_code == 201, infusion.text
    assert infusion.json()["thaw_window_exceeded"] is False
    assert client.get(f"/api/v1/episodes/{episode.id}", headers=clinician).json()["state"] == (
        EpisodeState.INFUSED.value
    )

    def assess(days: float, crs: dict[str, Any] | None, icans: dict[str, Any] | None) -> Any:
        body = {"assessed_at": _iso(when.at(days)), "crs": crs, "icans": icans}
        response = client.post(f"{base}/toxicity-assessments", json=body, headers=clinician)
        assert response.status_code == 201, response.text
        return response.json()

    alert = {"ice_score": 10, "consciousness": "alert", "seizure": "none", "cerebral_edema": "none"}
    day1 = assess(1, {"temperature_c": 38.6, "hypotension": "none", "oxygen": "none"}, alert)
    assert (day1["crs_grade"], day1["icans_grade"]) == (1, 0)
    # clinical.md 1.8 C1, the paper's example: 39.5 C, one vasopressor, low-flow oxygen = grade 3.
    day2 = assess(
        2,
        {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"},
        alert,
    )
    assert day2["crs_grade"] == 3 and "one vasopressor" in day2["crs_reason"]
    worklist = client.get("/api/v1/clinical/worklists/toxicity", headers=clinician).json()
    assert [row["episode_id"] for row in worklist] == [str(episode.id)]

    # Tocilizumab 8 mg/kg from 30 kg: 40 kg -> 320 mg.
    toci = client.post(
        f"{base}/treatments",
        json={
            "agent": "tocilizumab",
            "indication": "crs",
            "given_at": _iso(when.at(2, 1)),
            "dose_mg": 320,
        },
        headers=clinician,
    )
    assert toci.status_code == 201 and toci.json()["label_dose_mg"] == 320
    # Afebrile after tocilizumab, normotensive, room air: resolved (grade 0).
    day3 = assess(3, {"temperature_c": 37.0, "hypotension": "none", "oxygen": "none"}, alert)
    assert day3["crs_grade"] == 0 and day3["crs_input"]["anticytokine_given"] is True
    # clinical.md 1.8 I5: ICE 7 and awakens to voice only = ICANS grade 2.
    voice = {"ice_score": 7, "consciousness": "awakens_to_voice"}
    day4 = assess(4, None, {**voice, "seizure": "none", "cerebral_edema": "none"})
    assert day4["icans_grade"] == 2
    assess(5, {"temperature_c": 36.8, "hypotension": "none", "oxygen": "none"}, alert)

    course = client.get(f"{base}/toxicity-course", headers=clinician).json()
    assert (course["crs"]["max_grade"], course["crs"]["onset_day"]) == (3, 1)
    assert (course["crs"]["duration_days"], course["crs"]["ongoing"]) == (2, False)
    assert (course["icans"]["max_grade"], course["icans"]["onset_day"]) == (2, 4)
    assert course["icans"]["duration_days"] == 1
    assert course["treatments"] == {"tocilizumab": 1}
    assert client.get("/api/v1/clinical/worklists/toxicity", headers=clinician).json() == []

    # Day 28 marrow: MRD-negative complete remission (flow < 0.01%).
    response = client.post(
        f"{base}/responses",
        json={
            "framework": "b_all",
            "assessed_on": str(when.at(28).date()),
            "marrow_blasts_pct": 1.0,
            "circulating_blasts": False,
            "extramedullary_disease": False,
            "anc_10e9_per_l": 1.6,
            "platelets_10e9_per_l": 130,
            "transfusion_independent": True,
            "mrd_flow_pct": 0.004,
        },
        headers=clinician,
    ).json()
    assert response["response"] == "complete_remission" and response["mrd_negative"] is True
    assert response["day_after_infusion"] == 28

    for key, day in (("day_7", 7), ("day_14", 14), ("day_28", 28)):
        done = client.post(
            f"{base}/follow-up/{key}",
            json={"completed_on": str(when.at(day).date())},
            headers=coordinator,
        )
        assert done.status_code == 201, done.text
    visits = client.get(f"{base}/follow-up", headers=clinician).json()["visits"]
    status = {v["visit"]["key"]: v["status"] for v in visits}
    assert status["day_7"] == status["day_14"] == status["day_28"] == "done"
    assert status["day_100"] == "upcoming"
    assert verify_audit_trail(session).ok
