"""Replications: seeded, spread over processes, summarised with confidence intervals.

Replication r of a run with seed S uses the r-th child of `numpy.random.SeedSequence(S)`, so its
result does not depend on which process ran it or in what order: the same seed gives the same
numbers with one worker or many. A capacity sweep reuses the same children at every device count
(common random numbers: the same patients meet more or fewer devices).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from cartflow.simulation.engine import run_replication
from cartflow.simulation.metrics import Estimate, replication_metrics, summarise
from cartflow.simulation.network import compile_network
from cartflow.simulation.policies import make_policy
from cartflow.simulation.scenario import Scenario

Progress = Callable[[int], None]  # called with the number of replications just finished


@dataclass(frozen=True)
class RunSpec:
    scenario: Scenario
    policy: str
    years: float
    warmup_years: float
    replications: int
    seed: int


@dataclass(frozen=True)
class RunResult:
    spec: RunSpec
    per_replication: list[dict[str, float]]
    summary: dict[str, Estimate]


def spec_from(
    scenario: Scenario,
    *,
    policy: str | None = None,
    years: float | None = None,
    warmup_years: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
) -> RunSpec:
    return RunSpec(
        scenario=scenario,
        policy=policy or scenario.policy,
        years=scenario.years if years is None else years,
        warmup_years=scenario.warmup_years if warmup_years is None else warmup_years,
        replications=scenario.replications if replications is None else replications,
        seed=scenario.seed if seed is None else seed,
    )


def _one(task: tuple[RunSpec, int]) -> dict[str, float]:
    spec, index = task
    net = compile_network(spec.scenario, years=spec.years, warmup_years=spec.warmup_years)
    policy = make_policy(spec.policy, replan_every_days=spec.scenario.replan_every_days, net=net)
    child = np.random.SeedSequence(spec.seed).spawn(spec.replications)[index]
    return replication_metrics(net, run_replication(net, policy, child))


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def run_many(
    specs: Sequence[RunSpec], *, jobs: int = 1, progress: Progress | None = None
) -> list[RunResult]:
    """Run every replication of every spec, in parallel when `jobs` > 1, results in order."""
    # Building a policy up front reports an unknown or unavailable policy before any work starts.
    for spec in specs:
        net = compile_network(spec.scenario, years=spec.years, warmup_years=spec.warmup_years)
        make_policy(spec.policy, replan_every_days=spec.scenario.replan_every_days, net=net)
    tasks = [(spec, r) for spec in specs for r in range(spec.replications)]
    outputs: list[dict[str, float]] = []
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            outputs.append(_one(task))
            if progress is not None:
                progress(1)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            for out in pool.map(_one, tasks, chunksize=1):
                outputs.append(out)
                if progress is not None:
                    progress(1)
    results: list[RunResult] = []
    at = 0
    for spec in specs:
        reps = outputs[at : at + spec.replications]
        at += spec.replications
        results.append(RunResult(spec=spec, per_replication=reps, summary=summarise(reps)))
    return results


def run(spec: RunSpec, *, jobs: int = 1, progress: Progress | None = None) -> RunResult:
    return run_many([spec], jobs=jobs, progress=progress)[0]
