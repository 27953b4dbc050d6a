"""Users are deactivated, never removed; only a network-wide admin manages users."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.models import AuditEvent, Role, User
from tests.auth.factories import center_admin, network_admin
from tests.factories import PASSWORD, auth, make_network, make_user


def test_deactivated_user_is_kept_logged_out_and_cannot_log_in(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, Role.COURIER)
    their_session = auth(session, user)
    admin_user = network_admin(session)
    admin = auth(session, admin_user)
    response = client.post(
        f"/api/v1/users/{user.id}/deactivate", json={"reason": "left the company"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert client.get("/api/v1/auth/me", headers=their_session).status_code == 401
    login = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert login.status_code == 401 and login.json()["message"] == "wrong username or password"
    session.expire_all()
    assert session.get(User, user.id) is not None  # kept: their records still name them
    event = session.execute(
        select(AuditEvent).where(
            AuditEvent.record_id == str(user.id), AuditEvent.action == "deactivate"
        )
    ).scalar_one()
    assert event.reason == "left the company" and event.actor_id == admin_user.id
    assert event.before == {"is_active": True} and event.after is not None
    assert event.after["sessions_ended"] == 1
    listed = client.get("/api/v1/users", headers=admin).json()
    assert {u["username"]: u["is_active"] for u in listed}[user.username] is False


def test_deactivation_refusals(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    url = f"/api/v1/users/{user.id}/deactivate"
    body = {"reason": "left"}
    # A center's own admin cannot manage users, not even that center's.
    local = auth(session, center_admin(session, net.center_a))
    assert client.post(url, json=body, headers=local).status_code == 403
    assert client.get("/api/v1/users", headers=local).status_code == 403
    assert (
        client.post(
            "/api/v1/users",
            json={
                "username": "escalated",
                "full_name": "E",
                "password": "a-good-long-password",
                "roles": [{"role": "admin"}],
            },
            headers=local,
        ).status_code
        == 403
    )
    coordinator = auth(session, make_user(session, Role.COORDINATOR, center=net.center_a))
    assert client.post(url, json=body, headers=coordinator).status_code == 403
    admin_user = network_admin(session)
    admin = auth(session, admin_user)
    assert client.post(url, json={}, headers=admin).status_code == 422
    missing = client.post(f"/api/v1/users/{uuid.uuid4()}/deactivate", json=body, headers=admin)
    assert missing.status_code == 404
    own = client.post(f"/api/v1/users/{admin_user.id}/deactivate", json=body, headers=admin)
    assert own.status_code == 409 and own.json()["code"] == "USER-SELF-DEACTIVATION"
    assert client.post(url, json=body, headers=admin).status_code == 200
    twice = client.post(url, json=body, headers=admin)
    assert twice.status_code == 409 and twice.json()["code"] == "USER-ALREADY-INACTIVE"


def test_there_is_no_way_to_delete_a_user(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COURIER)
    admin = auth(session, network_admin(session))
    for path in (f"/api/v1/users/{user.id}", "/api/v1/users"):
        assert client.delete(path, headers=admin).status_code in (404, 405)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not [p for p, ops in paths.items() if p.startswith("/api/v1/users") and "delete" in ops]
