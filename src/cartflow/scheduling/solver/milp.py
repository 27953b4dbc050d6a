"""Exact method: a time-indexed MILP solved by HiGHS (highspy), warm-started from the greedy plan.

Variables (binary unless said), for each episode j:
- x[j, k, m]: manufacturing starts on day m on a device of class k (a class is the devices of one
  site that share their mid-horizon outages; see ``device_classes``);
- y[j, a]: apheresis on day a;  z[j, i]: infusion on day i, costing ``costs[i]``;
- u[j] in [0, 1]: unscheduled, costing U * priority.
Rows: sum x + u = sum y + u = sum z + u = 1; sum (m - transit_in) x >= sum a y (material arrives
before the start); sum i z >= sum earliest_infusion(m) x; per class and day, batches running <=
free devices; per site and day, releases <= QC capacity; per center and day, apheresis <= chairs
and infusions <= beds. Start days that cannot fit (no free device for the whole run, no QC
release that day) are not generated.

Aggregating identical devices into classes is exact: within a class, devices differ only in how
long they stay busy with work already started (a prefix of the horizon), so a day-by-day sweep
in start order always finds a free device for each batch (``assign_devices``). The two linking
rows are aggregated (one each per episode) to keep the model small: integer solutions are exact,
and the LP bound comes mostly from the device rows, i.e. the time-indexed relaxation for weighted
completion times (Goemans, Queyranne, Schulz, Skutella and Wang, SIAM J Discrete Math
2002;15:165-192; for parallel machines Hall, Schulz, Shmoys and Wein, Math Oper Res 1997), which
the project's reference measurements found far stronger than CP-SAT's bound for sum objectives.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np
import numpy.typing as npt

from cartflow.scheduling.solver.greedy import Booking
from cartflow.scheduling.solver.highs import ColumnBuilder, quiet_highs
from cartflow.scheduling.solver.model import Assignment
from cartflow.scheduling.solver.network import BoolArray, EpisodeOptions, IntArray, Network


@dataclass(frozen=True)
class MilpResult:
    bookings: list[Booking] | None
    objective: float | None
    bound: float | None
    status: str
    columns: int
    rows: int


def device_classes(net: Network) -> list[tuple[int, list[int]]]:
    """Devices grouped by (site, unavailable days after the first free day)."""
    groups: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    for d in range(len(net.devices)):
        free = net.device_free[d]
        first = int(np.argmax(free)) if free.any() else net.horizon
        rest = tuple(int(t) for t in np.flatnonzero(~free[first:]) + first)
        groups[(int(net.device_site[d]), rest)].append(d)
    return [(site, devs) for (site, _), devs in sorted(groups.items())]


ANY = 1 << 30


@dataclass(frozen=True)
class Window:
    """The days an episode's columns may use (inclusive); the default is every day.

    ``around`` frees a neighbourhood of start days (for large-neighbourhood search, lns.py). A
    model with windows is a restriction of the problem: its plans are feasible, its dual bound
    is not a bound of the whole problem.
    """

    start_lo: int = -ANY
    start_hi: int = ANY
    apheresis_lo: int = -ANY
    apheresis_hi: int = ANY
    infusion_lo: int = -ANY
    infusion_hi: int = ANY

    SLACK = 7

    @classmethod
    def around(
        cls, net: Network, e: EpisodeOptions, lo: int, hi: int, now: Booking | None = None
    ) -> Window:
        """Starts in [lo, hi]; apheresis from a week before the earliest useful collection to
        the last one the window allows; infusion up to a week after the earliest infusion of
        the last start (room for bed capacity and couriers); and the dates of ``now``, the
        current booking, so that the current plan stays a solution."""
        if not e.sites:
            return cls()
        a_lo = lo - max(so.transit_in for so in e.sites) - cls.SLACK
        i_hi = max(net.earliest_infusion(so, hi) for so in e.sites) + cls.SLACK
        if now is not None:
            a_lo, i_hi = min(a_lo, now.apheresis), max(i_hi, now.infusion)
        return cls(
            start_lo=lo,
            start_hi=hi,
            apheresis_lo=a_lo,
            apheresis_hi=hi - min(so.transit_in for so in e.sites),
            infusion_hi=i_hi,
        )


FREE = Window()


def solve_milp(
    net: Network,
    *,
    time_limit: float,
    seed: int,
    start: list[Booking] | None = None,
    previous: Mapping[str, Assignment] | None = None,
    move_penalty: int = 0,
    windows: Mapping[int, Window] | None = None,
    held: Sequence[Booking] = (),
) -> MilpResult:
    """Solve the time-indexed MILP; ``previous`` + ``move_penalty`` price each changed date.

    ``time_limit`` covers building the model too. ``windows`` (episode -> ``Window``) restricts
    the listed episodes' days; ``held`` bookings keep their dates and are not modelled (their
    chair, device-days, QC release and bed are taken off the capacities; devices are named
    again for all runs, which keeps the sweep exact). Either makes the model a restriction of
    the problem, whose plans are feasible but whose bound is not a bound of the whole problem.
    """
    entered = time.perf_counter()
    inf = highspy.kHighsInf
    b = ColumnBuilder()
    classes = device_classes(net)
    chairs, beds, qc = net.chairs.copy(), net.beds.copy(), net.qc.copy()
    free = net.device_free.copy()
    held_cost = _hold(net, held, chairs, beds, qc, free)
    cls_cap: list[IntArray] = [free[devs].sum(axis=0) for _, devs in classes]
    # fits[k][m]: class k has a free device on every day of a run starting on m (any length).
    free_run: list[IntArray] = []
    for cap in cls_cap:
        run = np.zeros(net.horizon + 1, dtype=np.int64)
        for t in range(net.horizon - 1, -1, -1):
            run[t] = run[t + 1] + 1 if cap[t] > 0 else 0
        free_run.append(run)
    keys: list[tuple[str, int, int, int]] = []  # (kind, episode, class or site, day)
    inst = net.instance
    skip = {bk.episode for bk in held}
    for j, e in enumerate(net.episodes):
        if not e.schedulable or j in skip:
            continue
        prev = previous.get(e.order.id) if previous else None
        pen = float(move_penalty) if prev is not None else 0.0
        win = windows.get(j, FREE) if windows is not None else FREE
        rz = b.row(("z", j), 1, 1)
        u_entries = [(rz, 1.0)]
        if e.fixed_start is None:
            rx = b.row(("x", j), 1, 1)
            u_entries.append((rx, 1.0))
            ri = b.row(("li", j), 0, inf)
            ra = None
            if e.fixed_apheresis is None:
                ry = b.row(("y", j), 1, 1)
                ra = b.row(("la", j), 0, inf)
                u_entries.append((ry, 1.0))
                for a in e.apheresis_days:
                    a = int(a)
                    if not win.apheresis_lo <= a <= win.apheresis_hi:
                        continue
                    rc = b.row(("chair", e.center, a), -inf, float(chairs[e.center, a]))
                    moved = prev is not None and inst.day(prev.apheresis_date) != a
                    b.col(pen if moved else 0.0, [(ry, 1.0), (ra, -float(a)), (rc, 1.0)])
                    keys.append(("y", j, -1, a))
            for so in e.sites:
                for k, (site, _) in enumerate(classes):
                    if site != so.site:
                        continue
                    for m in range(
                        max(so.start_lo, win.start_lo), min(so.start_hi, win.start_hi) + 1
                    ):
                        r = m + so.manufacturing_days + so.qc_days
                        if free_run[k][m] < so.manufacturing_days or qc[site, r] <= 0:
                            continue
                        ent = [(rx, 1.0), (ri, -float(net.earliest_infusion(so, m)))]
                        if ra is not None:
                            ent.append((ra, float(m - so.transit_in)))
                        ent.append((b.row(("qc", site, r), -inf, float(qc[site, r])), 1.0))
                        for t in range(m, m + so.manufacturing_days):
                            ent.append((b.row(("dev", k, t), -inf, float(cls_cap[k][t])), 1.0))
                        moved = prev is not None and (
                            inst.day(prev.manufacturing_start) != m
                            or net.site_ids[site] != prev.site
                        )
                        b.col(pen if moved else 0.0, ent)
                        keys.append(("x", j, k, m))
        else:
            ri = None
        for i in range(max(e.infusion_lo, win.infusion_lo), min(net.horizon, win.infusion_hi + 1)):
            if beds[e.center, i] <= 0:
                continue
            ent = [(rz, 1.0), (b.row(("bed", e.center, i), -inf, float(beds[e.center, i])), 1.0)]
            if ri is not None:
                ent.append((ri, float(i)))
            moved = prev is not None and inst.day(prev.infusion_date) != i
            b.col(float(e.costs[i]) + (pen if moved else 0.0), ent)
            keys.append(("z", j, -1, i))
        b.col(float(e.unscheduled_cost), u_entries, integer=False)
        keys.append(("u", j, -1, -1))

    offset = held_cost + sum(e.unscheduled_cost for e in net.episodes if not e.schedulable)
    if not b.cost:  # everything held or unschedulable: nothing to decide
        nothing = np.zeros(0, dtype=np.float64)
        done = _extract(net, keys, classes, nothing, previous, held)
        return MilpResult(done, offset, offset, "Empty", 0, 0)
    h = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = len(b.cost)
    lp.num_row_ = len(b.row_lo)
    lp.col_cost_ = np.array(b.cost)
    # Held episodes and those that cannot fit anywhere have no column; their cost is a constant
    # (``offset``), added to HiGHS's objective and bound afterwards.
    lp.col_lower_ = np.zeros(len(b.cost))
    lp.col_upper_ = np.array(b.upper)
    lp.row_lower_ = np.array(b.row_lo)
    lp.row_upper_ = np.array(b.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(b.starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(b.index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(b.value)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
        for flag in b.integer
    ]
    h.passModel(lp)
    for name, value in (
        ("time_limit", max(0.1, time_limit - (time.perf_counter() - entered))),
        ("random_seed", int(seed)),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.999),  # integer costs: a gap below 1 proves optimality
        ("threads", 1),
    ):
        h.setOptionValue(name, value)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(_start_vector(net, keys, classes, start, len(b.cost)))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    bound = info.mip_dual_bound + offset if math.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != 2:  # 2: a feasible solution is known
        return MilpResult(None, None, bound, status, lp.num_col_, lp.num_row_)
    values = np.asarray(h.getSolution().col_value)
    bookings = _extract(net, keys, classes, values, previous, held)
    return MilpResult(
        bookings, info.objective_function_value + offset, bound, status, lp.num_col_, lp.num_row_
    )


def _hold(
    net: Network,
    held: Sequence[Booking],
    chairs: IntArray,
    beds: IntArray,
    qc: IntArray,
    free: BoolArray,
) -> float:
    """Take the held bookings' chair, device-days, QC release and bed off the capacities (in
    place); their cost."""
    cost = 0.0
    for bk in held:
        e = net.episodes[bk.episode]
        beds[e.center, bk.infusion] -= 1
        cost += float(e.costs[bk.infusion])
        if e.fixed_start is not None:
            continue  # its device-days and release are already off Network's tables
        so = next(s for s in e.sites if s.site == bk.site)
        free[bk.device, bk.start : bk.start + so.manufacturing_days] = False
        qc[so.site, bk.start + so.manufacturing_days + so.qc_days] -= 1
        if e.fixed_apheresis is None:
            chairs[e.center, bk.apheresis] -= 1
    return cost


def _start_vector(
    net: Network,
    keys: list[tuple[str, int, int, int]],
    classes: list[tuple[int, list[int]]],
    start: list[Booking],
    n: int,
) -> IntArray:
    cls_of = {d: k for k, (_, devs) in enumerate(classes) for d in devs}
    wanted: set[tuple[str, int, int, int]] = set()
    placed = set()
    for bk in start:
        placed.add(bk.episode)
        wanted.add(("y", bk.episode, -1, bk.apheresis))
        wanted.add(("x", bk.episode, cls_of[bk.device], bk.start))
        wanted.add(("z", bk.episode, -1, bk.infusion))
    for j in range(len(net.episodes)):
        if j not in placed:
            wanted.add(("u", j, -1, -1))
    return np.array([1 if key in wanted else 0 for key in keys[:n]], dtype=np.int64)


def _extract(
    net: Network,
    keys: list[tuple[str, int, int, int]],
    classes: list[tuple[int, list[int]]],
    values: npt.NDArray[np.float64],
    previous: Mapping[str, Assignment] | None,
    held: Sequence[Booking],
) -> list[Booking]:
    chosen: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for key, v in zip(keys, values, strict=True):
        if v > 0.5 and key[0] != "u":
            chosen[key[1]][key[0]] = (key[2], key[3])
    runs: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # class -> (m, length, j)
    for j, parts in chosen.items():
        e = net.episodes[j]
        if e.fixed_start is None:
            k, m = parts["x"]
            so = next(s for s in e.sites if s.site == classes[k][0])
            runs[k].append((m, so.manufacturing_days, j))
    cls_of = {d: k for k, (_, devs) in enumerate(classes) for d in devs}
    for bk in held:
        e = net.episodes[bk.episode]
        if e.fixed_start is None:
            so = next(s for s in e.sites if s.site == bk.site)
            runs[cls_of[bk.device]].append((bk.start, so.manufacturing_days, bk.episode))
    current = {bk.episode: bk.device for bk in held}
    device_of = assign_devices(net, classes, runs, previous, current)
    bookings = [
        bk if bk.episode not in device_of else replace(bk, device=device_of[bk.episode])
        for bk in held
    ]
    for j, parts in chosen.items():
        e = net.episodes[j]
        infusion = parts["z"][1]
        if e.fixed_start is not None and e.fixed_device is not None:
            so = e.sites[0]
            bookings.append(
                Booking(
                    j, int(e.apheresis_days[0]), so.site, e.fixed_device, e.fixed_start, infusion
                )
            )
            continue
        k, m = parts["x"]
        a = parts["y"][1] if "y" in parts else int(e.apheresis_days[0])
        bookings.append(Booking(j, a, classes[k][0], device_of[j], m, infusion))
    return bookings


def assign_devices(
    net: Network,
    classes: list[tuple[int, list[int]]],
    runs: Mapping[int, list[tuple[int, int, int]]],
    previous: Mapping[str, Assignment] | None,
    current: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Name a device for each run, sweeping each class in start order (exact; module docstring).

    A run keeps its ``previous`` device (re-planning), else its ``current`` one (episode ->
    device; a held booking), where that device is free.
    """
    out: dict[int, int] = {}
    for k, items in runs.items():
        devs = classes[k][1]
        free: BoolArray = net.device_free[devs].copy()
        wish: dict[int, str] = {}
        for _, _, j in items:
            prev = previous.get(net.episodes[j].order.id) if previous else None
            if prev is not None:
                wish[j] = prev.device
            elif current is not None and j in current:
                wish[j] = net.devices[current[j]]
        for m, length, j in sorted(items):
            ok = [n for n in range(len(devs)) if free[n, m : m + length].all()]
            if not ok:
                raise RuntimeError(f"no free device for episode {j} on day {m} (class {k})")
            wanted = wish.pop(j, None)
            # Keep each run on its previous device when possible, and leave the devices that
            # later runs used before to them: fewer needless device swaps in a re-plan.
            taken = set(wish.values())
            name = [net.devices[d] for d in devs]
            pick = min(ok, key=lambda n: (name[n] != wanted, name[n] in taken, n))
            free[pick, m : m + length] = False
            out[j] = devs[pick]
    return out
