"""CRS/ICANS assessments, corrections, treatments and the grade >= 2 worklist through the API.

Expected grades are the worked examples of clinical.md 1.8 (Lee 2019 and its tables).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import Diagnosis, Episode
from tests.clinical.factories import Team, Timeline, infused_episode, make_team, timeline
from tests.factories import auth, make_patient

ROOM_AIR = {"hypotension": "none", "oxygen": "none"}
ALERT = {"consciousness": "alert", "seizure": "none", "cerebral_edema": "none"}


@pytest.fixture
def adult(session: Session, unique: str) -> tuple[Team, Episode, Timeline]:
    team = make_team(session, unique)
    when = timeline(days_ago=10)
    patient = make_patient(session, team.net.center_a, diagnosis=Diagnosis.DLBCL, age_years=45)
    episode, _ = infused_episode(session, team, when, patient=patient)
    return team, episode, when


def _assess(
    client: TestClient,
    headers: dict[str, str],
    episode: Episode,
    at: Any,
    *,
    crs: dict[str, Any] | None = None,
    icans: dict[str, Any] | None = None,
    vitals: dict[str, Any] | None = None,
) -> Any:
    body: dict[str, Any] = {"assessed_at": at.isoformat(), "crs": crs, "icans": icans}
    if vitals is not None:
        body["vitals"] = vitals
    return client.post(
        f"/api/v1/clinical/episodes/{episode.id}/toxicity-assessments", json=body, headers=headers
    )


CRS_EXAMPLES: list[tuple[dict[str, Any], int]] = [
    ({"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}, 3),  # C1
    ({"temperature_c": 38.2, "hypotension": "none", "oxygen": "low_flow"}, 2),  # C3
    ({"temperature_c": 38.2, "hypotension": "none", "oxygen": "high_flow"}, 3),  # C4
    ({"temperature_c": 38.6, **ROOM_AIR}, 1),  # C6
    ({"temperature_c": 39.0, "hypotension": "none", "oxygen": "positive_pressure"}, 4),  # C7
    (  # C8: hypotension from septic shock is excluded; fever alone remains
        {
            "temperature_c": 38.9,
            "hypotension": "multiple_vasopressors",
            "hypotension_other_cause": True,
            "oxygen": "none",
        },
        1,
    ),
]
ICANS_EXAMPLES: list[tuple[dict[str, Any], int]] = [
    ({"ice_score": 3, "seizure": "resolved_rapidly", "consciousness": "alert"}, 3),  # I1
    ({"ice_score": 0, "consciousness": "alert", "seizure": "none"}, 3),  # I2 awake, aphasic
    ({"ice_score": 0, "unable_to_assess": True, "consciousness": "unarousable"}, 4),  # I3
    ({"ice_score": 8, "consciousness": "awakens_spontaneously"}, 1),  # I4
    ({"ice_score": 9, "seizure": "prolonged_or_repetitive"}, 4),  # I6
    ({"ice_score": 10, "cerebral_edema": "focal"}, 3),  # I7
]


def test_the_worked_examples_are_stored_with_their_rule(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    for crs, grade in CRS_EXAMPLES:
        response = _assess(client, clinician, episode, when.at(1), crs=crs)
        assert response.status_code == 201, response.text
        assert response.json()["crs_grade"] == grade, crs
        assert response.json()["crs_reason"].startswith(f"grade {grade}"), crs
        assert response.json()["grading_source"].startswith("ASTCT")
    for icans, grade in ICANS_EXAMPLES:
        response = _assess(client, clinician, episode, when.at(1), icans={**ALERT, **icans})
        assert response.status_code == 201, response.text
        assert response.json()["icans_grade"] == grade, icans


def test_children_under_12_are_graded_by_capd(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    when = timeline(days_ago=10)
    child = make_patient(session, team.net.center_a, age_years=7)
    episode, _ = infused_episode(session, team, when, patient=child)
    clinician = auth(session, team.clinician)
    cases = [  # clinical.md 1.8 P1-P3
        ({"capd_score": 10, "consciousness": "awakens_spontaneously"}, 3),
        ({"capd_score": 6, "consciousness": "awakens_to_voice"}, 2),
        ({"capd_score": 4, "consciousness": "awakens_spontaneously"}, 1),
    ]
    for icans, grade in cases:
        response = _assess(client, clinician, episode, when.at(1), icans={**ALERT, **icans})
        assert response.json()["icans_grade"] == grade
    ice = _assess(client, clinician, episode, when.at(1), icans={**ALERT, "ice_score": 9})
    assert ice.status_code == 422 and ice.json()["field"] == "icans.ice_score"


def test_anticytokine_therapy_on_record_waives_fever(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    toci = client.post(
        f"/api/v1/clinical/episodes/{episode.id}/treatments",
        json={
            "agent": "tocilizumab",
            "indication": "crs",
            "given_at": when.at(1).isoformat(),
            "dose_mg": 320,
        },
        headers=clinician,
    )
    assert toci.status_code == 201, toci.text
    # C5: 37.1 C after tocilizumab for CRS, norepinephrine + epinephrine = grade 4.
    c5 = _assess(
        client,
        clinician,
        episode,
        when.at(1, 6),
        crs={"temperature_c": 37.1, "hypotension": "multiple_vasopressors", "oxygen": "none"},
        vitals={"vasopressors": ["norepinephrine", "epinephrine"]},
    )
    assert c5.json()["crs_grade"] == 4 and c5.json()["crs_input"]["anticytokine_given"] is True
    # Before the dose was given, the same afebrile findings were not CRS.
    before = _assess(
        client,
        clinician,
        episode,
        when.at(0, 12),
        crs={"temperature_c": 37.1, "hypotension": "multiple_vasopressors", "oxygen": "none"},
    )
    assert before.json()["crs_grade"] == 0


def test_vitals_must_agree_with_the_categories(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    # C2: norepinephrine + vasopressin is one vasopressor, not multiple.
    c2 = {"temperature_c": 38.4, "hypotension": "multiple_vasopressors", "oxygen": "none"}
    pressors = {"vasopressors": ["norepinephrine", "vasopressin"]}
    refused = _assess(client, clinician, episode, when.at(1), crs=c2, vitals=pressors)
    assert refused.status_code == 422 and refused.json()["field"] == "crs.hypotension"
    c2["hypotension"] = "one_vasopressor"
    graded = _assess(client, clinician, episode, when.at(1), crs=c2, vitals=pressors)
    assert graded.json()["crs_grade"] == 3
    high = {"temperature_c": 38.2, "hypotension": "none", "oxygen": "low_flow"}
    litres = _assess(client, clinician, episode, when.at(1), crs=high, vitals={"oxygen_l_min": 8})
    assert litres.status_code == 422 and litres.json()["field"] == "vitals.oxygen_l_min"
    nothing = _assess(client, clinician, episode, when.at(1))
    assert nothing.status_code == 422
    before_infusion = _assess(client, clinician, episode, when.at(-1), crs=high)
    assert before_infusion.status_code == 422 and before_infusion.json()["field"] == "assessed_at"


def test_corrections_supersede(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    wrong = _assess(
        client, clinician, episode, when.at(2), crs={"temperature_c": 38.2, **ROOM_AIR}
    ).json()
    url = f"/api/v1/clinical/toxicity-assessments/{wrong['id']}/corrections"
    body = {
        "assessed_at": when.at(2).isoformat(),
        "crs": {"temperature_c": 38.2, "hypotension": "none", "oxygen": "low_flow"},
        "reason": "oxygen was running at 3 L/min",
    }
    corrected = client.post(url, json=body, headers=clinician)
    assert corrected.status_code == 201
    assert corrected.json()["supersedes_id"] == wrong["id"] and corrected.json()["crs_grade"] == 2
    again = client.post(url, json=body, headers=clinician)
    assert again.status_code == 409 and again.json()["code"] == "TOX-ALREADY-CORRECTED"
    listed = f"/api/v1/clinical/episodes/{episode.id}/toxicity-assessments"
    current = client.get(listed, headers=clinician).json()
    everything = client.get(f"{listed}?include_superseded=true", headers=clinician).json()
    assert [a["id"] for a in current] == [corrected.json()["id"]]
    assert len(everything) == 2


def test_tocilizumab_limits(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    url = f"/api/v1/clinical/episodes/{episode.id}/treatments"

    def give(hours: float, dose: float = 320, **extra: str) -> Any:
        body = {
            "agent": "tocilizumab",
            "indication": "crs",
            "given_at": when.at(1, hours).isoformat(),
            "dose_mg": dose,
        }
        return client.post(url, json=body | extra, headers=clinician)

    overdose = give(0, dose=400)  # 40 kg x 8 mg/kg = 320 mg
    assert overdose.status_code == 409 and overdose.json()["code"] == "TOCI-DOSE"
    for hours in (0, 12, 24, 36):
        assert give(hours).status_code == 201
    fifth = give(48)
    assert fifth.status_code == 409 and fifth.json()["code"] == "TOCI-TOTAL"
    forced = give(48, override_reason="refractory CRS, haematology consultant decision")
    assert forced.status_code == 201
    assert [f["code"] for f in forced.json()["rule_flags"]] == ["TOCI-TOTAL"]
    steroid = client.post(
        url,
        json={
            "agent": "dexamethasone",
            "indication": "icans",
            "given_at": when.at(2).isoformat(),
            "dose_mg": 10,
        },
        headers=clinician,
    )
    assert steroid.status_code == 201 and steroid.json()["label_dose_mg"] is None


def test_grade_2_worklist_is_center_scoped(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    url = "/api/v1/clinical/worklists/toxicity"
    fever = {"temperature_c": 38.6, **ROOM_AIR}
    _assess(client, clinician, episode, when.at(1), crs=fever)
    assert client.get(url, headers=clinician).json() == []
    _assess(client, clinician, episode, when.at(2), icans={**ALERT, "ice_score": 5})
    rows = client.get(url, headers=clinician).json()
    assert [(r["episode_id"], r["icans_grade"]) for r in rows] == [(str(episode.id), 2)]
    assert rows[0]["center_code"] == team.net.center_a.code
    assert client.get(url, headers=auth(session, team.other_center_clinician)).json() == []
    other = client.get(f"{url}?center={team.net.center_b.code}", headers=clinician)
    assert other.status_code == 404
    assert client.get(url, headers=auth(session, team.coordinator)).status_code == 403
    _assess(client, clinician, episode, when.at(3), icans={**ALERT, "ice_score": 10})
    assert client.get(url, headers=clinician).json() == []
