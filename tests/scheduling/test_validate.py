"""The validator catches each kind of violation, and prices feasible plans by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cartflow.scheduling.solver import (
    Assignment,
    DeviceOutage,
    FixedManufacturing,
    Instance,
    Plan,
    validate,
)
from tests.scheduling.factories import day, order, tiny


def _a(oid: str, a: int, start: int, infusion: int, device: str = "S-1") -> Assignment:
    return Assignment(oid, day(a), "S", device, day(start), day(start + 5), day(infusion))


def _plan(*assignments: Assignment, unscheduled: tuple[str, ...] = ()) -> Plan:
    return Plan("hand", "hand", 0, None, tuple(assignments), unscheduled)


def _base() -> tuple[Instance, Plan]:
    """Two devices, two chairs, two beds: A (p 1) and B (p 2) both start on day 1."""
    inst = tiny(order("A"), order("B", priority=2), devices=2, chairs=2, beds=2, qc=2)
    plan = _plan(_a("A", 0, 1, 7), _a("B", 0, 1, 8, device="S-2"))
    return inst, plan


def _codes(inst: Instance, plan: Plan) -> set[str]:
    return {v.code for v in validate(inst, plan).violations}


def test_feasible_plan_is_priced_by_hand() -> None:
    """A: 1 x 7 = 7; B: 2 x 8 = 16; total 23."""
    inst, plan = _base()
    report = validate(inst, plan)
    assert report.feasible
    assert report.objective == 23


def test_unscheduled_and_late_are_priced() -> None:
    """B unscheduled: 50,000 x 2; A infused day 27 with latest day 25: 27 + 100 x 2 = 227."""
    inst, _ = _base()
    report = validate(inst, _plan(_a("A", 0, 1, 27), unscheduled=("B",)))
    assert report.feasible
    assert report.objective == 100_000 + 227


def _mutate(field: str, value: object, oid: str = "A") -> set[str]:
    inst, plan = _base()
    changes: dict[str, Any] = {field: value}
    changed = tuple(replace(a, **changes) if a.order == oid else a for a in plan.assignments)
    return _codes(inst, replace(plan, assignments=changed))


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("site", "X", "SITE"),
        ("device", "T-9", "DEVICE"),
        ("apheresis_date", day(-1), "READY"),
        ("manufacturing_start", day(0), "TRANSIT-IN"),
        ("release_date", day(7), "RELEASE"),
        ("infusion_date", day(6), "TRANSIT-OUT"),
        ("infusion_date", day(30), "HORIZON"),
        ("device", "S-2", "CAP-DEVICE"),
    ],
)
def test_each_window_and_device_rule(field: str, value: object, code: str) -> None:
    assert code in _mutate(field, value)


def test_courier_weekday() -> None:
    inst, plan = _base()
    inst = replace(inst, shipping_weekdays=frozenset({1, 2, 3, 4}))  # day 0 is a Monday
    assert "COURIER" in _codes(inst, plan)


def test_outage() -> None:
    inst, plan = _base()
    inst = replace(inst, device_outages=(DeviceOutage("S-1", day(3), day(3)),))
    assert _codes(inst, plan) == {"OUTAGE"}


@pytest.mark.parametrize(
    ("capacity", "code"),
    [("chairs", "CAP-APHERESIS"), ("qc", "CAP-QC")],
)
def test_daily_capacities(capacity: str, code: str) -> None:
    kwargs = {"devices": 2, "chairs": 2, "beds": 2, "qc": 2, capacity: 1}
    inst = tiny(order("A"), order("B", priority=2), **kwargs)  # type: ignore[arg-type]
    _, plan = _base()
    assert _codes(inst, plan) == {code}


def test_infusion_beds() -> None:
    inst = tiny(order("A"), order("B", priority=2), devices=2, chairs=2, beds=1, qc=2)
    plan = _plan(_a("A", 0, 1, 8), _a("B", 0, 1, 8, device="S-2"))
    assert _codes(inst, plan) == {"CAP-INFUSION"}


def test_coverage_rules() -> None:
    inst, plan = _base()
    assert "MISSING" in _codes(inst, replace(plan, assignments=plan.assignments[:1]))
    assert "DUPLICATE" in _codes(inst, replace(plan, unscheduled=("A",)))
    assert "UNKNOWN" in _codes(inst, replace(plan, unscheduled=("Z",)))


def test_fixed_work_cannot_move_and_keeps_its_device() -> None:
    """A started on S-1 on day -2 (busy -2..0); B may not use S-1 on day 0, and a plan that
    moves A's batch is refused even when everything else fits."""
    started = replace(
        order("A"),
        fixed_apheresis=day(-4),
        fixed_manufacturing=FixedManufacturing("S-1", day(-2)),
    )
    inst = tiny(started, order("B", ready=-1), devices=2, chairs=2, beds=2, qc=2)
    a_ok = Assignment("A", day(-4), "S", "S-1", day(-2), day(3), day(4))
    b_clash = Assignment("B", day(0), "S", "S-1", day(0), day(5), day(6))
    plan = _plan(a_ok, b_clash)
    codes = _codes(inst, plan)
    assert "CAP-DEVICE" in codes
    b_fine = replace(b_clash, manufacturing_start=day(1), release_date=day(6), infusion_date=day(7))
    assert validate(inst, _plan(a_ok, b_fine)).feasible
    a_moved = replace(a_ok, device="S-2")
    assert "FIXED" in _codes(inst, _plan(a_moved, b_fine))
    # Left unscheduled, the started batch still holds S-1 on day 0.
    b_day0 = replace(b_clash, device="S-1")
    assert "CAP-DEVICE" in _codes(inst, _plan(b_day0, unscheduled=("A",)))
