"""The fast engine and the plain SimPy model of the same network give the same results.

The SimPy model (`benchmarks/simpy_baseline.py`) is written independently, in SimPy's own idiom: processes,
priority resources and reneging. Both engines read the same pre-drawn patients. Their results
must therefore agree within the confidence intervals, measure by measure. This is the benchmark's
"same results" condition.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.simpy_baseline import run_replication_simpy

from cartflow.simulation.engine import run_replication
from cartflow.simulation.metrics import replication_metrics, summarise
from cartflow.simulation.network import compile_network
from cartflow.simulation.policies import make_policy
from cartflow.simulation.scenario import load_scenario

MEASURES = (
    "infused_per_year",
    "products_per_year",
    "wait_mean",
    "wait_p90",
    "v2v_median",
    "dropouts_per_year",
    "utilisation.devices[nmrc-hem-gmp]",
    "utilisation.beds[nmrc-hematology]",
    "utilisation.chairs[blokhin]",
)


@pytest.mark.parametrize(("policy", "devices"), [("fcfs", 22), ("priority", 20)])
def test_engines_agree_within_their_intervals(policy: str, devices: int) -> None:
    sc = load_scenario("demo_network").with_devices("nmrc-hem-gmp", devices)
    net = compile_network(sc, years=2, warmup_years=0.5)
    seeds = np.random.SeedSequence(2026).spawn(5)
    fast = summarise(
        [replication_metrics(net, run_replication(net, make_policy(policy), s)) for s in seeds]
    )
    simpy = summarise(
        [replication_metrics(net, run_replication_simpy(net, policy, s)) for s in seeds]
    )
    for key in MEASURES:
        a, b = fast[key], simpy[key]
        assert b.low <= a.mean <= b.high or a.mean == b.mean, key
        assert a.low <= b.mean <= a.high or a.mean == b.mean, key


def test_simpy_baseline_refuses_planner_policies() -> None:
    net = compile_network(load_scenario("mmc_validation"), years=1)
    with pytest.raises(Exception, match="fcfs or priority"):
        run_replication_simpy(net, "rolling-wspt", 1)
