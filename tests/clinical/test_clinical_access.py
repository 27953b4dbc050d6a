"""Every clinical endpoint: another center's episode is not found (404) and writes nothing; the
wrong role at the right center is forbidden (403) and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.schemas_after import ToxicityAssessmentIn
from cartflow.clinical.toxicity_service import record_assessment
from cartflow.models import AuditEvent, Role
from tests.clinical.factories import (
    Team,
    bag_read,
    infused_episode,
    make_team,
    timeline,
    wristband_read,
)
from tests.factories import PASSWORD, auth, make_user


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: dict[str, Any] | None
    wrong_role: Role  # a role at the episode's own center (or site) that may not do this


@pytest.fixture
def setting(session: Session, unique: str) -> tuple[Team, list[Route]]:
    team = make_team(session, unique)
    when = timeline(days_ago=5)
    episode, infusion = infused_episode(session, team, when)
    assessment = record_assessment(
        session,
        actor=Actor(team.clinician),
        episode_id=episode.id,
        data=ToxicityAssessmentIn.model_validate(
            {
                "assessed_at": when.at(1).isoformat(),
                "crs": {"temperature_c": 38.5, "hypotension": "none", "oxygen": "none"},
            }
        ),
    )
    day = str(when.at(1).date())
    at = when.at(1).isoformat()
    reads = {
        "bag_scan": bag_read(episode),
        "wristband_scan": wristband_read(episode),
        "password": PASSWORD,
    }
    crs = {"temperature_c": 38.5, "hypotension": "none", "oxygen": "none"}
    e = f"/api/v1/clinical/episodes/{episode.id}"
    check = f"/api/v1/clinical/bedside-checks/{infusion.bedside_check_id}"
    nurse, coordinator, planner = Role.APHERESIS_NURSE, Role.COORDINATOR, Role.PLANNER
    routes = [
        Route("POST", f"{e}/consents", {"signed_on": day, "form_version": "v1"}, nurse),
        Route("POST", f"{e}/eligibility-assessments", {"ecog": 0}, coordinator),
        Route(
            "POST",
            f"{e}/lymphodepletion-plans",
            {"infusion_date": day, "regimen": "axi-cel", "crcl_ml_min": 90},
            coordinator,
        ),
        Route("POST", f"{e}/lymphodepletion/start", {}, coordinator),
        Route(
            "POST",
            f"{e}/hematotox",
            {
                "measured_on": day,
                "platelets_10e9_per_l": 100,
                "anc_per_ul": 2000,
                "hemoglobin_g_per_dl": 11,
                "crp_mg_per_dl": 1,
                "ferritin_ng_per_ml": 500,
            },
            coordinator,
        ),
        Route("POST", f"{e}/bedside-checks", reads, coordinator),
        Route("POST", f"{check}/confirm", reads, coordinator),
        Route(
            "POST",
            f"{e}/infusion",
            {
                "bedside_check_id": str(infusion.bedside_check_id),
                "thaw_started_at": at,
                "thaw_completed_at": at,
                "infusion_started_at": at,
                "infusion_ended_at": at,
                "cells_infused_1e6": 1,
                "volume_ml": 1,
            },
            nurse,
        ),
        Route("POST", f"{e}/toxicity-assessments", {"assessed_at": at, "crs": crs}, nurse),
        Route(
            "POST",
            f"/api/v1/clinical/toxicity-assessments/{assessment.id}/corrections",
            {"assessed_at": at, "crs": crs, "reason": "typo"},
            nurse,
        ),
        Route(
            "POST",
            f"{e}/treatments",
            {"agent": "anakinra", "indication": "icans", "given_at": at, "dose_mg": 100},
            nurse,
        ),
        Route(
            "POST", f"{e}/blood-counts", {"counts": [{"sampled_on": day, "anc_per_ul": 1}]}, nurse
        ),
        Route(
            "POST",
            f"{e}/responses",
            {
                "framework": "b_all",
                "assessed_on": day,
                "marrow_blasts_pct": 1,
                "circulating_blasts": False,
                "extramedullary_disease": False,
                "anc_10e9_per_l": 1,
                "platelets_10e9_per_l": 100,
                "transfusion_independent": True,
            },
            nurse,
        ),
        Route(
            "POST",
            f"{e}/disease-events",
            {"kind": "progression", "occurred_on": day},
            nurse,
        ),
        Route("POST", f"{e}/death", {"died_on": day, "cause": "other"}, nurse),
        Route("POST", f"{e}/follow-up/day_7", {"completed_on": day}, nurse),
    ]
    for path in (
        "consents",
        "eligibility-assessments",
        "lymphodepletion-plan",
        "hematotox",
        "infusion",
        "toxicity-assessments",
        "toxicity-course",
        "treatments",
        "icaht",
        "responses",
        "follow-up",
    ):
        routes.append(Route("GET", f"{e}/{path}", None, planner))
    routes.append(Route("GET", check, None, planner))
    return team, routes


def _events(session: Session) -> int:
    return session.execute(select(func.count(AuditEvent.id))).scalar_one()


def test_another_centers_episode_is_not_found(
    client: TestClient, session: Session, setting: tuple[Team, list[Route]]
) -> None:
    team, routes = setting
    other = auth(session, team.other_center_clinician)
    before = _events(session)
    for route in routes:
        response = client.request(route.method, route.path, json=route.body, headers=other)
        assert response.status_code == 404, (route.method, route.path, response.text)
    assert _events(session) == before


def test_the_wrong_role_is_forbidden(
    client: TestClient, session: Session, setting: tuple[Team, list[Route]]
) -> None:
    team, routes = setting
    people = {
        Role.APHERESIS_NURSE: auth(session, team.nurse),
        Role.COORDINATOR: auth(session, team.coordinator),
        Role.PLANNER: auth(session, make_user(session, Role.PLANNER, site=team.net.site)),
    }
    before = _events(session)
    for route in routes:
        response = client.request(
            route.method, route.path, json=route.body, headers=people[route.wrong_role]
        )
        assert response.status_code == 403, (route.method, route.path, response.text)
    assert _events(session) == before
