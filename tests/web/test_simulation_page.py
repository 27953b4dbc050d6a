"""The manager's capacity page: edit a scenario, run it, read results with their intervals."""

from __future__ import annotations

import re

import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import Role
from cartflow.simulation.runner import run, spec_from
from cartflow.simulation.scenario import load_scenario
from tests.factories import make_network, make_user
from tests.web.helpers import login, post_form


def _small_scenario() -> str:
    data = yaml.safe_load(load_scenario("demo_network").model_dump_json())
    return yaml.safe_dump(data)


def test_a_manager_runs_the_scenario_and_sees_the_simulators_numbers(
    client: TestClient, session: Session
) -> None:
    token = login(client, make_user(session, Role.REGISTRY_ANALYST).username)
    page = client.get("/simulation")
    assert page.status_code == 200 and "<textarea" in page.text
    form = {
        "scenario": _small_scenario(),
        "years": "1",
        "replications": "2",
        "seed": "7",
        "policy": "fcfs",
    }
    result = post_form(client, "/simulation", token, form)
    assert result.status_code == 200, result.text
    # The page shows what the simulator itself computes for the same run.
    expected = run(
        spec_from(load_scenario("demo_network"), policy="fcfs", years=1, replications=2, seed=7)
    )
    infused = expected.summary["infused_per_year"].mean
    row = re.search(r"Patients infused per year</td><td[^>]*>([0-9.]+)<", result.text)
    assert row is not None and abs(float(row.group(1)) - infused) < 0.05


def test_a_bad_scenario_names_the_field_and_other_roles_are_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    token = login(client, make_user(session, Role.ADMIN).username)
    broken = post_form(
        client,
        "/simulation",
        token,
        {"scenario": "sites: [unclosed", "years": "1", "replications": "2"},
    )
    assert broken.status_code == 422 and "not valid YAML" in broken.text
    wrong = post_form(
        client, "/simulation", token, {"scenario": "years: -3\n", "years": "1", "replications": "2"}
    )
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text
    net = make_network(session, unique)
    login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    assert client.get("/simulation").status_code == 403
