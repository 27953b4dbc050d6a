"""CAR-HEMATOTOX and ICAHT through the API and the CLI, in English and in Russian: the corrected
boundaries and grade-4 rules reach the records, and the reasons are in the reader's language."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app
from cartflow.config import get_settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from tests.clinical.factories import infused_episode, make_team, received_episode, timeline
from tests.factories import PASSWORD, auth

RU = {"Accept-Language": "ru"}


def _labs(**changed: Any) -> dict[str, Any]:
    return {
        "measured_on": str(dt.date.today()),  # noqa: DTZ011 - the episode has no LD start yet
        "platelets_10e9_per_l": 250,
        "anc_per_ul": 3000,
        "hemoglobin_g_per_dl": 13,
        "crp_mg_per_dl": 0.5,
        "ferritin_ng_per_ml": 300,
        **changed,
    }


def test_hematotox_on_the_cutoffs_is_high_risk_and_bad_labs_are_refused_in_both_languages(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    episode = received_episode(session, team)
    clinician = auth(session, team.clinician)
    url = f"/api/v1/clinical/episodes/{episode.id}/hematotox"

    # ANC 1200/uL, Hb 9.0 g/dL and CRP 3.0 mg/dL each score a point (Rejeski group's code).
    on_lines = client.post(
        url,
        json=_labs(anc_per_ul=1200, hemoglobin_g_per_dl=9.0, crp_mg_per_dl=3.0),
        headers=clinician,
    )
    assert on_lines.status_code == 201, on_lines.text
    body = on_lines.json()
    assert (body["score"], body["risk"]) == (3, "high")
    assert body["points"] == {"platelets": 0, "anc": 1, "hemoglobin": 1, "crp": 1, "ferritin": 0}

    bad = _labs(platelets_10e9_per_l=-5)
    english = client.post(url, json=bad, headers=clinician)
    russian = client.post(url, json=bad, headers={**clinician, **RU})
    assert english.status_code == russian.status_code == 422
    assert english.json()["code"] == russian.json()["code"] == "INVALID-REQUEST"
    assert english.json()["field"] == russian.json()["field"] == "platelets_10e9_per_l"
    assert english.json()["message"] != russian.json()["message"]
    assert any("а" <= ch <= "я" for ch in russian.json()["message"].lower())
    listed = client.get(url, headers=clinician).json()
    assert [row["score"] for row in listed] == [3]  # the refusals wrote nothing


def test_icaht_reasons_follow_accept_language_and_death_before_recovery_is_grade_4(
    client: TestClient, session: Session, unique: str
) -> None:
    team = make_team(session, unique)
    when = timeline(days_ago=40)
    episode, _ = infused_episode(session, team, when)
    clinician = auth(session, team.clinician)
    base = f"/api/v1/clinical/episodes/{episode.id}"
    day0 = when.day0.date()
    # ANC 900 on day 0, 200/uL on days 1-15 (never recovered); platelets 40 x10^9/L on days 0-4.
    counts = [
        {
            "sampled_on": str(day0 + dt.timedelta(days=day)),
            "anc_per_ul": 900 if day == 0 else 200,
            "platelets_10e9_per_l": 40 if day <= 4 else 150,
        }
        for day in range(16)
    ]
    recorded = client.post(f"{base}/blood-counts", json={"counts": counts}, headers=clinician)
    assert recorded.status_code == 201, recorded.text

    # The series stops on day 15 with nothing on record: only the days count (15 -> grade 3).
    open_window = client.get(f"{base}/icaht", headers=clinician).json()
    assert open_window["early_neutrophil"]["grade"] == 3
    assert open_window["early_neutrophil"]["reason"] == "Grade 3: ANC ≤ 500/µL for 15 days"
    russian = client.get(f"{base}/icaht", headers={**clinician, **RU}).json()
    assert russian["early_neutrophil"]["grade"] == 3
    assert russian["early_neutrophil"]["reason"] == "Степень 3: АЧН ≤ 500/мкл в течение 15 дней"
    assert russian["early_platelet"]["reason"] == (
        "Степень 1: тромбоциты < 50 ×10⁹/л в течение 5 дней (1–6)"
    )

    # Death on day 16 before any recovery: "never recovering ANC > 500" is grade 4 (Liang's
    # patient #8, graded 3 by the longest-period method alone).
    died = client.post(
        f"{base}/death",
        json={"died_on": str(day0 + dt.timedelta(days=16)), "cause": "infection"},
        headers=clinician,
    )
    assert died.status_code == 201, died.text
    closed = client.get(f"{base}/icaht", headers={**clinician, **RU}).json()
    assert closed["censored_on"] == str(day0 + dt.timedelta(days=16))
    assert closed["early_neutrophil"]["grade"] == 4
    assert closed["early_neutrophil"]["reason"].startswith("Степень 4: АЧН так и не восстановилось")


def test_cli_counts_print_icaht_in_the_cli_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'icaht.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    when = timeline(days_ago=40)
    with Session(engine, expire_on_commit=False) as session:
        team = make_team(session, uuid.uuid4().hex[:8].upper())
        episode, _ = infused_episode(session, team, when)
        session.commit()
    engine.dispose()
    monkeypatch.setenv("CARTFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    day0 = when.day0.date()
    # ANC 50/uL on days 0-7 (<= 100 for 8 days: grade 3), then 2500.
    rows = [
        {"sampled_on": str(day0 + dt.timedelta(days=d)), "anc_per_ul": 50 if d < 8 else 2500}
        for d in range(12)
    ]
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"counts": rows}), encoding="utf-8")
    args = ["clinical", "counts", str(episode.id), "--file", str(counts)]
    args += ["--user", team.clinician.username, "--password-stdin"]
    try:
        monkeypatch.setenv("CARTFLOW_LANG", "ru")
        russian = CliRunner().invoke(app, args, input=PASSWORD + "\n")
        monkeypatch.setenv("CARTFLOW_LANG", "en")
        english = CliRunner().invoke(
            app, ["clinical", "icaht", *args[2:3], *args[5:]], input=PASSWORD + "\n"
        )
    finally:
        get_settings.cache_clear()
    assert russian.exit_code == 0, russian.output
    assert english.exit_code == 0, english.output
    ru, en = json.loads(russian.output), json.loads(english.output)
    assert ru["early_neutrophil"]["grade"] == en["early_neutrophil"]["grade"] == 3
    assert ru["early_neutrophil"]["reason"] == "Степень 3: АЧН ≤ 100/мкл в течение 8 дней (7–13)"
    assert en["early_neutrophil"]["reason"] == "Grade 3: ANC ≤ 100/µL for 8 days (7-13)"
