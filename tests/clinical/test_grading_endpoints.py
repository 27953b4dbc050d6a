"""The grading contract over HTTP, on the real app with a real logged-in user and database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app as cli_app
from cartflow.models import Role
from tests.factories import auth, make_user

C1 = {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}
C5 = {
    "temperature_c": 37.1,
    "anticytokine_given": True,
    "hypotension": "multiple_vasopressors",
    "oxygen": "none",
}
P1 = {
    "age_years": 7,
    "capd_score": 10,
    "consciousness": "awakens_spontaneously",
    "seizure": "none",
    "cerebral_edema": "none",
}


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The real app: create_app mounts the grading router under /api/v1."""
    return client


@pytest.fixture
def headers(session: Session) -> dict[str, str]:
    return auth(session, make_user(session, Role.CLINICIAN))


def post(api: TestClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    return api.post(f"/api/v1/grading/{path}", json=body, headers=headers)


def test_object_and_list_give_the_same_list_as_the_cli(
    api: TestClient, headers: dict[str, str]
) -> None:
    one = post(api, "crs", C1, headers)
    many = post(api, "crs", [C1, C5], headers)
    assert one.status_code == many.status_code == 200
    printed = CliRunner().invoke(cli_app, ["grade", "crs"], input=json.dumps([C1, C5])).stdout
    cli = json.loads(printed)
    assert one.json() == cli[:1]
    assert many.json() == cli
    assert [g["grade"] for g in cli] == [3, 4]


def test_icans_child_by_capd(api: TestClient, headers: dict[str, str]) -> None:
    response = post(api, "icans", [P1], headers)
    assert response.status_code == 200
    assert response.json()[0]["grade"] == 3


def test_malformed_is_422_naming_field_and_item(api: TestClient, headers: dict[str, str]) -> None:
    response = post(api, "icans", [P1, {**P1, "cerebral_edema": "some"}], headers)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "1.cerebral_edema"
    assert len(body["errors"]) == 1


@pytest.mark.parametrize("raw", [b"{oops", b"", b"true", b"[1]"])
def test_non_object_body_is_422(api: TestClient, headers: dict[str, str], raw: bytes) -> None:
    response = api.post(
        "/api/v1/grading/crs",
        content=raw,
        headers=headers | {"content-type": "application/json"},
    )
    assert response.status_code == 422


def test_anonymous_caller_is_refused(api: TestClient) -> None:
    assert api.post("/api/v1/grading/crs", json=C1).status_code == 401


def test_openapi_documents_object_or_list_body(api: TestClient) -> None:
    spec = api.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/grading/crs"]["post"]
    obj, array = operation["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    assert "hypotension" in obj["properties"]
    assert array["type"] == "array"
