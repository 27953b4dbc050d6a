"""The JSON contract: the issue's minimal instance is accepted; malformed files are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cartflow.scheduling.solver import (
    InstanceError,
    PlanFormatError,
    instance_from_dict,
    plan_from_json,
    plan_to_json,
    solve,
    validate,
)


def minimal() -> dict[str, Any]:
    """The keys listed in issue 7's file contract, and nothing else."""
    return {
        "start_date": "2027-01-04",
        "horizon_days": 40,
        "sites": [{"id": "S", "devices": 2, "qc_releases_per_day": 1}],
        "centers": [
            {"id": "C", "apheresis_per_day": 1, "infusions_per_day": 1, "transit_days": {"S": 1}}
        ],
        "products": [{"id": "P", "site": "S", "manufacturing_days": 3, "qc_days": 2}],
        "orders": [
            {
                "id": "A",
                "center": "C",
                "product": "P",
                "ready_date": "2027-01-04",
                "latest_infusion_date": "2027-02-01",
                "priority": 5,
            }
        ],
        "shipping_weekdays": [0, 1, 2, 3, 4],
    }


def test_minimal_issue_instance_solves_and_plan_round_trips() -> None:
    inst = instance_from_dict(minimal())
    assert inst.sites[0].devices == ("S-1", "S-2")
    assert inst.centers[0].return_transit_days == {"S": 1}
    plan = solve(inst, method="exact", time_limit=5)
    again = plan_from_json(plan_to_json(plan), inst)
    assert again.assignments == plan.assignments
    assert validate(inst, again).objective == plan.objective


def test_plan_without_site_takes_it_from_the_device() -> None:
    inst = instance_from_dict(minimal())
    data = json.loads(plan_to_json(solve(inst, method="greedy")))
    for a in data["assignments"]:
        del a["site"]
    plan = plan_from_json(json.dumps(data), inst)
    assert validate(inst, plan).feasible


def _broken(path: list[str | int], value: object) -> dict[str, Any]:
    data = minimal()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (["version"], 2, "version"),
        (["horizon_days"], "40", "horizon_days"),
        (["orders", 0, "priority"], 11, "priority"),
        (["orders", 0, "center"], "X", "unknown center"),
        (["orders", 0, "product"], "X", "unknown product"),
        (["products", 0, "site"], "X", "unknown site"),
        (["centers", 0, "transit_days"], {}, "transit_days"),
        (["orders", 0, "latest_infusion_date"], "2027-01-01", "before ready_date"),
        (["orders", 0, "ready_date"], "04/01/2027", "ready_date"),
        (["shipping_weekdays"], [], "shipping_weekdays"),
        (["shipping_wekdays"], [1], "shipping_wekdays"),
        (["sites", 0, "devices"], ["S-1", "S-1"], "duplicate device"),
        (["start_date"], KeyError, "start_date"),
    ],
)
def test_malformed_instances_name_the_problem(
    path: list[str | int], value: object, words: str
) -> None:
    with pytest.raises(InstanceError) as info:
        instance_from_dict(_broken(path, value))
    assert words in info.value.message


def test_fixed_work_that_overlaps_is_refused() -> None:
    data = minimal()
    started = {"apheresis_date": "2026-12-28", "device": "S-1", "manufacturing_start": "2027-01-02"}
    data["orders"].append({**data["orders"][0], "id": "B", "fixed": started})
    data["orders"].append({**data["orders"][0], "id": "C", "fixed": started})
    with pytest.raises(InstanceError, match="overlaps"):
        instance_from_dict(data)


def test_malformed_plan() -> None:
    inst = instance_from_dict(minimal())
    with pytest.raises(PlanFormatError):
        plan_from_json("{", inst)
    with pytest.raises(PlanFormatError, match="unscheduled"):
        plan_from_json('{"assignments": []}', inst)
