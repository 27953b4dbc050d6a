"""Scenarios at the bedside: nothing is infused unless two different people have scanned the right
bag and the right wristband and signed with their own passwords.

Each refusal is a hard stop: HTTP 409 (403 for a wrong password) naming the rule, and nothing is
written: no check, no signature, no audit event, the episode still in lymphodepletion.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartflow.db.base import utcnow
from cartflow.models import AuditEvent, ElectronicSignature, Episode, EpisodeState
from cartflow.models.clinical_infusion import BedsideCheck, Infusion
from tests.clinical.factories import (
    Team,
    bag_read,
    in_lymphodepletion,
    make_team,
    timeline,
    wristband_read,
)
from tests.factories import PASSWORD, auth, make_episode


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.execute(select(func.count(BedsideCheck.id))).scalar_one(),
        session.execute(select(func.count(ElectronicSignature.id))).scalar_one(),
        session.execute(select(func.count(AuditEvent.id))).scalar_one(),
    )


def _reads(episode: Episode, **overrides: str) -> dict[str, str]:
    """What a scanner person sends: both reads and their own password."""
    return {
        "bag_scan": bag_read(episode),
        "wristband_scan": wristband_read(episode),
        "password": PASSWORD,
    } | overrides


@pytest.fixture
def ready(session: Session, unique: str) -> tuple[Team, Episode]:
    team = make_team(session, unique)
    return team, in_lymphodepletion(session, team, timeline(days_ago=0))


def test_a_wrong_bag_is_a_hard_stop(
    client: TestClient, session: Session, ready: tuple[Team, Episode]
) -> None:
    team, episode = ready
    # Another patient's product bag, brought to this bedside by mistake.
    other = make_episode(session, team.net, state=EpisodeState.RECEIVED)
    url = f"/api/v1/clinical/episodes/{episode.id}/bedside-checks"
    before = _counts(session)
    response = client.post(
        url,
        json=_reads(episode, bag_scan=bag_read(other)),
        headers=auth(session, team.nurse),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "BEDSIDE-BAG-MISMATCH"
    assert "SCAN-WRONG-EPISODE" in response.json()["message"]
    assert _counts(session) == before
    session.refresh(episode)
    assert episode.state is EpisodeState.LYMPHODEPLETION

    # The same mistake at the second person's scan stops there too; the check stays unverified
    # and no infusion can be recorded against it.
    first = client.post(url, json=_reads(episode), headers=auth(session, team.nurse))
    assert first.status_code == 201
    second = client.post(
        f"/api/v1/clinical/bedside-checks/{first.json()['id']}/confirm",
        json=_reads(episode, bag_scan=bag_read(other)),
        headers=auth(session, team.clinician),
    )
    assert second.status_code == 409 and second.json()["code"] == "BEDSIDE-BAG-MISMATCH"
    check = session.get(BedsideCheck, uuid.UUID(first.json()["id"]))
    assert check is not None and check.second_scanner_id is None
    now = utcnow()
    infusion = client.post(
        f"/api/v1/clinical/episodes/{episode.id}/infusion",
        json={
            "bedside_check_id": first.json()["id"],
            "thaw_started_at": (now - dt.timedelta(minutes=3)).isoformat(),
            "thaw_completed_at": (now - dt.timedelta(minutes=2)).isoformat(),
            "infusion_started_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "infusion_ended_at": now.isoformat(),
            "cells_infused_1e6": 100,
            "volume_ml": 40,
        },
        headers=auth(session, team.clinician),
    )
    assert infusion.status_code == 409 and infusion.json()["code"] == "INF-CHECK-NOT-VERIFIED"
    assert session.execute(select(Infusion.id)).first() is None


def test_a_wrong_wristband_or_an_expired_product_is_a_hard_stop(
    client: TestClient, session: Session, ready: tuple[Team, Episode]
) -> None:
    team, episode = ready
    other = make_episode(session, team.net, state=EpisodeState.RECEIVED)
    url = f"/api/v1/clinical/episodes/{episode.id}/bedside-checks"
    nurse = auth(session, team.nurse)
    before = _counts(session)
    wrong_band = client.post(
        url, json=_reads(episode, wristband_scan=wristband_read(other)), headers=nurse
    )
    assert wrong_band.status_code == 409
    assert wrong_band.json()["code"] == "BEDSIDE-WRISTBAND-MISMATCH"
    # Expired yesterday: ISBT 128 expiry date and time (Data Structure 005, cyyjjjhhmm).
    yesterday = utcnow() - dt.timedelta(days=1)
    expiry = f"&>0{yesterday:%y}{yesterday.timetuple().tm_yday:03d}0000"
    expired = client.post(
        url, json=_reads(episode, bag_scan=bag_read(episode) + expiry), headers=nurse
    )
    assert expired.status_code == 409 and "SCAN-EXPIRED" in expired.json()["message"]
    assert _counts(session) == before


def test_the_same_person_cannot_be_both_scanners(
    client: TestClient, session: Session, ready: tuple[Team, Episode]
) -> None:
    team, episode = ready
    nurse = auth(session, team.nurse)
    first = client.post(
        f"/api/v1/clinical/episodes/{episode.id}/bedside-checks",
        json=_reads(episode),
        headers=nurse,
    )
    before = _counts(session)
    again = client.post(
        f"/api/v1/clinical/bedside-checks/{first.json()['id']}/confirm",
        json=_reads(episode),
        headers=auth(session, team.nurse),  # a second session of the same person
    )
    assert again.status_code == 409 and again.json()["code"] == "BEDSIDE-SAME-PERSON"
    assert _counts(session) == before
    # The database holds the rule too, whatever writes to it.
    check = session.get(BedsideCheck, uuid.UUID(first.json()["id"]))
    assert check is not None
    with pytest.raises(IntegrityError), session.begin_nested():
        check.second_scanner_id = check.first_scanner_id
        check.second_scanned_at = utcnow()
        check.second_bag_scan = check.first_bag_scan
        check.second_wristband_scan = check.first_wristband_scan
        session.flush()


def test_a_wrong_password_at_signing_writes_nothing(
    client: TestClient, session: Session, ready: tuple[Team, Episode]
) -> None:
    team, episode = ready
    url = f"/api/v1/clinical/episodes/{episode.id}/bedside-checks"
    before = _counts(session)
    refused = client.post(
        url, json=_reads(episode, password="not-my-password"), headers=auth(session, team.nurse)
    )
    assert refused.status_code == 403 and refused.json()["code"] == "SIGNATURE-REFUSED"
    assert _counts(session) == before

    first = client.post(url, json=_reads(episode), headers=auth(session, team.nurse))
    before = _counts(session)
    confirm = client.post(
        f"/api/v1/clinical/bedside-checks/{first.json()['id']}/confirm",
        json=_reads(episode, password="not-my-password"),
        headers=auth(session, team.clinician),
    )
    assert confirm.status_code == 403
    assert _counts(session) == before
    shown = client.get(
        f"/api/v1/clinical/bedside-checks/{first.json()['id']}",
        headers=auth(session, team.clinician),
    ).json()
    assert shown["status"] == "awaiting_second" and len(shown["signatures"]) == 1


def test_the_infusion_is_recorded_only_through_the_bedside_check(
    client: TestClient, session: Session, ready: tuple[Team, Episode]
) -> None:
    team, episode = ready
    response = client.post(
        f"/api/v1/episodes/{episode.id}/transitions",
        json={"transition": "infuse"},
        headers=auth(session, team.clinician),
    )
    assert response.status_code == 409 and response.json()["code"] == "STATE-002"


def test_outside_the_post_thaw_window_needs_a_deviation_reason(
    client: TestClient, session: Session, ready: tuple[Team, Episode]
) -> None:
    team, episode = ready
    nurse, clinician = auth(session, team.nurse), auth(session, team.clinician)
    now = utcnow()
    first = client.post(
        f"/api/v1/clinical/episodes/{episode.id}/bedside-checks",
        json=_reads(episode) | {"scanned_at": (now - dt.timedelta(minutes=70)).isoformat()},
        headers=nurse,
    ).json()
    client.post(
        f"/api/v1/clinical/bedside-checks/{first['id']}/confirm",
        json=_reads(episode) | {"scanned_at": (now - dt.timedelta(minutes=65)).isoformat()},
        headers=clinician,
    )
    # Thawed 50 minutes before the end of the infusion; the product allows 30 minutes.
    body = {
        "bedside_check_id": first["id"],
        "thaw_started_at": (now - dt.timedelta(minutes=60)).isoformat(),
        "thaw_completed_at": (now - dt.timedelta(minutes=55)).isoformat(),
        "infusion_started_at": (now - dt.timedelta(minutes=20)).isoformat(),
        "infusion_ended_at": (now - dt.timedelta(minutes=5)).isoformat(),
        "cells_infused_1e6": 100,
        "volume_ml": 40,
    }
    url = f"/api/v1/clinical/episodes/{episode.id}/infusion"
    refused = client.post(url, json=body, headers=clinician)
    assert refused.status_code == 409 and refused.json()["code"] == "INF-THAW-WINDOW"
    flagged = client.post(
        url,
        json=body | {"deviation_reason": "line occlusion, flushed and resumed"},
        headers=clinician,
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["thaw_window_exceeded"] is True
    assert flagged.json()["thaw_to_end_minutes"] == 50.0
