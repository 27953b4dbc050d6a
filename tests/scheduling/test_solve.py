"""Invariants of both methods on generated instances, and repeatability with a seed."""

from __future__ import annotations

import pytest

from cartflow.scheduling.solver import (
    generate_instance,
    instance_from_json,
    instance_to_json,
    solve,
    validate,
)
from cartflow.scheduling.solver.bounds import Relaxation, lp_bound
from cartflow.scheduling.solver.network import Network

CASES = [(20, 1, 60), (45, 2, 60), (45, 3, 45)]  # (episodes, seed, horizon): light to overloaded


@pytest.mark.parametrize(("episodes", "seed", "horizon"), CASES)
def test_both_methods_validate_and_exact_is_no_worse(
    episodes: int, seed: int, horizon: int
) -> None:
    inst = generate_instance(episodes, seed, horizon_days=horizon)
    greedy = solve(inst, method="greedy")
    exact = solve(inst, method="exact", time_limit=4, seed=0)
    for plan in (greedy, exact):
        report = validate(inst, plan)
        assert report.violations == ()
        assert report.objective == plan.objective
        assert plan.lower_bound is not None
        assert plan.lower_bound <= plan.objective
    assert exact.objective <= greedy.objective
    assert exact.status in {"optimal", "feasible"}
    # Both bounds are valid, so neither may exceed the other method's objective either.
    assert greedy.lower_bound is not None and exact.lower_bound is not None
    assert exact.lower_bound <= greedy.objective
    assert greedy.lower_bound <= exact.objective


def test_started_work_is_kept_by_both_methods() -> None:
    inst = generate_instance(30, 5, horizon_days=60)
    started = {o.id: o for o in inst.orders if o.fixed_manufacturing is not None}
    assert started
    for method in ("greedy", "exact"):
        plan = solve(inst, method=method, time_limit=4)
        for oid, o in started.items():
            a = plan.by_order[oid]
            assert o.fixed_manufacturing is not None
            assert (a.device, a.manufacturing_start) == (
                o.fixed_manufacturing.device,
                o.fixed_manufacturing.start,
            )


def test_same_seed_same_plan() -> None:
    inst = generate_instance(30, 7, horizon_days=60)
    first = solve(inst, method="exact", time_limit=10, seed=3)
    again = solve(inst, method="exact", time_limit=10, seed=3)
    assert first.status == "optimal"
    assert first.assignments == again.assignments
    g1, g2 = solve(inst, method="greedy"), solve(inst, method="greedy")
    assert (g1.assignments, g1.objective) == (g2.assignments, g2.objective)


def test_generator_is_reproducible_and_round_trips_through_json() -> None:
    a = generate_instance(40, 11)
    assert a == generate_instance(40, 11)
    assert a != generate_instance(40, 12)
    assert instance_from_json(instance_to_json(a)) == a


def test_trivial_bound_is_below_every_plan() -> None:
    inst = generate_instance(45, 2, horizon_days=60)
    bound = Network(inst).trivial_bound()
    assert bound <= solve(inst, method="greedy").objective


def test_cpsat_plans_validate_and_respect_the_milp_bound() -> None:
    inst = generate_instance(30, 8, horizon_days=60)
    cpsat = solve(inst, method="cpsat", time_limit=4, seed=1)
    exact = solve(inst, method="exact", time_limit=4, seed=1)
    assert validate(inst, cpsat).feasible
    assert exact.lower_bound is not None
    assert exact.lower_bound <= cpsat.objective


def test_overloaded_instance_gets_a_valid_plan_and_the_lp_bound() -> None:
    inst = generate_instance(120, 3, horizon_days=45)
    net = Network(inst)
    assert net.load() > 1.0
    exact = solve(inst, method="exact", time_limit=2)
    greedy = solve(inst, method="greedy")
    assert validate(inst, exact).feasible
    assert exact.objective <= greedy.objective
    assert "overloaded" in exact.message
    relaxed = lp_bound(net, time_limit=4)
    assert relaxed is not None
    assert exact.lower_bound is not None
    assert net.trivial_bound() <= exact.lower_bound <= exact.objective
    assert relaxed <= exact.objective


def test_lp_bound_is_below_a_proven_optimum() -> None:
    inst = generate_instance(30, 7, horizon_days=60)
    exact = solve(inst, method="exact", time_limit=10)
    assert exact.status == "optimal"
    relaxed = lp_bound(Network(inst), time_limit=5)
    assert relaxed is not None
    assert relaxed <= exact.objective + 1e-6


def test_alpha_points_order_by_fractional_starts() -> None:
    """Episode 0 starts half on day 5 and half on day 7: its 0.5-point is 5, its 0.7-point 7.
    Episode 1 starts wholly on day 6. Episode 2 is served at 0.3 by the LP: it goes last."""
    relaxed = Relaxation(
        bound=0.0,
        starts={0: [(7, 0.5), (5, 0.5)], 1: [(6, 1.0)], 2: [(1, 0.3)]},
        served={0: 1.0, 1: 1.0, 2: 0.3},
    )
    assert relaxed.alpha_order([2, 1, 0], 0.5) == [0, 1, 2]
    assert relaxed.alpha_order([2, 1, 0], 0.7) == [1, 0, 2]
