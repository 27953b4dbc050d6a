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

Solved by column generation (``relax``): a year of referrals has about 250 possible start days
per episode (460,000 start columns for 2,000 episodes), but the LP uses few of them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse

from cartflow.scheduling.solver.highs import quiet_highs
from cartflow.scheduling.solver.milp import device_classes
from cartflow.scheduling.solver.network import IntArray, Network

FloatArray = npt.NDArray[np.float64]


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


WINDOW = 42  # start days per episode in the first restricted LP (from its earliest start)
ADD_PER_ROUND = 50_000  # most negative reduced-cost columns added per pricing round


def relax(net: Network, *, time_limit: float, window: int = WINDOW) -> Relaxation | None:
    """Solve the relaxation by column generation; None if no bound is proven in ``time_limit``.

    The restricted LP starts with each episode's first ``window`` start days (and every aggregated
    run column, see ``_Columns``); each round prices every other start column with the duals
    (reduced cost = cost - dual of the episode's row - dual of its run's link row), adds the
    negative ones and re-solves from the previous basis. Every round gives a valid bound,
    restricted value + sum over episodes of min(0, least reduced cost) (Lasdon, Optimization
    Theory for Large Systems, 1970; each episode's columns sum to at most one);
    when no column prices out, that is the full LP's optimum. The best bound is returned, with
    the last round's solution for the alpha-points.
    """
    entered = time.perf_counter()
    cols = _Columns(net, window)
    h = quiet_highs()
    h.passModel(cols.initial_lp())
    h.setOptionValue("threads", 1)
    # Measured on a year of referrals (docs/scheduling.md): presolve costs more than it saves.
    h.setOptionValue("presolve", "off")
    best = -float("inf")
    while True:
        left = float(time_limit) - (time.perf_counter() - entered)
        h.setOptionValue("time_limit", max(0.1, left))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        value = float(h.getInfo().objective_function_value)
        dual = np.asarray(h.getSolution().row_dual)
        rc = cols.reduced_costs(dual)
        best = max(best, value + cols.lagrangian_slack(rc))
        add = np.flatnonzero(rc < -1e-7)
        if add.size == 0 or time.perf_counter() - entered > 0.8 * time_limit:
            break
        if add.size > ADD_PER_ROUND:
            add = add[np.argpartition(rc[add], ADD_PER_ROUND)[:ADD_PER_ROUND]]
        cols.add(h, add)
    if best == -float("inf"):
        return None
    values = np.asarray(h.getSolution().col_value)
    starts: dict[int, list[tuple[int, float]]] = defaultdict(list)
    served: dict[int, float] = defaultdict(float)
    for col, cand in enumerate(cols.in_model_order):
        v = float(values[cols.first_x + col])
        if v > 1e-9:
            j = int(cols.episode[cand])
            starts[j].append((int(cols.day[cand]), v))
            served[j] += v
    return Relaxation(best, dict(starts), dict(served))


