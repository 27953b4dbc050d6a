"""Re-planning keeps started work, re-runs failed batches and moves few other bookings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cartflow.scheduling.solver import (
    BatchFailed,
    DeviceDown,
    EventError,
    generate_instance,
    replan,
    solve,
    validate,
)
from cartflow.scheduling.solver.model import Instance
from tests.scheduling.factories import day, order, tiny


def _run_length(inst: Instance, oid: str) -> int:
    return inst.product_by_id[inst.order_by_id[oid].product].manufacturing_days


def test_failed_batch_is_rerun_and_nobody_else_moves() -> None:
    """Two devices. A and B start on day 1 (one each); C (ready day 3) follows on a device.
    A's batch fails on day 2: A needs a new collection from day 2; B has started and stays;
    a free device exists for A on day 4 without touching C (C's move would cost a penalty)."""
    inst = tiny(order("A"), order("B"), order("C", ready=3), devices=2, chairs=2, beds=2, qc=2)
    plan = solve(inst, method="exact", time_limit=5)
    assert plan.by_order["A"].manufacturing_start == day(1)
    result = replan(inst, plan, BatchFailed("A", day(2)), time_limit=5)
    assert result.failed == ("A",)
    assert result.moved == ()
    new_a = result.plan.by_order["A"]
    assert new_a.apheresis_date >= day(2)
    assert result.plan.by_order["B"] == plan.by_order["B"]
    # C keeps its dates; which of the two identical devices it uses is free to change.
    old_c, new_c = plan.by_order["C"], result.plan.by_order["C"]
    assert (new_c.apheresis_date, new_c.manufacturing_start, new_c.infusion_date) == (
        old_c.apheresis_date,
        old_c.manufacturing_start,
        old_c.infusion_date,
    )
    assert validate(result.instance, result.plan).feasible


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_generated_batch_failure_keeps_started_work(method: str) -> None:
    inst = generate_instance(40, 4, horizon_days=70)
    plan = solve(inst, method="exact", time_limit=5)
    on = inst.start_date + timedelta(days=20)
    running = [a for a in plan.assignments if a.manufacturing_start < on <= a.release_date]
    victim = running[0].order
    result = replan(inst, plan, BatchFailed(victim, on), method=method, time_limit=5)  # type: ignore[arg-type]
    assert validate(result.instance, result.plan).feasible
    for a in plan.assignments:
        if a.infusion_date < on:
            assert a.order in result.done
            assert a.order not in result.plan.by_order
        elif a.manufacturing_start < on and a.order != victim:
            new = result.plan.by_order[a.order]
            assert (new.device, new.manufacturing_start, new.apheresis_date) == (
                a.device,
                a.manufacturing_start,
                a.apheresis_date,
            )
    new_victim = result.plan.by_order.get(victim)
    assert new_victim is None or new_victim.apheresis_date >= on


def test_device_down_loses_the_running_batch_and_frees_the_device() -> None:
    inst = generate_instance(40, 6, horizon_days=70)
    plan = solve(inst, method="exact", time_limit=5)
    on = inst.start_date + timedelta(days=15)
    running = next(
        a
        for a in plan.assignments
        if a.manufacturing_start < on
        and on < a.manufacturing_start + timedelta(days=_run_length(inst, a.order))
    )
    down = DeviceDown(running.device, on, on + timedelta(days=9), on)
    result = replan(inst, plan, down, time_limit=5)
    assert running.order in result.failed
    assert validate(result.instance, result.plan).feasible
    for a in result.plan.assignments:
        if a.device == running.device and a.order not in {
            o.id for o in result.instance.orders if o.fixed_manufacturing is not None
        }:
            last = a.manufacturing_start + timedelta(days=_run_length(inst, a.order) - 1)
            assert last < down.first_date or a.manufacturing_start > down.last_date


def test_bad_events_are_refused() -> None:
    inst = tiny(order("A"), order("B", ready=10))
    plan = solve(inst, method="greedy")
    with pytest.raises(EventError):
        replan(inst, plan, BatchFailed("Z", day(2)))
    with pytest.raises(EventError):
        replan(inst, plan, BatchFailed("B", day(2)))  # B has not started
    with pytest.raises(EventError):
        replan(inst, plan, BatchFailed("A", day(40)))  # outside the horizon
    with pytest.raises(EventError):
        replan(inst, plan, DeviceDown("S-9", day(2), day(3), day(2)))
