"""First come, first served: episodes in order of readiness, each at its earliest infusion.

Hand-checked on factories.tiny (one device, manufacturing 3 days, QC 2, transit 1 each way,
couriers every day): an episode collected on day a starts on a + 1 at the earliest, is released
on start + 5 and infused the day after.
"""

from __future__ import annotations

from datetime import timedelta

from cartflow.scheduling.solver import (
    BatchFailed,
    generate_instance,
    replan,
    solve,
    validate,
)
from cartflow.scheduling.solver.network import Network
from tests.scheduling.factories import day, order, tiny


def test_first_ready_is_served_first_whatever_the_priority() -> None:
    """A (priority 1, ready day 0): collected 0, runs 1..3, released 6, infused 7: cost 7.
    B (priority 10, ready day 1) waits for the device: runs 4..6, collected on day 3 (as late
    as the start allows), released 9, infused 10: cost 10 x 9 = 90. Total 97.
    The priority dispatcher serves B first (runs 2..4, infused 8: 70) and A after it (runs
    5..7, infused 11: 11): 81."""
    inst = tiny(order("A", ready=0, priority=1), order("B", ready=1, priority=10))
    plan = solve(inst, method="fcfs")
    a, b = plan.by_order["A"], plan.by_order["B"]
    assert (a.apheresis_date, a.manufacturing_start, a.infusion_date) == (day(0), day(1), day(7))
    assert (b.apheresis_date, b.manufacturing_start) == (day(3), day(4))
    assert (b.release_date, b.infusion_date) == (day(9), day(10))
    assert plan.objective == 97
    assert validate(inst, plan).objective == 97
    assert solve(inst, method="greedy").objective == 81


def test_one_device_infuses_in_order_of_readiness() -> None:
    """Ready days 0, 2, 4, 6 with priorities 1, 10, 5, 8 on one device: runs start on days 1,
    4, 7, 10 (each as soon as the previous run ends), infusions on days 7, 10, 13, 16.
    Cost 1x7 + 10x8 + 5x9 + 8x10 = 212."""
    inst = tiny(
        order("A", ready=0, priority=1),
        order("B", ready=2, priority=10),
        order("C", ready=4, priority=5),
        order("D", ready=6, priority=8),
    )
    plan = solve(inst, method="fcfs")
    starts = [plan.by_order[o].manufacturing_start for o in "ABCD"]
    infusions = [plan.by_order[o].infusion_date for o in "ABCD"]
    assert starts == [day(1), day(4), day(7), day(10)]
    assert infusions == [day(7), day(10), day(13), day(16)]
    assert plan.objective == 212
    assert plan.method == "fcfs" and plan.status == "heuristic"


def test_generated_plans_validate_and_keep_started_work() -> None:
    inst = generate_instance(60, 5, horizon_days=90)
    plan = solve(inst, method="fcfs", seed=3)
    report = validate(inst, plan)
    assert report.feasible, report.violations[:3]
    assert report.objective == plan.objective
    assert plan.lower_bound == Network(inst).trivial_bound() <= plan.objective
    assert len(plan.assignments) + len(plan.unscheduled) == len(inst.orders)
    for o in inst.orders:
        fm = o.fixed_manufacturing
        if fm is not None and o.id in plan.by_order:
            a = plan.by_order[o.id]
            assert (a.device, a.manufacturing_start) == (fm.device, fm.start)
    assert solve(inst, method="fcfs", seed=3).assignments == plan.assignments


def test_on_a_busy_network_earlier_referrals_never_wait_longer_to_start() -> None:
    """One site licensed for everything and one center: FCFS never starts a later referral's run
    before an earlier one's unless the earlier one could not use that day (same product here,
    so it always could)."""
    orders = [
        order(f"E{k:02d}", ready=k // 2, latest=70, priority=1 + (7 * k) % 10) for k in range(12)
    ]
    inst = tiny(*orders, devices=2, chairs=2, beds=2, qc=2, horizon=80)
    plan = solve(inst, method="fcfs")
    assert validate(inst, plan).feasible
    ready = sorted(inst.orders, key=lambda o: (o.ready_date, o.id))
    starts = [plan.by_order[o.id].manufacturing_start for o in ready]
    assert starts == sorted(starts)


def test_replan_after_a_failed_batch_keeps_the_other_bookings() -> None:
    inst = generate_instance(40, 4, horizon_days=70)
    plan = solve(inst, method="fcfs")
    on = inst.start_date + timedelta(days=15)
    running = sorted(
        a.order for a in plan.assignments if a.manufacturing_start < on <= a.release_date
    )
    result = replan(inst, plan, BatchFailed(running[0], on), method="fcfs")
    assert result.failed == (running[0],)
    assert validate(result.instance, result.plan).feasible
    assert result.plan.method == "fcfs"
    # Every other booking still fits where it was, so the dispatcher keeps it as it is.
    assert result.moved == ()
