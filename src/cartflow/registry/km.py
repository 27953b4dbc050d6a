"""Kaplan-Meier survival with Greenwood variance and R-compatible confidence intervals.

Estimator: Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. JASA
1958;53:457-481: S(t) = prod_{t_j <= t} (1 - d_j / n_j).
Variance: Greenwood M. The natural duration of cancer. Rep Public Health Med Subj 1926;33:
Var log S(t) = sum_{t_j <= t} d_j / (n_j (n_j - d_j)).
Pointwise intervals exactly as R `survival::survfit` builds them (Therneau, `survfit_confint`;
Kalbfleisch & Prentice 2002, section 1.4; Klein & Moeschberger 2003, eqs. 4.3.1-4.3.3), with
z = qnorm(1 - (1 - conf_level) / 2):

- ``log`` (R's default, ``conf.type="log"``): S exp(-+ z se), upper limit capped at 1;
- ``log-log`` (lifelines, SAS, Stata): exp(-exp(log(-log S) -+ z se / log S));
- ``plain``: S (1 -+ z se), clipped to [0, 1];

where se = sqrt(Greenwood sum) is the standard error of log S. Where S = 0 the limits are
undefined (NaN, R's NA). Where S = 1 R leaves log-log limits NA; here they are 1, their limit as
the variance goes to 0, so that plots need no special case (quantiles are unaffected).
The median and its interval follow R's rule (see `r_quantile`).

Hand-written instead of lifelines' `KaplanMeierFitter` for two reasons: lifelines only offers the
log-log interval (R's default is log, which the registry reports against published R numbers), and
a vectorised numpy version is several times faster on 10^6 rows (benchmarks/km_benchmark.py).
lifelines is still used in the tests as an independent cross-check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.registry.event_table import (
    INPUT_ERROR_CODE,
    EventTable,
    FloatArray,
    IntArray,
    SurvivalData,
    event_table,
    survival_data,
)
from cartflow.registry.r_quantile import curve_quantile, step_quantile

CIType = Literal["log", "log-log", "plain"]
CI_TYPES: tuple[str, ...] = get_args(CIType)


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan-Meier curve at every distinct observed time (events and censorings), as R lists it."""

    timeline: FloatArray
    n_at_risk: IntArray
    n_events: IntArray
    n_censored: IntArray
    estimate: FloatArray
    std_err: FloatArray
    """Standard error of S(t) itself (R's `summary(fit)$std.err`)."""
    ci_lower: FloatArray
    ci_upper: FloatArray
    ci_type: CIType
    conf_level: float
    n: int
    events: int
    median: float | None
    median_ci: tuple[float | None, float | None]


def z_value(conf_level: float) -> float:
    """Two-sided normal quantile for `conf_level` (0.95 -> 1.959964...)."""
    if not 0 < conf_level < 1:
        raise InvalidInput(
            _("confidence level must be between 0 and 1, got {level}", level=conf_level),
            code=INPUT_ERROR_CODE,
            field="conf_level",
        )
    return float(norm.ppf(1 - (1 - conf_level) / 2))


def check_ci_type(ci: str) -> CIType:
    if ci == "log":
        return "log"
    if ci == "log-log":
        return "log-log"
    if ci == "plain":
        return "plain"
    raise InvalidInput(
        _(
            "unknown confidence interval transform {ci}: use one of {choices}",
            ci=repr(ci),
            choices=", ".join(CI_TYPES),
        ),
        code=INPUT_ERROR_CODE,
        field="ci",
    )