class _Columns:
    """The LP's rows and columns, built with numpy.

    Rows: one per schedulable episode (= 1), one link row per (group, day), device rows per
    (class, day), QC rows per (site, day). Runs of one length and QC time on one device class
    form a group g; column S[g, m] counts the runs of g starting on day m and carries the
    device and QC rows, and each start column x[j, g, m] enters only its episode's row and
    the link row ``sum x - S[g, m] = 0``. The LP is the same as with the capacity rows on each
    start column (S is a substitution), with two instead of about fourteen non-zeros per start
    column. The fixed columns (S, started work, unscheduled) are all in the first LP; start
    columns are candidates (``episode``, ``day``, ``cost``, ``row``, ``link``) that enter when
    they price out.
    """

    def __init__(self, net: Network, window: int) -> None:
        self.net = net
        hz = net.horizon
        classes = device_classes(net)
        cls_cap = [net.device_free[devs].sum(axis=0) for _, devs in classes]
        # blocked[k][t]: days before t on which class k has no free device.
        blocked = [np.concatenate(([0], np.cumsum(cap <= 0))) for cap in cls_cap]
        ship = np.array([net.next_ship(t) for t in range(hz + 64)], dtype=np.int64)
        groups: dict[tuple[int, int, int], int] = {}  # (class, run days, QC days) -> g
        cand: list[tuple[int, int, IntArray, FloatArray, int]] = []  # episode, row, m, cost, g
        fixed_rows: list[int] = []
        fixed_costs: list[float] = []
        self.offset = 0.0
        n_assign = 0
        for j, e in enumerate(net.episodes):
            if not e.schedulable:
                self.offset += e.unscheduled_cost
                continue
            row, n_assign = n_assign, n_assign + 1
            fixed_rows.append(row)
            fixed_costs.append(float(e.unscheduled_cost))
            if e.fixed_start is not None:
                fixed_rows.append(row)
                fixed_costs.append(float(e.costs[e.infusion_lo]))
                continue
            for so in e.sites:
                length, qc_days = so.manufacturing_days, so.qc_days
                m = np.arange(so.start_lo, so.start_hi + 1, dtype=np.int64)
                qc_ok = net.qc[so.site, m + length + qc_days] > 0
                cost = e.costs[ship[m + length + qc_days] + so.transit_out].astype(np.float64)
                for k, (site, _) in enumerate(classes):
                    if site == so.site:
                        ok = qc_ok & (blocked[k][m + length] == blocked[k][m])
                        g = groups.setdefault((k, length, qc_days), len(groups))
                        cand.append((j, row, m[ok], cost[ok], g))
        self.n_assign = n_assign
        self.fixed_rows = np.array(fixed_rows, dtype=np.int64)
        self.fixed_costs = np.array(fixed_costs, dtype=np.float64)
        size = [len(m) for _, _, m, _, _ in cand]
        self.episode = np.repeat(np.array([c[0] for c in cand], dtype=np.int64), size)
        self.row = np.repeat(np.array([c[1] for c in cand], dtype=np.int64), size)
        self.day = np.concatenate([c[2] for c in cand]) if cand else np.zeros(0, np.int64)
        self.cost = np.concatenate([c[3] for c in cand]) if cand else np.zeros(0)
        group = np.repeat(np.array([c[4] for c in cand], dtype=np.int64), size)
        # S columns and link rows for every (group, day) some start column can use.
        keys = group * hz + self.day
        used = np.unique(keys)
        self.link = n_assign + np.searchsorted(used, keys)
        info = sorted(groups, key=groups.__getitem__)
        g_of, m_of = used // hz, used % hz
        self.g_class = np.array([k for k, _, _ in info], dtype=np.int64)[g_of]
        self.g_len = np.array([n for _, n, _ in info], dtype=np.int64)[g_of]
        self.g_qc = np.array([q for _, _, q in info], dtype=np.int64)[g_of]
        self.m_of = m_of
        self.n_s = len(used)
        self.dev_base = n_assign + self.n_s
        self.qc_base = self.dev_base + len(classes) * hz
        self.n_rows = self.qc_base + len(net.site_ids) * hz
        self.site_of_class = np.array([site for site, _ in classes], dtype=np.int64)
        self.cls_cap = cls_cap
        self.first_x = len(fixed_costs) + self.n_s
        lows = np.array([c[2][0] if len(c[2]) else 0 for c in cand], dtype=np.int64)
        first = np.repeat(lows, size)
        self.in_model = self.day <= first + window
        self.in_model_order: list[int] = [int(c) for c in np.flatnonzero(self.in_model)]

    def initial_lp(self) -> highspy.HighsLp:
        net, hz = self.net, self.net.horizon
        n_fixed, n_s = len(self.fixed_costs), self.n_s
        x = np.array(self.in_model_order, dtype=np.int64)
        s_col = n_fixed + np.arange(n_s)
        run = np.repeat(np.arange(n_s), self.g_len)
        within = np.arange(len(run)) - np.repeat(np.cumsum(self.g_len) - self.g_len, self.g_len)
        x_col = self.first_x + np.arange(len(x))
        rows = [
            self.fixed_rows,
            self.n_assign + np.arange(n_s),
            self.dev_base + self.g_class[run] * hz + self.m_of[run] + within,
            self.qc_base
            + self.site_of_class[self.g_class] * hz
            + self.m_of
            + self.g_len
            + self.g_qc,
            self.row[x],
            self.link[x],
        ]
        cols = [np.arange(n_fixed), s_col, s_col[run], s_col, x_col, x_col]
        vals = [
            np.ones(n_fixed),
            -np.ones(n_s),
            np.ones(len(run)),
            np.ones(n_s),
            np.ones(len(x)),
            np.ones(len(x)),
        ]
        n_cols = self.first_x + len(x)
        matrix = sparse.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n_rows, n_cols),
        )
        inf = highspy.kHighsInf
        lower = np.full(self.n_rows, -inf)
        upper = np.zeros(self.n_rows)
        lower[: self.n_assign] = upper[: self.n_assign] = 1.0
        lower[self.n_assign : self.dev_base] = 0.0
        if self.cls_cap:
            upper[self.dev_base : self.qc_base] = np.concatenate(self.cls_cap)
        upper[self.qc_base :] = net.qc.reshape(-1)
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = np.concatenate([self.fixed_costs, np.zeros(n_s), self.cost[x]])
        lp.col_lower_ = np.zeros(n_cols)
        lp.col_upper_ = np.concatenate([np.ones(n_fixed), np.full(n_s, inf), np.ones(len(x))])
        lp.row_lower_ = lower
        lp.row_upper_ = upper
        lp.offset_ = self.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(np.float64)
        return lp

    def reduced_costs(self, dual: FloatArray) -> FloatArray:
        """Reduced cost of every start column not in the LP (+inf for those in it)."""
        rc = self.cost - dual[self.row] - dual[self.link]
        rc[self.in_model] = np.inf
        return rc

    def lagrangian_slack(self, rc: FloatArray) -> float:
        """Sum over episodes of min(0, least reduced cost of its columns outside the LP)."""
        worst = np.zeros(self.n_assign)
        np.minimum.at(worst, self.row, np.minimum(rc, 0.0))
        return float(worst.sum())

    def add(self, h: highspy.Highs, cands: IntArray) -> None:
        n = len(cands)
        starts = np.arange(0, 2 * n, 2, dtype=np.int32)
        index = np.empty(2 * n, dtype=np.int32)
        index[0::2] = self.row[cands]
        index[1::2] = self.link[cands]
        h.addCols(n, self.cost[cands], np.zeros(n), np.ones(n), 2 * n, starts, index,
                  np.ones(2 * n))  # fmt: skip
        self.in_model[cands] = True
        self.in_model_order.extend(int(c) for c in cands)
