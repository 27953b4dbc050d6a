"""Schemathesis over the whole OpenAPI document: whatever a client sends, the API answers with a
refusal (4xx) or a result, never a server error (5xx).

The real app (`create_app`) runs on a migrated database of its own, seeded with a small network,
and is called as a network admin and as a center's coordinator. A session that a generated case
ended (a log-out, or a lock-out after generated wrong passwords at a password change) is renewed
for the next case. The number of examples per operation is
bounded (CARTFLOW_SCHEMATHESIS_EXAMPLES, default 6) and generation is seeded, so a run is
repeatable; CARTFLOW_SCHEMATHESIS_COVERAGE=1 adds the coverage phase for a deeper run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from sqlalchemy import Engine, update
from sqlalchemy.engine import make_url

from cartflow.app import create_app
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import EpisodeState, Role, User
from tests.conftest import BACKEND, PG_ADMIN_URL, _create_pg_database, _drop_pg_database
from tests.factories import make_episode, make_network, make_patient, make_user, token_for

EXAMPLES = int(os.environ.get("CARTFLOW_SCHEMATHESIS_EXAMPLES", "6"))
COVERAGE = os.environ.get("CARTFLOW_SCHEMATHESIS_COVERAGE", "0") == "1"


# The pytest plugin needs the schema when tests are collected, so the app is made at import time
# on a database URL of this process's own; the fixture below builds and seeds that database before
# the first request (the engine connects lazily).
_DB_NAME = f"cartflow_schemathesis_{os.getpid()}_{uuid.uuid4().hex[:6]}"
_TMPFS = "/dev/shm"  # noqa: S108 - a directory named for this process inside it
if BACKEND == "postgresql":
    _URL = make_url(PG_ADMIN_URL).set(database=_DB_NAME).render_as_string(hide_password=False)
else:
    # On tmpfs where there is one: the app commits every request and SQLite syncs each commit.
    # The directory is made by the fixture (only a process that runs these tests needs one).
    _DIR = Path(_TMPFS if Path(_TMPFS).is_dir() else tempfile.gettempdir()) / _DB_NAME
    _URL = f"sqlite:///{_DIR / 'api.sqlite3'}"
APP = create_app(Settings(environment="test", database_url=_URL))
_CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261125,
        # The coverage phase (boundary values of every field) multiplies the cases; opt in.
        "phases": {"coverage": {"enabled": COVERAGE}},
    }
)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP, config=_CONFIG)


@dataclass
class Api:
    engine: Engine
    users: dict[str, uuid.UUID]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str, *, renew: bool = False) -> dict[str, str]:
        """A session for `who`; renewed (and any lock-out lifted) after a generated log-out or
        lock-out ended the previous one."""
        if renew or who not in self.tokens:
            with session_scope(make_sessionmaker(self.engine)) as session:
                session.execute(
                    update(User)
                    .where(User.id == self.users[who])
                    .values(failed_logins=0, locked_until=None)
                )
                user = session.get(User, self.users[who])
                assert user is not None
                self.tokens[who] = token_for(session, user)
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    if BACKEND == "postgresql":
        _create_pg_database(_DB_NAME)
    else:
        _DIR.mkdir(parents=True, exist_ok=True)
    upgrade(_URL)
    engine = make_engine(_URL)
    with session_scope(make_sessionmaker(engine)) as session:
        net = make_network(session, uuid.uuid4().hex[:8].upper())
        admin = make_user(session, Role.ADMIN)
        coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
        make_patient(session, net.center_a)
        make_episode(session, net, state=EpisodeState.SLOT_BOOKED)
        users = {"admin": admin.id, "coordinator": coordinator.id}
    yield Api(engine=engine, users=users)
    engine.dispose()
    APP.state.engine.dispose()
    if BACKEND == "postgresql":
        _drop_pg_database(_DB_NAME)
    else:
        shutil.rmtree(_DIR, ignore_errors=True)


def _check(api: Api, case: Case, who: str) -> None:
    response = case.call(headers=api.headers(who))
    if response.status_code == 401:
        api.headers(who, renew=True)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} as {who}: {response.status_code}\n"
        f"{case.as_curl_command()}\n{response.text[:2000]}"
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_as_network_admin(case: Case, api: Api) -> None:
    _check(api, case, "admin")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_as_coordinator(case: Case, api: Api) -> None:
    _check(api, case, "coordinator")


# Inputs a bounded run rarely draws but that did reach the database and fail there (found by hand
# after the fuzzing run): NUL characters (PostgreSQL text refuses them) and offsets past 64 bits.
_PATIENT = {
    "mrn": "\u0000",
    "date_of_birth": "2010-01-01",
    "sex": "female",
    "weight_kg": 30,
    "height_cm": 130,
    "diagnosis": "B-ALL",
    "disease_status": "relapsed",
}
HOSTILE: list[tuple[str, str, str, dict[str, object] | None]] = [
    ("GET", "/api/v1/patients?mrn=%00", "coordinator", None),
    ("GET", "/api/v1/episodes?chain_of_identity=%00&product=%00", "coordinator", None),
    ("GET", "/api/v1/sites/%00", "admin", None),
    ("GET", "/api/v1/centers/%00", "admin", None),
    ("GET", "/api/v1/products/%00", "admin", None),
    ("GET", "/api/v1/episodes?offset=99999999999999999999", "coordinator", None),
    ("GET", "/api/v1/patients?offset=9223372036854775808", "coordinator", None),
    ("GET", "/api/v1/audit/patient/%00", "coordinator", None),
    ("POST", "/api/v1/auth/login", "admin", {"username": "a\u0000", "password": "x"}),
    ("POST", "/api/v1/patients", "coordinator", _PATIENT),
    (
        "POST",
        "/api/v1/users",
        "admin",
        {
            "username": "nul",
            "full_name": "x\u0000",
            "password": "a-good-long-password",
            "roles": [{"role": "coordinator", "center": "\u0000"}],
        },
    ),
]


@pytest.mark.parametrize(("method", "path", "who", "body"), HOSTILE)
def test_hostile_inputs_are_refused_not_500(
    api: Api, method: str, path: str, who: str, body: dict[str, object] | None
) -> None:
    with TestClient(APP, raise_server_exceptions=False) as client:
        response = client.request(method, path, headers=api.headers(who), json=body)
    assert response.status_code < 500, response.text
