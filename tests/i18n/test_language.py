"""The reader's language (issue #12): how it is chosen, and that it changes the words only.

- The API answers in the language of Accept-Language (q-values honoured, ``ru-RU`` is Russian, an
  unsupported language gets the default, English) and says which in Content-Language; a refusal
  keeps its machine-readable code in every language.
- Pages follow the user's profile (a cookie set at log-in), then Accept-Language; before log-in the
  language switcher sets the cookie for that browser.
- The command line follows CARTFLOW_LANG, then the POSIX locale (LANG).
- Times are shown in the local zone of the center the page is about, with the zone named.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
import zoneinfo
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.i18n import negotiate
from cartflow.i18n.middleware import LOCALE_COOKIE
from cartflow.models import AuditEvent, EpisodeState, Patient, Role
from cartflow.models.episode import EpisodeStateChange
from tests.factories import PASSWORD, auth, make_episode, make_network, make_user
from tests.web.helpers import csrf_of

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


def _cyrillic(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-GB,en;q=0.9,ru;q=0.8", "en"),
        ("en;q=0.5, ru;q=0.9", "ru"),
        ("de-DE,de;q=0.9,ru;q=0.4", "ru"),
        ("ru;q=0, en;q=0.1", "en"),
        ("de-DE,fr;q=0.9", None),
        ("*", None),
        ("", None),
    ],
)
def test_accept_language_is_negotiated_by_quality(header: str, chosen: str | None) -> None:
    assert negotiate(header) == chosen


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ({"Accept-Language": "ru-RU,ru;q=0.9"}, "ru"),
        ({"Accept-Language": "en-US"}, "en"),
        ({"Accept-Language": "de-DE,fr;q=0.8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_api_names_the_language_it_answers_in(
    client: TestClient, header: dict[str, str], language: str
) -> None:
    response = client.post(
        "/api/v1/auth/login",
        json={"username": f"nobody-{uuid.uuid4().hex[:6]}", "password": "wrong-password-1"},
        headers=header,
    )
    assert response.status_code == 401
    assert response.headers["content-language"] == language
    assert "Accept-Language" in response.headers["vary"]
    assert _cyrillic(response.json()["message"]) == (language == "ru")


def test_a_wrong_password_is_refused_with_the_same_code_in_both_languages(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    body = {"username": user.username, "password": "not-the-password-1"}
    english = client.post("/api/v1/auth/login", json=body, headers=EN)
    russian = client.post("/api/v1/auth/login", json=body, headers=RU)
    assert english.status_code == russian.status_code == 401
    assert english.json()["code"] == russian.json()["code"] == "AUTH-INVALID-CREDENTIALS"
    assert english.json()["message"] == "wrong username or password"
    assert russian.json()["message"] == "неверное имя пользователя или пароль"


def test_an_unknown_episode_is_not_found_with_the_same_code_in_both_languages(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    missing = uuid.uuid4()
    english = client.get(f"/api/v1/episodes/{missing}", headers={**headers, **EN})
    russian = client.get(f"/api/v1/episodes/{missing}", headers={**headers, **RU})
    assert english.status_code == russian.status_code == 404
    assert english.json()["code"] == russian.json()["code"]
    assert english.json()["message"] == f"no episode {missing}"
    assert russian.json()["message"] == f"эпизод {missing} не найден"


def test_a_rule_refusal_keeps_its_code_and_its_values_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    """A refused transition: the rule's code, the step and the states stay as they are; only the
    sentence around them is Russian."""
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.ELIGIBLE)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    url = f"/api/v1/episodes/{episode.id}/transitions"
    body = {"transition": "close", "reason": "testing the refusal"}
    english = client.post(url, json=body, headers={**headers, **EN})
    russian = client.post(url, json=body, headers={**headers, **RU})
    assert english.status_code == russian.status_code == 409
    assert english.json()["code"] == russian.json()["code"] == "STATE-001"
    assert english.json()["message"] == (
        "STATE-001: 'close' is allowed only from follow_up; the episode is eligible"
    )
    assert russian.json()["message"] == (
        "STATE-001: шаг «close» допустим только из состояний follow_up; эпизод в состоянии eligible"
    )


def test_a_validation_refusal_names_the_field_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    body = {
        "mrn": f"MRN-{unique}",
        "family_name": "Иванова",
        "given_name": "Анна",
        "date_of_birth": "2010-05-01",
        "sex": "female",
        "weight_kg": -4,
        "height_cm": 140,
        "diagnosis": "B-ALL",
        "disease_status": "relapsed",
    }
    russian = client.post("/api/v1/patients", json=body, headers={**headers, **RU})
    english = client.post("/api/v1/patients", json=body, headers={**headers, **EN})
    assert russian.status_code == english.status_code == 422
    assert russian.json()["code"] == english.json()["code"] == "INVALID-REQUEST"
    assert russian.json()["field"] == english.json()["field"] == "weight_kg"
    assert russian.json()["message"].startswith("weight_kg: Должно быть больше 0")
    assert english.json()["message"].startswith("weight_kg: ")
    assert not _cyrillic(english.json()["message"])
    # Nothing was registered by either refusal.
    assert session.execute(select(Patient.id).where(Patient.mrn == f"MRN-{unique}")).first() is None


def test_a_date_rule_of_our_own_is_refused_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    """A validator of ours (not Pydantic's wording) also reaches the reader in Russian."""
    net = make_network(session, unique)
    headers = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()  # noqa: DTZ011
    body = {
        "mrn": f"MRN-{unique}",
        "date_of_birth": future,
        "sex": "male",
        "weight_kg": 70,
        "height_cm": 175,
        "diagnosis": "DLBCL",
        "disease_status": "refractory",
    }
    russian = client.post("/api/v1/patients", json=body, headers={**headers, **RU})
    assert russian.status_code == 422
    assert "дата рождения в будущем" in russian.json()["message"]


def _login_form(client: TestClient, username: str) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_the_profile_language_is_audited_and_follows_the_user_to_the_pages(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    changed = client.put(
        "/api/v1/auth/me/locale", json={"locale": "ru"}, headers=auth(session, user)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["locale"] == "ru"
    event = session.execute(
        select(AuditEvent).where(
            AuditEvent.record_id == str(user.id), AuditEvent.action == "set_locale"
        )
    ).scalar_one()
    assert event.before == {"locale": ""} and event.after == {"locale": "ru"}
    assert event.actor_username == user.username

    # A fresh browser with no language preference of its own: the log-in sets the cookie.
    client.cookies.clear()
    page = client.get("/login")
    assert page.headers["content-language"] == "en"
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.cookies.get(LOCALE_COOKIE) == "ru"
    worklist = client.get("/coordinator")
    assert worklist.status_code == 200
    assert worklist.headers["content-language"] == "ru"
    assert '<html lang="ru">' in worklist.text
    assert "Регистрация пациента" in worklist.text and "Register a patient" not in worklist.text
    assert "Ждут ваших действий" in worklist.text


def test_a_wrong_language_is_refused_naming_the_field(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    refused = client.put(
        "/api/v1/auth/me/locale", json={"locale": "de"}, headers={**auth(session, user), **RU}
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "locale"
    assert _cyrillic(refused.json()["message"])
    assert (
        session.execute(
            select(AuditEvent.id).where(
                AuditEvent.record_id == str(user.id), AuditEvent.action == "set_locale"
            )
        ).first()
        is None
    )


def test_the_switcher_before_log_in_sets_the_language_of_this_browser(
    client: TestClient,
) -> None:
    client.cookies.clear()
    assert "Log in" in client.get("/login").text
    response = client.get(
        "/language", params={"locale": "ru", "next": "/login"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.cookies.get(LOCALE_COOKIE) == "ru"
    page = client.get("/login")
    assert page.headers["content-language"] == "ru"
    assert "Имя пользователя" in page.text and "Username" not in page.text
    # The cookie outranks the browser's own preference; the API still follows the header.
    assert "Имя пользователя" in client.get("/login", headers=EN).text
    api = client.post(
        "/api/v1/auth/login", json={"username": "nobody-x", "password": "wrong-pw-12"}, headers=EN
    )
    assert api.headers["content-language"] == "en"
    # An off-site "next" is not followed.
    away = client.get(
        "/language", params={"locale": "en", "next": "//evil.example"}, follow_redirects=False
    )
    assert away.headers["location"] == "/"
    assert client.cookies.get(LOCALE_COOKIE) == "en"


def test_a_page_follows_accept_language_without_a_profile_choice(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    client.cookies.clear()
    _login_form(client, user.username)
    assert client.cookies.get(LOCALE_COOKIE) is None
    russian = client.get("/coordinator", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    english = client.get("/coordinator", headers={"Accept-Language": "fr-FR"})
    assert "Регистрация пациента" in russian.text
    assert "Register a patient" in english.text and english.headers["content-language"] == "en"


# -- the command line ----------------------------------------------------------------------------


def _cli(
    args: list[str], url: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartflow.cli.main", *args],
        env={
            "CARTFLOW_DATABASE_URL": url,
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join(sys.path),
            **env,
        },
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CARTFLOW_LANG": "ru"}, "--role: неизвестная роль «wizard»"),
        ({"LANG": "ru_RU.UTF-8"}, "--role: неизвестная роль «wizard»"),
        ({"LANG": "ru_RU.UTF-8", "CARTFLOW_LANG": "en"}, "--role: unknown role 'wizard'"),
        ({"LANG": "C.UTF-8"}, "--role: unknown role 'wizard'"),
    ],
)
def test_a_cli_refusal_is_one_line_in_the_user_language(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    result = _cli(
        ["user", "add", "u1", "--name", "U", "--role", "wizard", "--password-stdin"],
        url,
        env,
        "a-good-long-password\n",
    )
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(expected), result.stderr


def test_a_cli_service_refusal_is_russian_with_the_field_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert _cli(["db", "upgrade"], url, {}).returncode == 0
    result = _cli(
        ["user", "add", "u1", "--name", "U", "--role", "courier", "--password-stdin"],
        url,
        {"CARTFLOW_LANG": "ru"},
        "short\n",
    )
    assert result.returncode == 2
    assert result.stderr == "password: пароль должен содержать не менее 10 символов\n"


# -- local time --------------------------------------------------------------------------------


def test_center_times_are_local_with_the_zone_named_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    """One network, a Moscow center and a Yekaterinburg one (UTC+5, no abbreviation in use):
    each episode's timeline shows its own center's wall clock and names the zone."""
    net = make_network(session, unique)
    net.center_b.timezone = "Asia/Yekaterinburg"
    session.flush()
    moscow = make_episode(session, net, state=EpisodeState.ELIGIBLE, center=net.center_a)
    urals = make_episode(session, net, state=EpisodeState.ELIGIBLE, center=net.center_b)
    for episode, center, zone_name, label in (
        (moscow, net.center_a, "Europe/Moscow", "МСК"),
        (urals, net.center_b, "Asia/Yekaterinburg", "UTC+5"),
    ):
        change = session.execute(
            select(EpisodeStateChange).where(EpisodeStateChange.episode_id == episode.id)
        ).scalar_one()
        moment = change.occurred_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        local = moment.astimezone(zoneinfo.ZoneInfo(zone_name)).strftime("%d.%m.%Y %H:%M")
        clinician = make_user(session, Role.CLINICIAN, center=center)
        client.cookies.clear()
        _login_form(client, clinician.username)
        client.cookies.set(LOCALE_COOKIE, "ru")
        page = client.get(f"/episodes/{episode.id}")
        assert page.status_code == 200
        assert f"{local} {label}" in page.text, (label, local)
        assert "Хронология «от вены до вены»" in page.text
        other = "UTC+5" if label == "МСК" else "МСК"
        assert other not in page.text


def test_the_administration_and_refusal_pages_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    admin = make_user(session, Role.ADMIN)
    make_user(session, Role.COURIER)  # someone to deactivate on the users page
    client.cookies.clear()
    _login_form(client, admin.username)
    client.cookies.set(LOCALE_COOKIE, "ru")
    page = client.get("/admin")
    assert page.status_code == 200
    for russian in ("Администрирование сети", "Добавить площадку", "Лечебные центры"):
        assert russian in page.text, russian
    for english in ("Network administration", "Add a site", "Treatment centers"):
        assert english not in page.text, english
    users = client.get("/admin/users")
    assert "Причина деактивации" in users.text and "Reason to deactivate" not in users.text
    assert "курьер" in users.text  # role names too

    # A page of another role: refused in Russian, naming the role it is for; the code stays.
    coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
    client.cookies.clear()
    _login_form(client, coordinator.username)
    client.cookies.set(LOCALE_COOKIE, "ru")
    refused = client.get("/admin")
    assert refused.status_code == 403
    assert "Нет доступа" in refused.text
    assert "эта страница для ролей: администратор" in refused.text
    assert "AUTH-ROLE-REQUIRED" in refused.text
