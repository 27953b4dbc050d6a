"""A fast lower bound: the LP relaxation of the device-and-QC part of the time-indexed model.

It keeps one variable per (episode, device class, start day), the device and QC release rows and
the choice rows, and drops the apheresis chairs and infusion beds: each start day is priced at
the earliest infusion it allows. Dropping constraints and relaxing integrality can only lower the
optimum, so the LP value is a valid bound for every plan. Measured on the 300-episode instance
(docs/scheduling.md): within 0.3 % of the full MILP's root bound, in a quarter of its time; the
``exact`` method uses it when it gives its budget to CP-SAT on overloaded instances.
"""

from __future__ import annotations

import highspy
import numpy as np

from cartflow.scheduling.solver.milp import ColumnBuilder, device_classes, quiet_highs
from cartflow.scheduling.solver.network import Network


def lp_bound(net: Network, *, time_limit: float) -> float | None:
    """The relaxation's optimum (None if HiGHS does not finish within ``time_limit``)."""
    inf = highspy.kHighsInf
    b = ColumnBuilder()
    classes = device_classes(net)
    cls_cap = [net.device_free[devs].sum(axis=0) for _, devs in classes]
    offset = 0.0
    for j, e in enumerate(net.episodes):
        if not e.schedulable:
            offset += e.unscheduled_cost
            continue
        rx = b.row(("x", j), 1, 1)
        if e.fixed_start is not None:
            b.col(float(e.costs[e.infusion_lo]), [(rx, 1.0)], integer=False)
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
        b.col(float(e.unscheduled_cost), [(rx, 1.0)], integer=False)
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
    return float(h.getInfo().objective_function_value)
