"""Slot policies: priority order, the rolling-horizon interface and the solver-backed optimiser."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cartflow.errors import InvalidInput
from cartflow.simulation.engine import run_replication
from cartflow.simulation.network import compile_network
from cartflow.simulation.policies import (
    PlanJob,
    PlanningSnapshot,
    RollingHorizon,
    make_policy,
    wspt_planner,
)
from cartflow.simulation.runner import run, spec_from
from cartflow.simulation.scenario import Scenario, load_scenario
from tests.simulation.builders import single_queue


def _two_classes(devices: int = 3) -> Scenario:
    return single_queue(
        devices=devices,
        per_year=80,
        device_days={"kind": "exponential", "mean": 10},
        years=20,
        replications=6,
        classes=[("urgent", 1, 0.3), ("routine", 2, 0.7)],
    )


def test_priority_serves_the_urgent_class_sooner_than_fcfs() -> None:
    sc = _two_classes()
    fcfs = run(spec_from(sc, policy="fcfs")).summary
    prio = run(spec_from(sc, policy="priority")).summary
    assert prio["wait_mean[urgent]"].high < fcfs["wait_mean[urgent]"].low
    assert prio["wait_mean[routine]"].mean > fcfs["wait_mean[routine]"].mean


def test_wspt_orders_by_weight_over_processing_time_then_time_on_list() -> None:
    jobs = [
        PlanJob(
            pid=1, release=0.0, weight=0.001, processing_days=10, priority=1, center=0, product=0
        ),
        PlanJob(
            pid=2, release=1.0, weight=0.004, processing_days=10, priority=2, center=0, product=0
        ),
        PlanJob(
            pid=3, release=2.0, weight=0.004, processing_days=20, priority=2, center=0, product=0
        ),
        PlanJob(
            pid=4, release=0.5, weight=0.004, processing_days=10, priority=2, center=0, product=0
        ),
    ]
    snap = PlanningSnapshot(now=3.0, site=0, device_free_at=[3.0], jobs=jobs)
    assert wspt_planner(snap) == [4, 2, 3, 1]


def test_rolling_horizon_follows_the_plan_and_never_loses_a_patient() -> None:
    seen: list[PlanningSnapshot] = []

    def last_in_first_out(snapshot: PlanningSnapshot) -> Sequence[int]:
        seen.append(snapshot)
        ordered = sorted(snapshot.jobs, key=lambda j: -j.release)
        return [j.pid for j in ordered[: len(ordered) // 2]]  # leaves half of them out

    sc = _two_classes(devices=2)
    net = compile_network(sc, years=3, warmup_years=0.5)
    lifo = RollingHorizon(last_in_first_out, name="lifo", replan_every_days=3.0)
    raw = run_replication(net, lifo, 11)
    outcomes = raw.ineligible + raw.infused + raw.dropped + raw.failed + raw.in_system
    assert raw.referred == outcomes
    # Called every 3 days whenever someone is waiting (the queue builds up at two devices).
    assert 0 < len(seen) <= int(net.horizon // 3.0)
    for snap in seen:
        assert snap.jobs
        assert len(snap.device_free_at) == 2
        assert all(t >= snap.now for t in snap.device_free_at)
    fifo = run_replication(net, make_policy("fcfs"), 11)
    assert raw.referred == fifo.referred  # the same patients...
    assert raw.waits != fifo.waits  # ...served in another order


def test_optimiser_greedy_plugs_the_scheduling_solver_in() -> None:
    sc = load_scenario("demo_network").with_devices("nmrc-hem-gmp", 21)
    result = run(
        spec_from(sc, policy="optimiser-greedy", years=0.5, warmup_years=0.25, replications=2)
    )
    counts = result.per_replication[0]
    assert counts["count.referred"] == sum(
        counts[f"count.{k}"] for k in ("ineligible", "infused", "dropped", "failed", "in_system")
    )
    assert result.summary["wait_mean"].mean >= 0


def test_unknown_policy_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidInput, match="unknown policy 'lottery'"):
        make_policy("lottery")
    with pytest.raises(InvalidInput, match="needs the scenario"):
        make_policy("optimiser")
