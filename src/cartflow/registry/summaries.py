"""Per-group estimates and their stable JSON shape (the `cartflow registry km|cif --json` contract).

Shape, one entry per group (and per cause for cumulative incidence):
``{"groups": [{"name", "n", "events", "timeline", "estimate", "ci_lower", "ci_upper", "median",
"median_ci": [lo, hi]}]}`` plus ``"cause"`` for cumulative incidence. Undefined values (a limit
where S = 0, a median not reached) are JSON null. Without a group column the single group is named
"all". The same builders serve the CLI and, later, the HTTP API.
"""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
import numpy.typing as npt

from cartflow.registry.cif import IncidenceCurve, aalen_johansen_data
from cartflow.registry.event_table import SurvivalData, split_by_group, survival_data
from cartflow.registry.km import CIType, SurvivalCurve, kaplan_meier_data
from cartflow.registry.logrank import logrank_test

ALL_GROUP = "all"


class GroupSummary(TypedDict):
    name: str
    n: int
    events: int
    timeline: list[float]
    estimate: list[float | None]
    ci_lower: list[float | None]
    ci_upper: list[float | None]
    median: float | None
    median_ci: list[float | None]


class CauseSummary(GroupSummary):
    cause: int


class KMReport(TypedDict):
    groups: list[GroupSummary]


class CIFReport(TypedDict):
    groups: list[CauseSummary]


def _groups(data: SurvivalData, group: npt.ArrayLike | None) -> list[tuple[str, SurvivalData]]:
    if group is None:
        return [(ALL_GROUP, data)]
    return split_by_group(data, group)


def km_by_group(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: npt.ArrayLike | None = None,
    *,
    ci: CIType | str = "log",
    conf_level: float = 0.95,
) -> list[tuple[str, SurvivalCurve]]:
    """Kaplan-Meier curve per group (sorted by label), or one curve named "all"."""
    data = survival_data(time, event, max_cause=1)
    return [
        (name, kaplan_meier_data(subset, ci=ci, conf_level=conf_level))
        for name, subset in _groups(data, group)
    ]


def cif_by_group(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: npt.ArrayLike | None = None,
    *,
    conf_level: float = 0.95,
) -> list[tuple[str, tuple[IncidenceCurve, ...]]]:
    """Cumulative incidence of every cause per group; every group gets every cause in the data."""
    data = survival_data(time, event, max_cause=None)
    n_causes = max(int(data.event.max()), 1)
    return [
        (name, aalen_johansen_data(subset, n_causes=n_causes, conf_level=conf_level))
        for name, subset in _groups(data, group)
    ]


def _nullable(values: npt.NDArray[np.float64]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _summary(name: str, curve: SurvivalCurve | IncidenceCurve) -> GroupSummary:
    return GroupSummary(
        name=name,
        n=curve.n,
        events=curve.events,
        timeline=[float(t) for t in curve.timeline.tolist()],
        estimate=_nullable(curve.estimate),
        ci_lower=_nullable(curve.ci_lower),
        ci_upper=_nullable(curve.ci_upper),
        median=curve.median,
        median_ci=[curve.median_ci[0], curve.median_ci[1]],
    )


def km_report(curves: list[tuple[str, SurvivalCurve]]) -> KMReport:
    """The JSON-ready report for Kaplan-Meier curves from `km_by_group`."""
    return KMReport(groups=[_summary(name, curve) for name, curve in curves])


def cif_report(curves: list[tuple[str, tuple[IncidenceCurve, ...]]]) -> CIFReport:
    """The JSON-ready report for cumulative incidence curves from `cif_by_group`."""
    groups: list[CauseSummary] = []
    for name, per_cause in curves:
        for curve in per_cause:
            base = _summary(name, curve)
            groups.append(CauseSummary(**base, cause=curve.cause))
    return CIFReport(groups=groups)


class LogRankReport(TypedDict):
    groups: list[str]
    n: list[int]
    observed: list[float]
    expected: list[float]
    chisq: float
    df: int
    p_value: float | None


def logrank_report(
    time: npt.ArrayLike, event: npt.ArrayLike, group: npt.ArrayLike
) -> LogRankReport | None:
    """survdiff's table and test across the groups; None with fewer than two groups or no event
    (there is nothing to compare)."""
    labels = np.asarray(group).astype(str).reshape(-1)
    if np.unique(labels).shape[0] < 2 or not np.any(np.asarray(event, dtype=np.float64) > 0):
        return None
    result = logrank_test(time, event, labels)
    return LogRankReport(
        groups=list(result.groups),
        n=list(result.n),
        observed=list(result.observed),
        expected=list(result.expected),
        chisq=result.chisq,
        df=result.df,
        p_value=None if math.isnan(result.p_value) else result.p_value,
    )
