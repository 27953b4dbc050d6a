"""Instances small enough that the optimum is worked out by hand in each test's docstring.

Shared set-up (factories.tiny): one device, manufacturing 3 days, QC 2 days, transit 1 day each
way, couriers every day unless told, so an episode collected on day a can start on a + 1, is
released on start + 5 and infused on release + 1 at the earliest.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from cartflow.scheduling.solver import Center, DeviceOutage, Method, Product, Site, solve, validate
from tests.scheduling.factories import day, order, tiny


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_single_episode_takes_the_earliest_chain(method: Method) -> None:
    """a=0, start 1, busy 1..3, release 1+3+2=6, infusion 7: cost 1 x (7-0) = 7."""
    plan = solve(tiny(order("A")), method=method, time_limit=5)
    a = plan.by_order["A"]
    assert (a.apheresis_date, a.manufacturing_start) == (day(0), day(1))
    assert (a.release_date, a.infusion_date) == (day(6), day(7))
    assert plan.objective == 7


def test_exact_beats_priority_dispatch_where_hand_optimum_is_known() -> None:
    """B (priority 2, ready day 2) alone: start 3, infusion 9, cost 2 x 7 = 14.
    A (priority 1, ready day 0) alone: start 1, infusion 7, cost 7.
    Greedy places B first (start 3, busy 3..5), so A waits to start 6: infusion 12, cost 12;
    total 26. Optimal: A starts 1 (busy 1..3), B starts 4: infusion 10, cost 16; total 23.
    """
    inst = tiny(order("A", ready=0, priority=1), order("B", ready=2, priority=2))
    greedy = solve(inst, method="greedy")
    exact = solve(inst, method="exact", time_limit=5)
    assert greedy.objective == 26
    assert exact.objective == 23
    assert exact.status == "optimal"
    assert exact.lower_bound == 23
    assert exact.by_order["B"].infusion_date == day(10)


def test_chair_capacity_pushes_the_second_collection() -> None:
    """Two devices, one chair: B (priority 5) collected day 0 -> infusion 7 (35);
    A collected day 1 -> start 2 -> release 7 -> infusion 8 (8). Optimum 43."""
    inst = tiny(order("A", priority=1), order("B", priority=5), devices=2)
    for method in ("greedy", "exact"):
        plan = solve(inst, method=method, time_limit=5)
        assert plan.objective == 43
        assert validate(inst, plan).feasible


def test_courier_only_on_mondays() -> None:
    """Collection must be on a Monday (day 0); release day 6 is a Sunday, so the product ships
    on Monday day 7 and arrives day 8: cost 8."""
    plan = solve(tiny(order("A"), weekdays=frozenset({0})), method="exact", time_limit=5)
    assert plan.by_order["A"].infusion_date == day(8)
    assert plan.objective == 8


def test_lateness_penalty_per_day_times_priority() -> None:
    """Latest useful infusion day 5 but day 7 is the earliest: 3 x 7 + 100 x 3 x 2 = 621."""
    plan = solve(tiny(order("A", latest=5, priority=3)), method="exact", time_limit=5)
    assert plan.objective == 621


def test_episode_that_cannot_finish_in_the_horizon_is_unscheduled() -> None:
    """Ready day 5 in an 8-day horizon: infusion would be day 12. Cost 50,000 x 4."""
    plan = solve(tiny(order("A", ready=5, priority=4), horizon=8), method="exact", time_limit=5)
    assert plan.unscheduled == ("A",)
    assert plan.objective == 200_000
    assert plan.lower_bound == 200_000


def test_outage_moves_the_run_past_it() -> None:
    """Device down days 2..4: a start on 1 would overlap, so the run starts day 5 and the
    infusion is day 11 (5 + 3 + 2 + 1): cost 11."""
    outage = DeviceOutage("S-1", day(2), day(4))
    inst = tiny(order("A"), outages=(outage,))
    for method in ("greedy", "exact"):
        plan = solve(inst, method=method, time_limit=5)
        assert plan.by_order["A"].manufacturing_start == day(5)
        assert plan.objective == 11


def test_second_site_used_when_the_first_is_busy() -> None:
    """Product Q is made at S or T (T two days away). A and B (both priority 1, ready 0, two
    chairs) cannot both start on day 1 at S. At T: start 0 + 2, release 7, infusion 9 (cost 9).
    At S after the first run: start 4, infusion 10. Optimum 7 + 9 = 16."""
    t = Site("T", ("T-1",), 1)
    q = Product("Q", ("S", "T"), 3, 2)
    inst = tiny(
        order("A", product="Q"),
        order("B", product="Q"),
        chairs=2,
        beds=2,
        extra_sites=(t,),
        extra_products=(q,),
    )
    center = Center("C", 2, 2, {"S": 1, "T": 2}, {"S": 1, "T": 2})
    inst = replace(inst, centers=(center,))
    plan = solve(inst, method="exact", time_limit=5)
    assert plan.objective == 16
    assert sorted(a.site for a in plan.assignments) == ["S", "T"]
    assert plan.status == "optimal"


def test_cpsat_reaches_the_hand_optimum() -> None:
    """Same two episodes as above: the optimum is 23."""
    inst = tiny(order("A", ready=0, priority=1), order("B", ready=2, priority=2))
    assert solve(inst, method="cpsat", time_limit=5).objective == 23
