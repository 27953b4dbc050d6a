"""The assembled application: health, OpenAPI, the size limit, and that every domain is mounted."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import Role
from tests.factories import auth, make_user


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/patients",
        "/api/v1/episodes/{episode_id}/transitions",
        "/api/v1/products",
        "/api/v1/grading/crs",
        "/api/v1/grading/icans",
    ):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["code"] == "BODY-TOO-LARGE"


def test_grading_is_served_to_a_logged_in_clinician(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session, Role.COURIER))
    body = {"temperature_c": 39.0, "hypotension": "one_vasopressor", "oxygen": "none"}
    response = client.post("/api/v1/grading/crs", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    graded = result[0] if isinstance(result, list) else result
    assert graded["grade"] == 3  # Lee et al. 2019, Table 2: hypotension needing one vasopressor
    assert client.post("/api/v1/grading/crs", json=body).status_code == 401