def survival_ci(
    surv: FloatArray, se_log: FloatArray, *, ci: CIType, z: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise limits for S from the standard error of log S (R's `survfit_confint`)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        defined = surv > 0
        if ci == "log":
            lower = np.where(defined, surv * np.exp(-z * se_log), np.nan)
            upper = np.where(defined, np.minimum(surv * np.exp(z * se_log), 1.0), np.nan)
        elif ci == "log-log":
            interior = defined & (surv < 1)
            log_s = np.log(np.where(interior, surv, 0.5))
            shift = z * se_log / log_s
            loglog = np.log(-log_s)
            lower = np.where(interior, np.exp(-np.exp(loglog - shift)), np.nan)
            upper = np.where(interior, np.exp(-np.exp(loglog + shift)), np.nan)
            lower = np.where(surv == 1, 1.0, lower)
            upper = np.where(surv == 1, 1.0, upper)
        else:
            half = z * se_log * surv
            lower = np.where(defined, np.maximum(surv - half, 0.0), np.nan)
            upper = np.where(defined, np.minimum(surv + half, 1.0), np.nan)
    return lower.astype(np.float64), upper.astype(np.float64)


def kaplan_meier_from_table(
    table: EventTable, *, ci: CIType = "log", conf_level: float = 0.95
) -> SurvivalCurve:
    """Kaplan-Meier curve from an already tabulated data set (all causes count as events)."""
    z = z_value(conf_level)
    deaths = table.all_events
    at_risk = table.at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        surv: FloatArray = np.cumprod(1.0 - deaths / at_risk).astype(np.float64)
        # Where everyone left dies (n == d) the Greenwood term is infinite, as in R.
        terms = np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0)
        se_log = np.sqrt(np.cumsum(terms))
        std_err = np.where(surv > 0, surv * se_log, np.nan)
    lower, upper = survival_ci(surv, se_log, ci=ci, z=z)
    median, median_low, median_high = curve_quantile(
        table.time, 1.0 - surv, 1.0 - lower, 1.0 - upper, 0.5
    )
    return SurvivalCurve(
        timeline=table.time,
        n_at_risk=at_risk,
        n_events=deaths,
        n_censored=table.censored,
        estimate=surv,
        std_err=std_err,
        ci_lower=lower,
        ci_upper=upper,
        ci_type=ci,
        conf_level=conf_level,
        n=int(at_risk[0]),
        events=int(deaths.sum()),
        median=median,
        median_ci=(median_low, median_high),
    )


def kaplan_meier(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    *,
    ci: CIType | str = "log",
    conf_level: float = 0.95,
) -> SurvivalCurve:
    """Kaplan-Meier estimate with a `conf_level` pointwise interval and R's median rule.

    `event` is 1 (or True) for an event and 0 for censoring; `ci` is "log" (R's default),
    "log-log" or "plain". Raises `InvalidInput` for negative or non-finite times, other event
    codes, mismatched lengths or empty input.
    """
    data = survival_data(time, event, max_cause=1)
    return kaplan_meier_data(data, ci=ci, conf_level=conf_level)


def kaplan_meier_data(
    data: SurvivalData, *, ci: CIType | str = "log", conf_level: float = 0.95
) -> SurvivalCurve:
    """`kaplan_meier` on validated data; any non-zero event code counts as an event."""
    return kaplan_meier_from_table(event_table(data), ci=check_ci_type(ci), conf_level=conf_level)


def survival_at(curve: SurvivalCurve, times: npt.ArrayLike) -> FloatArray:
    """S(t) at arbitrary times (right-continuous step function; 1 before the first time)."""
    at = np.asarray(times, dtype=np.float64)
    index = np.searchsorted(curve.timeline, at, side="right") - 1
    values = np.where(index >= 0, curve.estimate[np.maximum(index, 0)], 1.0)
    return values.astype(np.float64)


def number_at_risk(timeline: FloatArray, n_at_risk: IntArray, times: npt.ArrayLike) -> IntArray:
    """Subjects still observed at each of `times` (time >= t), as R's `summary(fit, times)`."""
    at = np.asarray(times, dtype=np.float64)
    index = np.searchsorted(timeline, at, side="left")
    padded = np.append(n_at_risk, 0)
    result: IntArray = padded[index].astype(np.int64)
    return result


def survival_quantile(
    curve: SurvivalCurve, p: float
) -> tuple[float | None, float | None, float | None]:
    """Time by which a fraction `p` has had the event (p=0.5: the median), with its interval."""
    if not 0 <= p <= 1:
        raise InvalidInput(
            _("quantile must be between 0 and 1, got {p}", p=p), code=INPUT_ERROR_CODE, field="p"
        )
    return curve_quantile(
        curve.timeline, 1.0 - curve.estimate, 1.0 - curve.ci_lower, 1.0 - curve.ci_upper, p
    )


__all__ = [
    "CI_TYPES",
    "CIType",
    "SurvivalCurve",
    "check_ci_type",
    "kaplan_meier",
    "kaplan_meier_data",
    "kaplan_meier_from_table",
    "number_at_risk",
    "step_quantile",
    "survival_at",
    "survival_ci",
    "survival_quantile",
    "z_value",
]
