"""One entry point for planning: ``solve(instance, method=..., time_limit=..., seed=...)``.

``greedy`` returns the priority dispatcher's plan and ``fcfs`` the first-come-first-served one
(fcfs.py), both with the trivial bound (each episode alone on the network). ``exact``:
1. solves the device-and-QC LP relaxation (bounds.py): a proven bound, and alpha-point orders
   for the dispatcher; the best of the priority, first-come and LP-guided dispatches is the
   start;
2. when the full time-indexed MILP is small enough to solve (``FULL_MILP_COLUMNS``): on a
   normal load that MILP in HiGHS (milp.py), warm-started with the start plan; in overload
   (``Network.load() > OVERLOAD``) CP-SAT hinted with it instead, because there HiGHS spends
   the budget on its root LP and finds few plans (docs/scheduling.md);
   otherwise (a year of referrals) a large-neighbourhood search over time blocks, each a small
   MILP (lns.py);
3. returns the best validated plan with bound max(trivial, LP, full MILP).
``cpsat`` is CP-SAT hinted with the priority dispatch, kept for measurement. If a solver fails,
the dispatcher's plan comes back with status ``fallback``. Every plan returned has been through
``validate``. Re-planning (``previous``) skips the LP step to stay within its few seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from cartflow.scheduling.solver.bounds import Relaxation, relax
from cartflow.scheduling.solver.cpsat import CpSatResult, solve_cpsat
from cartflow.scheduling.solver.fcfs import fcfs_bookings
from cartflow.scheduling.solver.greedy import (
    Booking,
    dispatchable,
    greedy_bookings,
    plan_cost,
    to_plan,
)
from cartflow.scheduling.solver.lns import improve
from cartflow.scheduling.solver.milp import MilpResult, solve_milp
from cartflow.scheduling.solver.model import Assignment, Instance, Plan
from cartflow.scheduling.solver.network import Network
from cartflow.scheduling.solver.validate import validate

Method = Literal["greedy", "fcfs", "exact", "cpsat"]
METHODS: tuple[str, ...] = ("greedy", "fcfs", "exact", "cpsat")
OVERLOAD = 1.0  # Network.load() above which "exact" plans with CP-SAT (see docs/scheduling.md)
# Above this many columns the full MILP is not built (docs/scheduling.md): the 300-episode 120-day
# instance (58,620 columns) took 13.5 s for its root LP alone; a year of 600 referrals has 380,000.
FULL_MILP_COLUMNS = 60_000


ALPHAS = (0.0, 0.3, 0.5, 0.7, 1.0)


def _lp_guided(
    net: Network, relaxed: Relaxation, bookings: list[Booking], deadline: float
) -> tuple[list[Booking], str]:
    """The best of the priority, first-come and LP alpha-point dispatches (alpha 0, then the
    others while ``deadline``, a ``time.perf_counter`` value, allows: on 2,000 episodes each
    takes a second)."""
    best, best_cost, label = bookings, plan_cost(net, bookings), "priority"
    arrival = fcfs_bookings(net)
    if plan_cost(net, arrival) < best_cost:
        best, best_cost, label = arrival, plan_cost(net, arrival), "first-come"
    tried: list[list[int]] = []
    for alpha in ALPHAS:
        if tried and time.perf_counter() > deadline:
            break
        order = relaxed.alpha_order(dispatchable(net), alpha)
        if order in tried:  # a nearly integral LP gives the same order for every alpha
            continue
        tried.append(order)
        trial = greedy_bookings(net, order=order)
        cost = plan_cost(net, trial)
        if cost < best_cost:
            best, best_cost, label = trial, cost, f"alpha {alpha:g}"
    return best, f"start: {label} dispatch ({best_cost}); "


def full_columns(net: Network) -> int:
    """About how many columns the full MILP would have (apheresis, start and infusion days)."""
    total = 0
    for e in net.episodes:
        if e.schedulable:
            total += len(e.apheresis_days) + net.horizon - e.infusion_lo
            total += sum(so.start_hi - so.start_lo + 1 for so in e.sites)
    return total


def _focus(net: Network, previous: Mapping[str, Assignment]) -> int | None:
    """Where a re-plan starts its search: the earliest start of an episode without a booking."""
    lows = [
        so.start_lo
        for e in net.episodes
        if e.order.id not in previous and e.fixed_start is None
        for so in e.sites
    ]
    return min(lows, default=None)


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
    if method == "fcfs":
        arrival = to_plan(
            net,
            fcfs_bookings(net, previous),
            method="fcfs",
            status="heuristic",
            lower_bound=trivial,
            started=started,
            seed=seed,
        )
        if _checked(instance, arrival) is None:  # pragma: no cover - a dispatcher bug
            raise RuntimeError("the first-come-first-served plan failed validation")
        return arrival
    bookings = greedy_bookings(net, previous)
    greedy = to_plan(
        net, bookings, method="greedy", status="heuristic", lower_bound=trivial, started=started
    )
    greedy = replace(greedy, seed=seed)
    if _checked(instance, greedy) is None:  # pragma: no cover - a dispatcher bug
        raise RuntimeError("the greedy plan failed validation")
    if method == "greedy":
        return greedy
    if method not in ("exact", "cpsat"):  # pragma: no cover - Method has no other value
        raise ValueError(f"unknown method {method!r}")

    # Leave some of the budget for extracting and validating the plan; a re-plan's budget is a
    # promise to a coordinator (5 s), so it keeps more spare for a machine busier than measured.
    share = 0.7 if previous is not None else 0.95

    def left() -> float:
        return max(0.5, share * time_limit - 0.2 - (time.perf_counter() - started))

    res: MilpResult | CpSatResult
    full = full_columns(net) <= FULL_MILP_COLUMNS
    relaxed = None
    start = bookings
    note = ""
    try:
        if method == "cpsat":
            if previous is not None:
                raise ValueError("re-planning uses the greedy or the exact (HiGHS) method")
            res = solve_cpsat(net, time_limit=left(), seed=seed, hint=bookings)
            size = f"CP-SAT: {res.status}"
        else:
            if previous is None:
                relaxed = relax(net, time_limit=0.5 * left())
                if relaxed is not None:
                    start, note = _lp_guided(net, relaxed, bookings, started + 0.3 * time_limit)
            if not full:
                search = improve(
                    net,
                    start,
                    deadline=started + min(share, 0.9) * time_limit - 0.3,
                    seed=seed,
                    previous=previous,
                    move_penalty=move_penalty,
                    focus=_focus(net, previous) if previous is not None else None,
                )
                res = MilpResult(search.bookings, search.cost, None, "LNS", 0, 0)
                size = (
                    f"large: {search.blocks} MILP blocks, {search.improved} improved "
                    f"(full MILP about {full_columns(net)} columns)"
                )
            elif previous is None and net.load() > OVERLOAD:
                # Measured (docs/scheduling.md): in overload the full MILP's root LP takes most
                # of the budget and HiGHS finds few plans; CP-SAT's search improves the start.
                res = solve_cpsat(net, time_limit=left(), seed=seed, hint=start)
                size = f"overloaded (load {net.load():.2f}): CP-SAT {res.status}"
            else:
                res = solve_milp(
                    net,
                    time_limit=left(),
                    seed=seed,
                    start=start,
                    previous=previous,
                    move_penalty=move_penalty,
                )
                size = f"{res.columns} columns, {res.rows} rows; HiGHS: {res.status}"
    except (RuntimeError, MemoryError) as exc:
        return replace(
            greedy,
            method=method,
            status="fallback",
            message=f"solver failed: {exc}",
            seconds=time.perf_counter() - started,
        )
    size = note + size
    if start is not bookings:
        guided = to_plan(
            net, start, method=method, status="feasible", lower_bound=trivial, started=started
        )
        if _checked(instance, guided) is None:  # pragma: no cover - a dispatcher bug
            raise RuntimeError("the LP-guided plan failed validation")
        greedy = guided
    bound = None
    if previous is None:
        bound = trivial
        for value in (res.bound, relaxed.bound if relaxed is not None else None):
            if value is not None:
                # Integer costs: round the (floating) bound up, less a relative tolerance.
                bound = max(bound, math.ceil(value - 1e-6 * (1.0 + abs(value))))
    best = greedy
    if res.bookings is not None:
        plan = to_plan(
            net,
            res.bookings,
            method=method,
            status="feasible",
            lower_bound=bound,
            started=started,
            seed=seed,
        )
        checked = _checked(instance, plan)
        if checked is None:  # pragma: no cover - a model bug: never hand out an invalid plan
            return replace(
                greedy,
                method=method,
                status="fallback",
                seconds=time.perf_counter() - started,
                message=f"the solver's plan failed validation; {size}",
            )
        if checked.objective <= greedy.objective or previous is not None:
            best = checked
    proven = bound is not None and best.objective <= bound
    return replace(
        best,
        method=method,
        status="optimal" if proven else "feasible",
        lower_bound=bound,
        seconds=time.perf_counter() - started,
        seed=seed,
        message=size,
    )
