"""ICAHT from blood counts, response, progression, death and follow-up through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import Episode
from tests.clinical.factories import Team, Timeline, infused_episode, make_team, timeline
from tests.factories import auth


@pytest.fixture
def day30(session: Session, unique: str) -> tuple[Team, Episode, Timeline]:
    """A B-ALL patient infused 30 days ago (the factory patient: 12 years, 40 kg)."""
    team = make_team(session, unique)
    when = timeline(days_ago=30)
    episode, _ = infused_episode(session, team, when)
    return team, episode, when


def test_icaht_from_the_count_series(
    client: TestClient, session: Session, day30: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = day30
    clinician = auth(session, team.clinician)
    day0 = when.day0.date()
    counts: list[dict[str, Any]] = []
    for day in range(21):
        # ANC 200/uL on days 0-9, then 1500; platelets 15 x10^9/L on days 0-2, then 120.
        counts.append(
            {
                "sampled_on": str(day0 + dt.timedelta(days=day)),
                "anc_per_ul": 200 if day <= 9 else 1500,
                "platelets_10e9_per_l": 15 if day <= 2 else 120,
            }
        )
    base = f"/api/v1/clinical/episodes/{episode.id}"
    recorded = client.post(f"{base}/blood-counts", json={"counts": counts}, headers=clinician)
    assert recorded.status_code == 201 and recorded.json() == {"recorded": 21}
    grades = client.get(f"{base}/icaht", headers=clinician).json()
    # 10 days with ANC <= 500/uL: early N-ICAHT grade 2 (7-13 days).
    assert grades["early_neutrophil"]["grade"] == 2
    # 3 days with platelets < 20: early T-ICAHT grade 3 (1-13 days).
    assert grades["early_platelet"]["grade"] == 3
    # Recovery: the first of three consecutive days at or above the threshold after the nadir.
    assert grades["anc_recovery"] == {"status": "recovered", "on": str(day0 + dt.timedelta(10))}
    assert grades["platelet_recovery"]["on"] == str(day0 + dt.timedelta(days=3))
    empty = client.post(
        f"{base}/blood-counts", json={"counts": [{"sampled_on": str(day0)}]}, headers=clinician
    )
    assert empty.status_code == 422 and empty.json()["field"] == "counts.0"


def test_response_must_fit_the_diagnosis(
    client: TestClient, session: Session, day30: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = day30
    clinician = auth(session, team.clinician)
    url = f"/api/v1/clinical/episodes/{episode.id}/responses"
    lugano = {
        "framework": "lugano_pet",
        "assessed_on": str(when.at(28).date()),
        "deauville": 2,
        "uptake_vs_baseline": "reduced",
        "new_fdg_avid_lesions": False,
    }
    wrong = client.post(url, json=lugano, headers=clinician)
    assert wrong.status_code == 422 and wrong.json()["field"] == "framework"
    cri = client.post(
        url,
        json={
            "framework": "b_all",
            "assessed_on": str(when.at(28).date()),
            "marrow_blasts_pct": 2,
            "circulating_blasts": False,
            "extramedullary_disease": False,
            "anc_10e9_per_l": 0.6,
            "platelets_10e9_per_l": 40,
            "transfusion_independent": False,
            "mrd_flow_pct": 0.05,
        },
        headers=clinician,
    ).json()
    # CR criteria without count recovery: CRi; 0.05% by flow is MRD-positive (>= 0.01%).
    assert cri["response"] == "complete_remission_incomplete_recovery"
    assert cri["mrd_negative"] is False
    early = client.post(
        url, json=lugano | {"assessed_on": str(when.at(-2).date())}, headers=clinician
    )
    assert early.status_code == 422


def test_relapse_death_and_the_follow_up_schedule(
    client: TestClient, session: Session, day30: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = day30
    clinician, coordinator = auth(session, team.clinician), auth(session, team.coordinator)
    base = f"/api/v1/clinical/episodes/{episode.id}"
    visits = client.get(f"{base}/follow-up", headers=coordinator).json()["visits"]
    status = {v["visit"]["key"]: v["status"] for v in visits}
    # Day 30 after infusion: day 7 and 14 windows have closed, day 28 (+/- 3) is open.
    assert (status["day_7"], status["day_14"], status["day_28"]) == ("overdue", "overdue", "due")
    assert status["year_15"] == "upcoming"  # gene-modified product: 15 years
    worklist = client.get("/api/v1/clinical/worklists/follow-up", headers=coordinator).json()
    mine = [(r["visit_key"], r["status"]) for r in worklist if r["episode_id"] == str(episode.id)]
    assert mine == [("day_7", "overdue"), ("day_14", "overdue"), ("day_28", "due")]
    other = auth(session, team.other_center_clinician)
    assert client.get("/api/v1/clinical/worklists/follow-up", headers=other).json() == []

    done = client.post(
        f"{base}/follow-up/day_7",
        json={"completed_on": str(when.at(7).date())},
        headers=coordinator,
    )
    assert done.status_code == 201
    twice = client.post(
        f"{base}/follow-up/day_7",
        json={"completed_on": str(when.at(8).date())},
        headers=coordinator,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "FU-VISIT-DONE"
    unknown = client.post(
        f"{base}/follow-up/day_9",
        json={"completed_on": str(when.at(9).date())},
        headers=coordinator,
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "visit_key"

    relapse = client.post(
        f"{base}/disease-events",
        json={"kind": "relapse", "occurred_on": str(when.at(20).date()), "cd19_negative": True},
        headers=clinician,
    )
    assert relapse.status_code == 201
    died = client.post(
        f"{base}/death",
        json={"died_on": str(when.at(25).date()), "cause": "infection"},
        headers=clinician,
    )
    assert died.status_code == 201 and died.json()["non_relapse_mortality"] is True
    again = client.post(
        f"{base}/death",
        json={"died_on": str(when.at(26).date()), "cause": "disease_progression_or_relapse"},
        headers=clinician,
    )
    assert again.status_code == 409 and again.json()["code"] == "DEATH-RECORDED"
    after = client.get(f"{base}/follow-up", headers=coordinator).json()
    status = {v["visit"]["key"]: v["status"] for v in after["visits"]}
    assert after["stopped_on"] == str(when.at(25).date())
    assert status["day_7"] == "done" and status["day_100"] == "not_expected"
    # Counts after the relapse are censored: ICAHT uses the series before day 20 only.
    icaht = client.get(f"{base}/icaht", headers=clinician).json()
    assert icaht["censored_on"] == str(when.at(20).date())
