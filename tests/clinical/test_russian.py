"""Clinical care in Russian and English (issue #12): the same refusal code in both languages, the
ASTCT wording of the glossary on the toxicity page, CLI refusals in the user's language, and the
`cartflow grade` contract unchanged whatever the language.

The Russian expected here is the glossary's and clinical.po's wording, written out so that a
changed translation is a deliberate edit of both.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app as cli_app
from cartflow.clinical.crs import explain_crs, grade_crs
from cartflow.clinical.grading_schemas import (
    CerebralEdema,
    Consciousness,
    CrsAssessment,
    Hypotension,
    IcansAssessment,
    OxygenSupport,
    Seizure,
)
from cartflow.clinical.icans import explain_icans, grade_icans
from cartflow.i18n import set_locale
from cartflow.i18n.catalog import GLOSSARY
from cartflow.models import Diagnosis, Episode
from tests.clinical.factories import Team, Timeline, infused_episode, make_team, timeline
from tests.factories import auth, make_patient
from tests.web.helpers import login, post_form

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en"}
C1 = {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """The CLI sets its language for the rest of the process; put English back for other tests."""
    yield
    set_locale("en")


@pytest.fixture
def adult(session: Session, unique: str) -> tuple[Team, Episode, Timeline]:
    team = make_team(session, unique)
    when = timeline(days_ago=10)
    patient = make_patient(session, team.net.center_a, diagnosis=Diagnosis.DLBCL, age_years=45)
    episode, _ = infused_episode(session, team, when, patient=patient)
    return team, episode, when


def _glossary() -> dict[str, str]:
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        return {row["english"]: row["russian"] for row in csv.DictReader(handle)}


def _assess(
    client: TestClient, headers: dict[str, str], episode: Episode, body: dict[str, Any]
) -> Any:
    url = f"/api/v1/clinical/episodes/{episode.id}/toxicity-assessments"
    return client.post(url, json=body, headers=headers)


def test_a_clinical_rule_refusal_has_one_code_in_both_languages(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    fever = {"temperature_c": 38.2, "hypotension": "none", "oxygen": "none"}
    body = {"assessed_at": when.at(2).isoformat(), "crs": fever}
    first = _assess(client, clinician, episode, body).json()
    url = f"/api/v1/clinical/toxicity-assessments/{first['id']}/corrections"
    correction = {**body, "reason": "oxygen was running"}
    assert client.post(url, json=correction, headers=clinician).status_code == 201
    english = client.post(url, json=correction, headers=clinician | EN)
    russian = client.post(url, json=correction, headers=clinician | RU)
    assert english.status_code == russian.status_code == 409
    assert english.json()["code"] == russian.json()["code"] == "TOX-ALREADY-CORRECTED"
    assert english.json()["message"] == (
        "TOX-ALREADY-CORRECTED: correct the newest version of this assessment"
    )
    assert russian.json()["message"] == (
        "TOX-ALREADY-CORRECTED: исправлять следует последнюю версию этой оценки"
    )
    assert russian.headers["content-language"] == "ru"


def test_a_refusal_with_values_is_worded_and_formatted_for_its_reader(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    low = {"temperature_c": 38.2, "hypotension": "none", "oxygen": "low_flow"}
    body = {"assessed_at": when.at(1).isoformat(), "crs": low, "vitals": {"oxygen_l_min": 7.5}}
    english = _assess(client, clinician | EN, episode, body)
    russian = _assess(client, clinician | RU, episode, body)
    assert english.status_code == russian.status_code == 422
    assert english.json()["code"] == russian.json()["code"]
    assert english.json()["field"] == russian.json()["field"] == "vitals.oxygen_l_min"
    assert english.json()["message"] == "7.5 L/min is high-flow (> 6 L/min), not low_flow"
    # Russian writes the decimal comma.
    assert russian.json()["message"] == (
        "7,5 л/мин — высокопоточная оксигенотерапия (> 6 л/мин), а не low_flow"
    )
    # Before the infusion: the infusion time in the center's zone, the zone named.
    early = {"assessed_at": when.at(-1).isoformat(), "crs": low}
    english = _assess(client, clinician | EN, episode, early).json()["message"]
    russian = _assess(client, clinician | RU, episode, early).json()["message"]
    assert english.startswith("assessed_at is before the infusion (") and english.endswith("MSK)")
    assert russian.startswith("assessed_at раньше инфузии (") and russian.endswith("МСК)")


def test_the_grading_contract_keeps_english_reasons_in_any_language(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, _episode, _when = adult
    headers = auth(session, team.clinician)
    english = client.post("/api/v1/grading/crs", json=C1, headers=headers | EN)
    russian = client.post("/api/v1/grading/crs", json=C1, headers=headers | RU)
    assert english.status_code == russian.status_code == 200
    assert russian.json() == english.json()
    [graded] = russian.json()
    assert graded["reason"].startswith("grade 3: hypotension requiring one vasopressor")
    # A refusal is a human message: it follows the reader's language, the field stays named.
    bad = client.post(
        "/api/v1/grading/crs", json=[C1, {**C1, "oxygen": "lots"}], headers=headers | RU
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "1.oxygen"
    assert any(ch in bad.json()["message"] for ch in "абвгдежзийклмнопрстуфхцчшщыэюя")


def test_the_toxicity_page_in_russian_uses_the_glossary_wording(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, _when = adult
    terms = _glossary()
    token = login(client, team.clinician.username)
    client.cookies.set("cartflow_locale", "ru")
    url = f"/clinician/episodes/{episode.id}/toxicity"
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["content-language"] == "ru"
    for term in (
        "Cytokine release syndrome (CRS)",
        "Immune effector cell-associated neurotoxicity syndrome (ICANS)",
        "Level of consciousness",
        "Awakens to voice",
        "Positive pressure (CPAP, BiPAP, ventilation)",
        "Orientation to hospital",
        "Counts backwards from 100 by 10",
    ):
        assert terms[term] in page.text, term
    # ASTCT (Lee 2019): fever with hypotension needing one vasopressor is CRS grade 3.
    alert = {"consciousness": "alert", "seizure": "none", "cerebral_edema": "none"}
    live = post_form(client, f"{url}/grade", token, {**C1, **alert, "temperature_c": "39,5"})
    assert live.status_code == 200
    assert 'id="crs-grade" data-grade="3"' in live.text
    assert terms["CRS grade 3"] == "СВЦ 3-й степени"
    assert terms["CRS grade 3"] in live.text
    assert terms["hypotension requiring one vasopressor (with or without vasopressin)"] in live.text
    assert "3-я степень: " in live.text
    assert terms["No ICANS"] in live.text
    # The same form in English keeps the English wording.
    client.cookies.set("cartflow_locale", "en")
    english = post_form(client, f"{url}/grade", token, {**C1, **alert, "temperature_c": "39.5"})
    assert "CRS grade 3" in english.text
    assert "grade 3: hypotension requiring one vasopressor" in english.text


def test_a_recorded_assessment_is_listed_in_russian(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    clinician = auth(session, team.clinician)
    icans = {"ice_score": 8, "consciousness": "awakens_to_voice", "seizure": "none"}
    body = {
        "assessed_at": when.at(2).isoformat(),
        "crs": C1,
        "icans": {**icans, "cerebral_edema": "none"},
    }
    recorded = _assess(client, clinician, episode, body)
    assert recorded.status_code == 201, recorded.text
    # The record keeps the contract's English reason...
    assert recorded.json()["icans_reason"] == "grade 2: depressed consciousness, awakens to voice"
    login(client, team.clinician.username)
    client.cookies.set("cartflow_locale", "ru")
    page = client.get(f"/clinician/episodes/{episode.id}/toxicity").text
    # ...and the page shows the same rule in Russian, with the glossary's grade names.
    assert "ICANS 2-й степени" in page and "СВЦ 3-й степени" in page
    assert "2-я степень: угнетение сознания, пробуждается на голос" in page
    assert "grade 2: depressed consciousness" not in page


def _grade(*args: str, stdin: str, lang: str) -> Any:
    return CliRunner().invoke(cli_app, ["grade", *args], input=stdin, env={"CARTFLOW_LANG": lang})


def test_a_cli_refusal_in_russian_exits_2_with_one_russian_line() -> None:
    bad = json.dumps({**C1, "hypotension": "two_pressors"})
    russian = _grade("crs", stdin=bad, lang="ru")
    english = _grade("crs", stdin=bad, lang="en")
    assert russian.exit_code == english.exit_code == 2
    assert russian.stdout == english.stdout == ""
    [line] = russian.stderr.splitlines()
    assert line.startswith("некорректная оценка CRS: hypotension: ")
    [line] = english.stderr.splitlines()
    assert line.startswith("invalid CRS assessment: hypotension: ")
    not_json = _grade("icans", stdin="{oops", lang="ru")
    assert not_json.exit_code == 2
    assert "некорректный JSON" in not_json.stderr


def test_a_clinical_command_refusal_in_russian() -> None:
    args = ["clinical", "eligibility", "00000000-0000-0000-0000-000000000000"]
    args += ["--lab", "anc_per_ul=many", "--user", "nobody", "--password-stdin"]
    russian = CliRunner().invoke(cli_app, args, input="x\n", env={"CARTFLOW_LANG": "ru"})
    assert russian.exit_code == 2
    assert russian.stderr.strip() == "--lab: 'anc_per_ul=many' не имеет вида ИМЯ=ЧИСЛО"


def test_the_cli_grade_output_is_the_same_json_in_russian() -> None:
    english = _grade("crs", stdin=json.dumps([C1]), lang="en")
    russian = _grade("crs", stdin=json.dumps([C1]), lang="ru")
    assert english.exit_code == russian.exit_code == 0
    assert json.loads(russian.stdout) == json.loads(english.stdout)


LATIN_KEPT = {"ICE", "CAPD", "ICANS", "CPAP", "BiPAP", "VI", "C"}  # C of °C


def _crs_inputs() -> Iterator[CrsAssessment]:
    for temperature, fever_other, given, pressure, oxygen, died in itertools.product(
        (37.0, 38.4), (False, True), (False, True), Hypotension, OxygenSupport, (False, True)
    ):
        yield CrsAssessment(
            temperature_c=temperature,
            fever_other_cause=fever_other,
            anticytokine_given=given,
            hypotension=pressure,
            oxygen=oxygen,
            died_of_crs=died,
        )


def _icans_inputs() -> Iterator[IcansAssessment]:
    for age, ice, capd, unable, conscious, seizure, motor, edema in itertools.product(
        (7.0, 30.0),
        (None, 2, 5, 8, 10),
        (None, 0, 4, 12),
        (False, True),
        Consciousness,
        Seizure,
        (False, True),
        CerebralEdema,
    ):
        if age < 12 and ice is not None:
            continue
        yield IcansAssessment(
            age_years=age,
            ice_score=ice,
            capd_score=capd,
            unable_to_assess=unable,
            consciousness=conscious,
            seizure=seizure,
            motor_weakness=motor,
            cerebral_edema=edema,
        )


def test_every_grading_reason_reads_in_russian_and_keeps_the_contract_in_english() -> None:
    explained = [(grade_crs(a), explain_crs(a)) for a in _crs_inputs()]
    explained += [(grade_icans(a), explain_icans(a)) for a in _icans_inputs()]
    for contract, (grade, reason) in explained:
        assert contract.grade == grade and contract.reason == reason.render("en")
        russian = reason.render("ru")
        latin = {w for w in re.findall(r"[A-Za-z]+", russian)} - LATIN_KEPT
        assert not latin, (russian, latin)
        assert russian.startswith((f"{grade}-я степень: ", "СВЦ нет: ", "ICANS нет: "))


def test_the_lymphodepletion_plan_reads_in_russian_with_local_dates_and_decimal_commas(
    client: TestClient, session: Session, adult: tuple[Team, Episode, Timeline]
) -> None:
    team, episode, when = adult
    login(client, team.clinician.username)
    client.cookies.set("cartflow_locale", "ru")
    page = client.get(f"/clinician/episodes/{episode.id}/lymphodepletion").text
    terms = _glossary()
    assert terms["Fludarabine"] in page and terms["Cyclophosphamide"] in page
    day0 = when.day0.astimezone(ZoneInfo(episode.center.timezone)).date()
    assert f"инфузия (день 0) {day0:%d.%m.%Y}" in page
    # Fludarabine 30 mg/m2 on this plan's days is printed with a comma: "30,0".
    assert re.search(r">30,0<", page)
    assert re.search(r"ППТ \d,\d\d м²", page)
    client.cookies.set("cartflow_locale", "en")
    english = client.get(f"/clinician/episodes/{episode.id}/lymphodepletion").text
    assert "Fludarabine" in english and f"infusion (day 0) {day0:%Y-%m-%d}" in english
    assert re.search(r">30\.0<", english)
