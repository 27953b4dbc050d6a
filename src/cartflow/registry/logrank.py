"""Log-rank (Mantel-Haenszel) test that two or more survival curves are equal.

Sources: Mantel N. Cancer Chemother Rep 1966;50:163-170; Peto R, Peto J. JRSS A 1972;135:185-207;
the statistic is R `survival::survdiff` with rho = 0 (Harrington & Fleming 1982 G-rho family).
At each distinct event time t_j with n_j at risk (n_gj in group g) and d_j events:

    E_g = sum_j n_gj d_j / n_j
    V_gh = sum_j d_j (n_j - d_j) / (n_j - 1) * (n_gj / n_j) * (delta_gh - n_hj / n_j)

and chi-square = U' V^- U with U = O - E, on (number of groups with E > 0) - 1 degrees of
freedom, the first group dropped as in survdiff. Ties are handled by the hypergeometric variance
term above, never broken. Hand-written (30 lines of numpy) because lifelines' `logrank_test`
covers only two groups and `multivariate_logrank_test` returns no observed/expected table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.registry.event_table import INPUT_ERROR_CODE, survival_data


@dataclass(frozen=True)
class LogRankResult:
    """survdiff's table: per group n, observed and expected events; then the test."""

    groups: tuple[str, ...]
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    chisq: float
    df: int
    p_value: float


def logrank_test(time: npt.ArrayLike, event: npt.ArrayLike, group: npt.ArrayLike) -> LogRankResult:
    """Log-rank test across the groups in `group` (labels compared as strings, sorted)."""
    data = survival_data(time, event, max_cause=1)
    labels = np.asarray(group).astype(str).reshape(-1)
    if labels.shape[0] != data.n:
        raise InvalidInput(
            _(
                "group has {groups} values but time has {times}",
                groups=labels.shape[0],
                times=data.n,
            ),
            code=INPUT_ERROR_CODE,
            field="group",
        )
    names, codes = np.unique(labels, return_inverse=True)
    k = names.shape[0]
    if k < 2:
        raise InvalidInput(
            _("the log-rank test needs at least two groups"), code=INPUT_ERROR_CODE, field="group"
        )
    times, time_index = np.unique(data.time, return_inverse=True)
    m = times.shape[0]
    cell = time_index * k + codes
    leaving = np.bincount(cell, minlength=m * k).reshape(m, k)
    dying = np.bincount(cell, weights=data.event, minlength=m * k).reshape(m, k)
    # Subjects at risk at t_j are those leaving at t_j or later: a reversed cumulative sum.
    at_risk = np.cumsum(leaving[::-1], axis=0)[::-1].astype(np.float64)
    n_j = at_risk.sum(axis=1)
    d_j = dying.sum(axis=1)
    keep = d_j > 0
    at_risk, n_j, d_j, dying = at_risk[keep], n_j[keep], d_j[keep], dying[keep]
    share = at_risk / n_j[:, None]
    observed = dying.sum(axis=0)
    expected = (share * d_j[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n_j > 1, d_j * (n_j - d_j) / (n_j - 1), 0.0)
    variance = np.diag((weight[:, None] * share).sum(axis=0)) - (share * weight[:, None]).T @ share
    diff = (observed - expected)[1:]
    reduced = variance[1:, 1:]
    chisq = float(diff @ np.linalg.pinv(reduced) @ diff)
    df = int((expected > 0).sum()) - 1
    p_value = float(chi2.sf(chisq, df)) if df > 0 else float("nan")
    return LogRankResult(
        groups=tuple(str(name) for name in names),
        n=tuple(int(c) for c in np.bincount(codes, minlength=k)),
        observed=tuple(float(v) for v in observed),
        expected=tuple(float(v) for v in expected),
        chisq=chisq,
        df=df,
        p_value=p_value,
    )
