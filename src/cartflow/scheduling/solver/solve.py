"""One entry point for planning: ``solve(instance, method=..., time_limit=..., seed=...)``.

``greedy`` returns the dispatcher's plan with the trivial bound (each episode alone on the
network). ``exact`` builds the time-indexed MILP (milp.py), warm-starts HiGHS with the greedy plan
and returns the better of the two plans with HiGHS's proven bound; if HiGHS fails or returns a
plan the validator rejects, the greedy plan comes back with status ``fallback``. Every returned
plan has been through ``validate``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from cartflow.scheduling.solver.greedy import greedy_bookings, to_plan
from cartflow.scheduling.solver.milp import solve_milp
from cartflow.scheduling.solver.model import Assignment, Instance, Plan
from cartflow.scheduling.solver.network import Network
from cartflow.scheduling.solver.validate import validate

Method = Literal["greedy", "exact"]
METHODS: tuple[str, ...] = ("greedy", "exact")


def _checked(instance: Instance, plan: Plan) -> Plan | None:
    report = validate(instance, plan)
    if not report.feasible or report.objective != plan.objective:
        return None
    return plan


def solve(
    instance: Instance,
    *,
    method: Method = "exact",
    time_limit: float = 30.0,
    seed: int = 0,
    previous: Mapping[str, Assignment] | None = None,
    move_penalty: int = 0,
) -> Plan:
    """Plan ``instance``. ``previous``/``move_penalty`` are for re-planning (see replan.py).

    With ``previous`` the greedy keeps every previous booking that still fits, and the exact
    method adds ``move_penalty`` per changed date (apheresis, start/site, infusion) of a
    previously planned episode; the reported ``lower_bound`` is then None, because HiGHS's bound
    is for the penalised objective.
    """
    started = time.perf_counter()
    net = Network(instance)
    trivial = net.trivial_bound()
    bookings = greedy_bookings(net, previous)
    greedy = to_plan(
        net, bookings, method="greedy", status="heuristic", lower_bound=trivial, started=started
    )
    greedy = replace(greedy, seed=seed)
    if _checked(instance, greedy) is None:  # pragma: no cover - a dispatcher bug
        raise RuntimeError("the greedy plan failed validation")
    if method == "greedy":
        return greedy
    if method != "exact":
        raise ValueError(f"unknown method {method!r}")
    remaining = max(1.0, time_limit - (time.perf_counter() - started))
    try:
        res = solve_milp(
            net,
            time_limit=remaining,
            seed=seed,
            start=bookings,
            previous=previous,
            move_penalty=move_penalty,
        )
    except (RuntimeError, MemoryError) as exc:
        return replace(
            greedy,
            method="exact",
            status="fallback",
            message=f"HiGHS failed: {exc}",
            seconds=time.perf_counter() - started,
        )
    bound = None
    if res.bound is not None and previous is None:
        bound = max(trivial, math.ceil(res.bound - 1e-6))
    elif previous is None:
        bound = trivial
    size = f"{res.columns} columns, {res.rows} rows; HiGHS: {res.status}"
    best = greedy
    if res.bookings is not None:
        plan = to_plan(
            net,
            res.bookings,
            method="exact",
            status="feasible",
            lower_bound=bound,
            started=started,
            seed=seed,
        )
        checked = _checked(instance, plan)
        if checked is None:  # pragma: no cover - a model bug: never hand out an invalid plan
            return replace(
                greedy,
                method="exact",
                status="fallback",
                seconds=time.perf_counter() - started,
                message=f"the MILP plan failed validation; {size}",
            )
        if checked.objective <= greedy.objective or previous is not None:
            best = checked
    proven = bound is not None and best.objective <= bound
    return replace(
        best,
        method="exact",
        status="optimal" if proven else "feasible",
        lower_bound=bound,
        seconds=time.perf_counter() - started,
        seed=seed,
        message=size,
    )
