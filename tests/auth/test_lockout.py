"""Lock-out after the configured number of wrong passwords, whether at log-in, at signing or at a
password change; an admin unlock, audited. Here the limit is set to 3 (CARTFLOW_MAX_FAILED_LOGINS)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.corrections import default_content
from cartflow.audit.signatures import sign
from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import CurrentActor, request_token, wrong_password_guard
from cartflow.auth.service import authenticate
from cartflow.config import Settings
from cartflow.db.session import DbSession
from cartflow.episodes.patients import update_patient
from cartflow.episodes.schemas import PatientUpdate
from cartflow.models import AuditEvent, ElectronicSignature, Patient, Role, User
from tests.auth.factories import center_admin, network_admin
from tests.factories import PASSWORD, auth, make_network, make_patient, make_user

LIMIT = 3


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url, max_failed_logins=LIMIT)


def _login(client: TestClient, username: str, password: str) -> tuple[int, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return response.status_code, response.json().get("code", "")


def test_lock_after_the_configured_failures_then_admin_unlock(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, Role.COURIER)
    for _ in range(LIMIT):
        assert _login(client, user.username, "wrong-password") == (401, "AUTH-INVALID-CREDENTIALS")
    assert _login(client, user.username, PASSWORD) == (401, "AUTH-LOCKED")

    admin = auth(session, network_admin(session))
    unlocked = client.post(
        f"/api/v1/users/{user.id}/unlock", json={"reason": "verified by phone"}, headers=admin
    )
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["locked_until"] is None
    assert _login(client, user.username, PASSWORD)[0] == 200
    actions = session.execute(
        select(AuditEvent.action, AuditEvent.reason)
        .where(AuditEvent.record_type == "user", AuditEvent.record_id == str(user.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [a for a, _ in actions] == ["lock", "unlock"]
    assert actions[1].reason == "verified by phone"


def test_a_successful_log_in_restarts_the_count(client: TestClient, session: Session) -> None:
    user = make_user(session, Role.COURIER)
    for _ in range(LIMIT - 1):
        _login(client, user.username, "wrong-password")
    assert _login(client, user.username, PASSWORD)[0] == 200
    for _ in range(LIMIT - 1):
        _login(client, user.username, "wrong-password")
    assert _login(client, user.username, PASSWORD)[0] == 200


def test_unlock_refusals(client: TestClient, session: Session, unique: str) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COURIER)
    for _ in range(LIMIT):
        _login(client, user.username, "wrong-password")
    body = {"reason": "asked"}
    url = f"/api/v1/users/{user.id}/unlock"
    local_admin = auth(session, center_admin(session, net.center_a))
    assert client.post(url, json=body, headers=local_admin).status_code == 403
    courier = auth(session, make_user(session, Role.COURIER))
    assert client.post(url, json=body, headers=courier).status_code == 403
    admin = auth(session, network_admin(session))
    assert client.post(url, json={"reason": " "}, headers=admin).status_code == 422
    assert (
        client.post(f"/api/v1/users/{uuid.uuid4()}/unlock", json=body, headers=admin).status_code
        == 404
    )
    assert client.post(url, json=body, headers=admin).status_code == 200
    again = client.post(url, json=body, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "USER-NOT-LOCKED"


class _CorrectAndSign(BaseModel):
    weight_kg: float
    password: str


def _signing_route(client: TestClient) -> None:
    """A request that corrects a patient and then signs the result: the shape of every signed
    step (change, then sign in the same unit of work), using the real services."""
    router = APIRouter()

    @router.post("/api/v1/test-only/patients/{patient_id}/correct-and-sign")
    def correct_and_sign(
        patient_id: uuid.UUID, body: _CorrectAndSign, session: DbSession, actor: CurrentActor
    ) -> dict[str, str]:
        patient = update_patient(
            session,
            actor=actor,
            patient_id=patient_id,
            data=PatientUpdate(weight_kg=body.weight_kg, reason="weighed again"),
        )
        signature = sign(
            session,
            actor=actor,
            password=body.password,
            meaning="Reviewed",
            record_type="patient",
            record_id=patient.id,
            record_content=default_content(patient),
        )
        return {"signature": str(signature.id)}

    app = client.app
    app.include_router(router)  # type: ignore[attr-defined]


def _signatures(session: Session, patient: Patient) -> int:
    return session.execute(
        select(func.count(ElectronicSignature.id)).where(
            ElectronicSignature.record_id == str(patient.id)
        )
    ).scalar_one()


def test_wrong_password_at_signing_changes_nothing_but_counts(
    client: TestClient, session: Session, unique: str
) -> None:
    _signing_route(client)
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    clinician = make_user(session, Role.CLINICIAN, center=net.center_a)
    headers = auth(session, clinician)
    url = f"/api/v1/test-only/patients/{patient.id}/correct-and-sign"
    weight = patient.weight_kg

    for attempt in range(1, LIMIT):
        refused = client.post(url, json={"weight_kg": 41.5, "password": "nope"}, headers=headers)
        assert refused.status_code == 403 and refused.json()["code"] == "SIGNATURE-REFUSED"
        session.expire_all()
        assert session.get(Patient, patient.id).weight_kg == weight  # type: ignore[union-attr]
        assert _signatures(session, patient) == 0
        assert session.get(User, clinician.id).failed_logins == attempt  # type: ignore[union-attr]

    signed = client.post(url, json={"weight_kg": 41.5, "password": PASSWORD}, headers=headers)
    assert signed.status_code == 200, signed.text
    assert _signatures(session, patient) == 1

    for _ in range(LIMIT - 1):
        client.post(url, json={"weight_kg": 43.0, "password": "nope"}, headers=headers)
    # The count carries over: the limit was reached, the account is locked, the session ended.
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert _login(client, clinician.username, PASSWORD) == (401, "AUTH-LOCKED")
    session.expire_all()
    assert session.get(Patient, patient.id).weight_kg == 41.5  # type: ignore[union-attr]
    assert _signatures(session, patient) == 1


def test_the_guard_counts_for_routers_without_current_user(
    client: TestClient, session: Session
) -> None:
    """Pages find their user from the cookie themselves; the router-level guard still counts."""
    router = APIRouter(dependencies=[Depends(wrong_password_guard, scope="function")])

    @router.post("/test-only/page-sign")
    def page_sign(request: Request, db: DbSession, password: str) -> dict[str, str]:
        token = request_token(request)
        assert token is not None
        user = authenticate(db, token=token, idle=dt.timedelta(minutes=15))
        sign(
            db,
            actor=Actor(user),
            password=password,
            meaning="Reviewed",
            record_type="test",
            record_id=uuid.uuid4(),
            record_content={},
        )
        return {}

    client.app.include_router(router)  # type: ignore[attr-defined]
    user = make_user(session, Role.COURIER)
    headers = auth(session, user)
    refused = client.post("/test-only/page-sign?password=nope", headers=headers)
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(User, user.id).failed_logins == 1  # type: ignore[union-attr]
    assert (
        client.post(f"/test-only/page-sign?password={PASSWORD}", headers=headers).status_code == 200
    )
