"""A fast lower bound, and its LP solution to guide the dispatcher (alpha-points).

It keeps one variable per (episode, device class, start day), the device and QC release rows and
the choice rows, and drops the apheresis chairs and infusion beds: each start day is priced at
the earliest infusion it allows. Dropping constraints and relaxing integrality can only lower the
optimum, so the LP value is a valid bound for every plan. Measured on the 300-episode instance
(docs/scheduling.md): within 0.3 % of the full MILP's root bound, in a quarter of its time; the
``exact`` method uses it as the bound when it gives its budget to CP-SAT on overloaded instances.

The LP solution also orders the dispatcher: an episode's alpha-point is the first start day by
which a fraction alpha of its (fractional) run has been started; list scheduling in alpha-point
order is the classic LP-based rule for weighted completion times (Hall, Schulz, Shmoys and Wein,
Math Oper Res 1997; Goemans et al. 2002). Episodes the LP mostly leaves out go last.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np

from cartflow.scheduling.solver.milp import ColumnBuilder, device_classes, quiet_highs
from cartflow.scheduling.solver.network import Network


@dataclass(frozen=True)
class Relaxation:
    bound: float
    starts: dict[int, list[tuple[int, float]]]  # episode -> [(start day, LP value)]
    served: dict[int, float]  # episode -> LP fraction scheduled

    def alpha_order(self, episodes: list[int], alpha: float) -> list[int]:
        """``episodes`` by alpha-point, those the LP serves less than half of last."""

        def point(k: int) -> int:
            mass = self.served.get(k, 0.0)
            seen = 0.0
            for m, v in sorted(self.starts.get(k, [])):
                seen += v
                if seen >= alpha * mass - 1e-9:
                    return m
            return 1 << 30

        return sorted(episodes, key=lambda k: (self.served.get(k, 0.0) < 0.5, point(k)))


def lp_bound(net: Network, *, time_limit: float) -> float | None:
    """The relaxation's optimum (None if HiGHS does not finish within ``time_limit``)."""
    relaxed = relax(net, time_limit=time_limit)
    return None if relaxed is None else relaxed.bound


def relax(net: Network, *, time_limit: float) -> Relaxation | None:
    """Solve the relaxation (None if HiGHS does not finish within ``time_limit``)."""
    inf = highspy.kHighsInf
    b = ColumnBuilder()
    classes = device_classes(net)
    cls_cap = [net.device_free[devs].sum(axis=0) for _, devs in classes]
    offset = 0.0
    keys: list[tuple[int, int]] = []  # (episode, start day) of each x column; -1: other column
    for j, e in enumerate(net.episodes):
        if not e.schedulable:
            offset += e.unscheduled_cost
            continue
        rx = b.row(("x", j), 1, 1)
        if e.fixed_start is not None:
            b.col(float(e.costs[e.infusion_lo]), [(rx, 1.0)], integer=False)
            keys.append((-1, -1))
        for so in e.sites if e.fixed_start is None else ():
            for k, (site, _) in enumerate(classes):
                if site != so.site:
                    continue
                for m in range(so.start_lo, so.start_hi + 1):
                    r = m + so.manufacturing_days + so.qc_days
                    days = range(m, m + so.manufacturing_days)
                    if net.qc[site, r] <= 0 or any(cls_cap[k][t] <= 0 for t in days):
                        continue
                    ent = [(rx, 1.0), (b.row(("qc", site, r), -inf, float(net.qc[site, r])), 1.0)]
                    ent += [(b.row(("dev", k, t), -inf, float(cls_cap[k][t])), 1.0) for t in days]
                    cost = float(e.costs[net.earliest_infusion(so, m)])
                    b.col(cost, ent, integer=False)
                    keys.append((j, m))
        b.col(float(e.unscheduled_cost), [(rx, 1.0)], integer=False)
        keys.append((-1, -1))
    h = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = len(b.cost)
    lp.num_row_ = len(b.row_lo)
    lp.col_cost_ = np.array(b.cost)
    lp.col_lower_ = np.zeros(len(b.cost))
    lp.col_upper_ = np.array(b.upper)
    lp.row_lower_ = np.array(b.row_lo)
    lp.row_upper_ = np.array(b.row_hi)
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(b.starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(b.index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(b.value)
    h.passModel(lp)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    starts: dict[int, list[tuple[int, float]]] = defaultdict(list)
    served: dict[int, float] = defaultdict(float)
    for (j, m), v in zip(keys, h.getSolution().col_value, strict=True):
        if j >= 0 and v > 1e-9:
            starts[j].append((m, float(v)))
            served[j] += float(v)
    return Relaxation(float(h.getInfo().objective_function_value), dict(starts), dict(served))
