"""Scheduling in Russian and English (issue #12): a booking refusal has the same code in both
languages, the booking page reads in Russian with locale-aware dates, and the `schedule` CLI
refuses in Russian with exit code 2 while its machine-readable summary keeps its keys."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from pytest import MonkeyPatch
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app
from cartflow.models import EpisodeState, Role
from tests.factories import auth, make_episode, make_network, make_user
from tests.web.helpers import login

TODAY = dt.date.today()  # noqa: DTZ011


def test_a_booking_refusal_in_russian_and_english(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    coordinator = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    body = {"apheresis_date": str(TODAY + dt.timedelta(days=50)), "device": "DEV-1"}
    url = f"/api/v1/episodes/{episode.id}/booking"
    en = client.post(url, json=body, headers=coordinator | {"Accept-Language": "en"})
    ru = client.post(url, json=body, headers=coordinator | {"Accept-Language": "ru"})
    assert en.status_code == ru.status_code == 409
    assert en.json()["code"] == ru.json()["code"] == "BOOK-TOO-LATE"
    assert "after the patient's latest useful date" in en.json()["message"]
    assert "позже крайней допустимой даты для пациента" in ru.json()["message"]


def test_the_booking_page_in_russian(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    login(client, coordinator.username)
    client.cookies.set("cartflow_locale", "ru")
    page = client.get(f"/episodes/{episode.id}/booking")
    assert page.status_code == 200
    assert "Слот афереза и производства" in page.text
    assert "Загрузка устройств, ближайшие дни: 42" in page.text
    assert "Apheresis and manufacturing slot" not in page.text
    # Column heads are the day and month in the reader's style (25.11 / Nov 25).
    heads = [h for h in re.findall(r'class="day" role="columnheader">([^<]*)<', page.text) if h]
    assert heads and all(re.fullmatch(r"\d\d\.\d\d", h) for h in heads), heads
    client.cookies.set("cartflow_locale", "en")
    english = client.get(f"/episodes/{episode.id}/booking").text
    heads = [h for h in re.findall(r'class="day" role="columnheader">([^<]*)<', english) if h]
    assert heads and all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", h) for h in heads), heads


def _invoke(args: list[str]) -> tuple[int, str, str]:
    # The CLI sets the language for its context; a copy keeps this test's language English.
    result = contextvars.copy_context().run(CliRunner().invoke, app, args)
    return result.exit_code, result.stdout, result.stderr


def test_schedule_cli_refuses_in_russian(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    inst = tmp_path / "instance.json"
    code, _out, err = _invoke(["schedule", "generate", "-o", str(inst), "--episodes", "5"])
    assert code == 0, err
    monkeypatch.setenv("CARTFLOW_LANG", "ru")
    code, _out, err = _invoke(["schedule", "solve", str(inst), "-o", "p.json", "--method", "x"])
    assert code == 2
    assert err == "--method должен быть greedy, fcfs, exact или cpsat, а не 'x'\n"
    broken = tmp_path / "broken.json"
    broken.write_text('{"start_date": "2026-11-25"}', encoding="utf-8")
    code, _out, err = _invoke(["schedule", "solve", str(broken), "-o", "p.json"])
    assert code == 2 and err.count("\n") == 1
    assert err == f"{broken}: instance: horizon_days: Обязательное поле\n"

    # The summary is read by scripts: its keys stay as they are in any language.
    plan = tmp_path / "plan.json"
    code, out, err = _invoke(
        ["schedule", "solve", str(inst), "-o", str(plan), "--method", "greedy"]
    )
    assert code == 0, err
    assert {line.split(": ", 1)[0] for line in out.splitlines()} >= {"method", "objective", "gap"}
    code, out, _err = _invoke(["schedule", "validate", str(inst), str(plan)])
    assert code == 0 and out.startswith("допустим; целевая функция: ")
    data = json.loads(plan.read_text(encoding="utf-8"))
    data["assignments"][0]["infusion_date"] = "2000-01-01"
    plan.write_text(json.dumps(data), encoding="utf-8")
    code, out, _err = _invoke(["schedule", "validate", str(inst), str(plan)])
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("недопустим: ") and len(lines) >= 3
    # The violation codes stay; the sentences are Russian.
    assert any(
        line.startswith("TRANSIT-OUT: ") and "раньше, чем может прибыть препарат" in line
        for line in lines
    )
    assert any(line.startswith("HORIZON: ") and "вне горизонта" in line for line in lines)

    monkeypatch.setenv("CARTFLOW_LANG", "en")
    code, _out, err = _invoke(["schedule", "solve", str(inst), "-o", "p.json", "--method", "x"])
    assert code == 2 and err == "--method must be greedy, fcfs, exact or cpsat, not 'x'\n"
