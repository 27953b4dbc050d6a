"""The password policy (NIST SP 800-63B §5.1.1.2 as summarised in `auth.passwords`) on user creation
and on a password change, which needs the current password and ends the user's other sessions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.passwords import COMMON_PASSWORDS, MIN_PASSWORD_LENGTH, password_problem
from cartflow.models import AuditEvent, Role
from tests.auth.factories import network_admin
from tests.factories import PASSWORD, auth, make_user


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pw", "at least 10"),
        ("x" * 257, "at most 256"),
        ("my-name-is-anna.k!", "username"),
        ("!k.anna-backwards", "username"),
        ("xx-K.ANNA-xx", "username"),
        ("qwertyuiop", "common"),
        ("Password123", "common"),
        ("abababababab", "too few"),
        ("abcdefghijkl", "consecutive"),
        ("9876543210", "consecutive"),
        ("0987654321", "common"),
        ("a-good-long-password", None),
        ("correct horse battery staple", None),
    ],
)
def test_policy(password: str, problem: str | None) -> None:
    found = password_problem(password, username="anna.k")
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in str(found)


def test_every_listed_common_password_is_long_enough_to_matter() -> None:
    # Shorter ones are refused by the length rule already; the list exists for the long ones.
    assert all(len(p) >= MIN_PASSWORD_LENGTH for p in COMMON_PASSWORDS)


def test_user_creation_applies_the_policy(client: TestClient, session: Session) -> None:
    headers = auth(session, network_admin(session))
    body = {"username": "olga.p", "full_name": "Olga P", "roles": [{"role": "courier"}]}
    for password, message in [("olga.p-2026-xx", "username"), ("1q2w3e4r5t", "common")]:
        refused = client.post("/api/v1/users", json=body | {"password": password}, headers=headers)
        assert refused.status_code == 422 and refused.json()["field"] == "password"
        assert message in refused.json()["message"]
    made = client.post(
        "/api/v1/users", json=body | {"password": "a-good-long-password"}, headers=headers
    )
    assert made.status_code == 201, made.text


def test_change_own_password(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COURIER)
    here = auth(session, user)
    elsewhere = auth(session, user)
    new = "a-brand-new-passphrase"
    changed = client.post(
        "/api/v1/auth/password", json={"old_password": PASSWORD, "password": new}, headers=here
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/api/v1/auth/me", headers=here).status_code == 200
    assert client.get("/api/v1/auth/me", headers=elsewhere).status_code == 401
    old = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert old.status_code == 401
    fresh = client.post("/api/v1/auth/login", json={"username": user.username, "password": new})
    assert fresh.status_code == 200
    event = session.execute(
        select(AuditEvent).where(
            AuditEvent.record_id == str(user.id), AuditEvent.action == "change_password"
        )
    ).scalar_one()
    assert new not in str(event.after) and PASSWORD not in str(event.after)


def test_password_change_refusals(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COURIER)
    headers = auth(session, user)
    wrong = client.post(
        "/api/v1/auth/password",
        json={"old_password": "not-the-password", "password": "a-brand-new-passphrase"},
        headers=headers,
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "AUTH-WRONG-PASSWORD"
    session.refresh(user)
    assert user.failed_logins == 1  # counted although the request was refused
    weak = client.post(
        "/api/v1/auth/password",
        json={"old_password": PASSWORD, "password": "qwertyuiop123"},
        headers=headers,
    )
    assert weak.status_code == 422 and weak.json()["field"] == "password"
    same = client.post(
        "/api/v1/auth/password",
        json={"old_password": PASSWORD, "password": PASSWORD},
        headers=headers,
    )
    assert same.status_code == 422 and "differ" in same.json()["message"]
    anonymous = client.post(
        "/api/v1/auth/password", json={"old_password": PASSWORD, "password": "a-brand-new-pass"}
    )
    assert anonymous.status_code == 401
