"""Alternative exact model in CP-SAT (OR-Tools), kept to measure against the HiGHS MILP.

Intervals per episode: its run on one device class (optional, one per class of each licensed
site), one-day intervals for its apheresis chair, QC release and infusion bed; a cumulative per
class, site and center, with fixed intervals taking away capacity already used or unavailable.
The courier calendar enters through an element constraint (release day -> first shipping day).
Seeded with the complete greedy plan as a hint, as the reference measurements advise (partial
hints gave no solution there). docs/scheduling.md records why the MILP is the default.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from cartflow.scheduling.solver.greedy import Booking
from cartflow.scheduling.solver.milp import assign_devices, device_classes
from cartflow.scheduling.solver.network import IntArray, Network


@dataclass(frozen=True)
class CpSatResult:
    bookings: list[Booking] | None
    objective: float | None
    bound: float | None
    status: str


def _cumulative(
    model: cp_model.CpModel,
    intervals: list[cp_model.IntervalVar],
    capacity: IntArray,
) -> None:
    """Cumulative with a day-varying capacity: fixed unit intervals fill the missing room."""
    top = int(capacity.max()) if capacity.size else 0
    demands = [1] * len(intervals)
    for t, cap in enumerate(capacity):
        if cap < top:
            intervals.append(model.new_fixed_size_interval_var(t, 1, f"cap_{t}"))
            demands.append(top - int(max(cap, 0)))
    if intervals:
        model.add_cumulative(intervals, demands, top)


def solve_cpsat(
    net: Network, *, time_limit: float, seed: int, workers: int = 2, hint: list[Booking] | None
) -> CpSatResult:
    """Solve with CP-SAT (``time_limit`` covers building the model); the bound is CP-SAT's own,
    weak for sum objectives (see docs)."""
    entered = time.perf_counter()
    h = net.horizon
    model = cp_model.CpModel()
    classes = device_classes(net)
    cls_cap = [net.device_free[devs].sum(axis=0) for _, devs in classes]
    ship_table = [net.next_ship(t) for t in range(h + 1)]
    runs: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
    chairs: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
    qc: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
    beds: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
    terms: list[cp_model.LinearExprT] = []
    offset = 0
    late_weight = net.instance.weights.late_per_day
    vars_of: dict[int, dict[str, cp_model.IntVar]] = {}
    choice: dict[tuple[int, int], cp_model.IntVar] = {}
    for j, e in enumerate(net.episodes):
        if not e.schedulable:
            offset += e.unscheduled_cost
            continue
        p = e.order.priority
        on = model.new_bool_var(f"on{j}")
        inf = model.new_int_var(0, h - 1, f"i{j}")
        wait = model.new_int_var(0, 10 * h, f"w{j}")
        late = model.new_int_var(0, 10 * h, f"l{j}")
        model.add(wait >= inf - e.ready).only_enforce_if(on)
        model.add(late >= inf - e.latest).only_enforce_if(on)
        terms += [p * wait, late_weight * p * late, e.unscheduled_cost * (1 - on)]
        beds[e.center].append(model.new_optional_fixed_size_interval_var(inf, 1, on, f"b{j}"))
        so0 = e.sites[0]
        if e.fixed_start is not None:
            vars_of[j] = {"on": on, "i": inf}
            model.add(inf >= net.earliest_infusion(so0, e.fixed_start)).only_enforce_if(on)
            continue
        begin = model.new_int_var(min(s.start_lo for s in e.sites), h - 1, f"m{j}")
        release = model.new_int_var(0, h - 1, f"r{j}")
        ship = model.new_int_var(0, ship_table[-1], f"s{j}")
        model.add(release == begin + so0.manufacturing_days + so0.qc_days)
        model.add_element(release, ship_table, ship)
        vars_of[j] = {"on": on, "i": inf, "m": begin}
        apheresis = model.new_int_var_from_domain(
            cp_model.Domain.from_values([int(a) for a in e.apheresis_days]), f"a{j}"
        )
        vars_of[j]["a"] = apheresis
        if e.fixed_apheresis is None:
            chairs[e.center].append(
                model.new_optional_fixed_size_interval_var(apheresis, 1, on, f"c{j}")
            )
        picks = []
        for so in e.sites:
            for k, (site, _) in enumerate(classes):
                if site != so.site:
                    continue
                pick = model.new_bool_var(f"x{j}_{k}")
                choice[(j, k)] = pick
                picks.append(pick)
                model.add(begin >= so.start_lo).only_enforce_if(pick)
                model.add(begin <= so.start_hi).only_enforce_if(pick)
                model.add(begin >= apheresis + so.transit_in).only_enforce_if(pick)
                model.add(inf >= ship + so.transit_out).only_enforce_if(pick)
                runs[k].append(
                    model.new_optional_fixed_size_interval_var(
                        begin, so.manufacturing_days, pick, f"run{j}_{k}"
                    )
                )
                qc[site].append(model.new_optional_fixed_size_interval_var(release, 1, pick, "q"))
        model.add(sum(picks) == on)
    for k, ivs in runs.items():
        _cumulative(model, ivs, cls_cap[k])
    for c, ivs in chairs.items():
        _cumulative(model, ivs, net.chairs[c])
    for s, ivs in qc.items():
        _cumulative(model, ivs, net.qc[s])
    for c, ivs in beds.items():
        _cumulative(model, ivs, net.beds[c])
    model.minimize(sum(terms) + offset)
    if hint is not None:
        _hint(net, model, classes, vars_of, choice, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.perf_counter() - entered))
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    name = solver.status_name(status)
    bound = solver.best_objective_bound if math.isfinite(solver.best_objective_bound) else None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpSatResult(None, None, bound, name)
    return CpSatResult(
        _extract(net, solver, classes, vars_of, choice), solver.objective_value, bound, name
    )


def _hint(
    net: Network,
    model: cp_model.CpModel,
    classes: list[tuple[int, list[int]]],
    vars_of: dict[int, dict[str, cp_model.IntVar]],
    choice: dict[tuple[int, int], cp_model.IntVar],
    start: list[Booking],
) -> None:
    cls_of = {d: k for k, (_, devs) in enumerate(classes) for d in devs}
    booked = {b.episode: b for b in start}
    for j, v in vars_of.items():
        b = booked.get(j)
        model.add_hint(v["on"], b is not None)
        if b is not None:
            model.add_hint(v["i"], b.infusion)
            if "m" in v:
                model.add_hint(v["m"], b.start)
            if "a" in v:
                model.add_hint(v["a"], b.apheresis)
        for (jj, k), pick in choice.items():
            if jj == j:
                model.add_hint(pick, b is not None and cls_of[b.device] == k)


def _extract(
    net: Network,
    solver: cp_model.CpSolver,
    classes: list[tuple[int, list[int]]],
    vars_of: dict[int, dict[str, cp_model.IntVar]],
    choice: dict[tuple[int, int], cp_model.IntVar],
) -> list[Booking]:
    runs: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    picked: dict[int, int] = {}
    for (j, k), pick in choice.items():
        if solver.value(pick):
            picked[j] = k
            e = net.episodes[j]
            so = next(s for s in e.sites if s.site == classes[k][0])
            runs[k].append((solver.value(vars_of[j]["m"]), so.manufacturing_days, j))
    device_of = assign_devices(net, classes, runs, None)
    out = []
    for j, v in vars_of.items():
        if not solver.value(v["on"]):
            continue
        e = net.episodes[j]
        if e.fixed_start is not None and e.fixed_device is not None:
            out.append(
                Booking(j, int(e.apheresis_days[0]), e.sites[0].site, e.fixed_device,
                        e.fixed_start, solver.value(v["i"]))
            )  # fmt: skip
            continue
        k = picked[j]
        out.append(
            Booking(j, solver.value(v["a"]), classes[k][0], device_of[j],
                    solver.value(v["m"]), solver.value(v["i"]))
        )  # fmt: skip
    return out
