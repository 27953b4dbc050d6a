"""Log-in with argon2 passwords, bearer tokens and session cookies, lock-out and expiry."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cartflow.models import AuthSession, Role, User
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import csrf_of


def test_login_returns_a_token_that_authenticates(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COURIER)
    response = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == user.username
    stored = (
        session.execute(select(AuthSession.token_sha256).where(AuthSession.user_id == user.id))
        .scalars()
        .all()
    )
    assert token not in stored  # only the digest is kept


def test_wrong_password_is_401_and_five_lock_the_account(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, Role.COURIER)
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": "wrong-password"}
        )
        assert response.status_code == 401
        assert response.json()["code"] == "AUTH-INVALID-CREDENTIALS"
    locked = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert locked.status_code == 401 and locked.json()["code"] == "AUTH-LOCKED"
    session.refresh(user)
    assert user.locked_until is not None


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "whatever-123"}
    )
    assert (
        response.status_code == 401 and response.json()["message"] == "wrong username or password"
    )


def test_logout_revokes_the_token(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session, Role.COURIER))
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_idle_session_expires(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COURIER)
    headers = auth(session, user)
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id)
        .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    )
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "AUTH-SESSION-EXPIRED"


def test_page_login_sets_an_httponly_cookie(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COORDINATOR)
    form = {"username": user.username, "password": PASSWORD}
    token = csrf_of(client.get("/login").text)  # the log-in form is CSRF-bound (cartflow.web.csrf)
    response = client.post("/login", data=form | {"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "cartflow_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/v1/auth/me")  # the cookie alone authenticates
    assert me.status_code == 200 and me.json()["username"] == user.username
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    bad = client.post(
        "/login",
        data={"username": user.username, "password": "nope-nope-nope", "csrf_token": token},
    )
    assert bad.status_code == 401 and "wrong username or password" in bad.text


def test_admin_creates_users_and_others_cannot(client: TestClient, session: Session) -> None:
    admin = auth(session, make_user(session, Role.ADMIN))
    body = {
        "username": "new.courier",
        "full_name": "New Courier",
        "password": "a-long-enough-password",
        "roles": [{"role": "courier"}],
    }
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert session.execute(select(User).where(User.username == "new.courier")).scalar_one()
    duplicate = client.post("/api/v1/users", json=body, headers=admin)
    assert duplicate.status_code == 409
    courier = auth(session, make_user(session, Role.COURIER))
    assert (
        client.post("/api/v1/users", json=body | {"username": "x.y"}, headers=courier).status_code
        == 403
    )
    assert client.get("/api/v1/users", headers=courier).status_code == 403
    unscoped = client.post(
        "/api/v1/users",
        json=body | {"username": "bad.coord", "roles": [{"role": "coordinator"}]},
        headers=admin,
    )
    assert unscoped.status_code == 422 and unscoped.json()["field"] == "center"
    short = client.post(
        "/api/v1/users", json=body | {"username": "short.pw", "password": "short"}, headers=admin
    )
    assert short.status_code == 422 and short.json()["field"] == "password"


def test_the_api_takes_the_page_cookie_for_reads_only(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.ADMIN)
    page = client.post(
        "/login", data={"username": user.username, "password": PASSWORD}, follow_redirects=False
    )
    if page.status_code == 403:  # the log-in form itself carries a CSRF token
        import re

        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        page = client.post(
            "/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
    assert page.status_code == 303
    assert client.get("/api/v1/auth/me").status_code == 200  # cookie sent by the test client
    forged = client.post(
        "/api/v1/users",
        json={
            "username": "forged.user",
            "full_name": "F",
            "password": "a-long-enough-password",
            "roles": [{"role": "courier"}],
        },
    )
    assert forged.status_code == 401
