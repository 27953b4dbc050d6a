"""Quantiles of a step curve, and their confidence limits, by the rule of R's `survival` package.

Source: T. Therneau, R package `survival`, `quantile.survfit` / `findq` (R/quantile.survfit.R),
as documented in `?print.survfit`: "The median and its confidence interval are defined by drawing
a horizontal line at 0.5 on the plot of the survival curve and its confidence bands. The
intersection of the line with the lower CI band defines the lower limit for the median's
interval, and similarly for the upper band." (Brookmeyer & Crowley, Biometrics 1982;38:29-41 give
the same test-inversion interval.) When the curve is flat exactly at the requested level (within
sqrt(machine epsilon)), R reports the midpoint of the flat, and a flat at the very end of the curve
is closed at the last follow-up time.

The rule is reproduced step by step (including how R's `approx(method="constant", f=1)` picks the
knot) so that medians and their intervals match `print(survfit(...))` exactly, not just the usual
"first time S <= 0.5" rule that lifelines uses. Written by hand because no Python library
implements R's convention.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

R_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


def _first_occurrences(values: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Positions R's `!duplicated(y)` keeps (NaN equals NaN), in their original order."""
    nan_mask = np.isnan(values)
    finite = np.flatnonzero(~nan_mask)
    _, first = np.unique(values[finite], return_index=True)
    kept = finite[first]
    if nan_mask.any():
        kept = np.append(kept, np.flatnonzero(nan_mask)[0])
    return np.sort(kept)


def _constant_approx_index(knots: npt.NDArray[np.float64], level: float) -> int | None:
    """R's `approx(knots, seq_along(knots), level, method="constant", f=1)`; None for NA."""
    valid = np.flatnonzero(~np.isnan(knots))
    if valid.shape[0] == 0:
        return None
    values = knots[valid]
    if level < values.min() or level > values.max():
        return None
    candidates = np.flatnonzero(values >= level)
    return int(valid[candidates[np.argmin(values[candidates])]])


# The crossing points R's findq uses: x where the curve first reaches p - tol and p + tol, and
# the last element of the de-duplicated curve (NaN included), which decides the end-of-curve rule.
_Crossings = tuple[float | None, float | None, float]


def _crossings_general(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], p: float, tolerance: float
) -> _Crossings:
    kept = _first_occurrences(y)
    x, y = x[kept], y[kept]
    upper = _constant_approx_index(y + tolerance, p)
    lower = _constant_approx_index(y - tolerance, p)
    return (
        None if upper is None else float(x[upper]),
        None if lower is None else float(x[lower]),
        float(y[-1]),
    )


def _crossings_monotone(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    finite: npt.NDArray[np.intp],
    p: float,
    tolerance: float,
) -> _Crossings:
    """Same result for a non-decreasing curve in O(log n): first occurrences are left ends."""
    values = y[finite]

    def first_at_least(level: float) -> float | None:
        if level < values[0] or level > values[-1]:
            return None
        return float(x[finite[np.searchsorted(values, level, side="left")]])

    last_new = finite[np.searchsorted(values, values[-1], side="left")]
    nan_positions = np.flatnonzero(np.isnan(y))
    last_is_nan = nan_positions.shape[0] > 0 and nan_positions[0] > last_new
    return (
        first_at_least(p - tolerance),
        first_at_least(p + tolerance),
        float("nan") if last_is_nan else float(values[-1]),
    )


def step_quantile(
    time: npt.ArrayLike,
    cumulative: npt.ArrayLike,
    p: float,
    *,
    start: float = 0.0,
    tolerance: float = R_TOLERANCE,
) -> float | None:
    """Time at which a non-decreasing step curve (1 - S, or a cumulative incidence) reaches `p`.

    `cumulative[j]` is the curve's value from `time[j]` on; before `time[0]` it is 0 from `start`.
    NaN values (undefined confidence limits) are skipped, as R does. None means "not reached".
    """
    x = np.concatenate(([start], np.asarray(time, dtype=np.float64)))
    y = np.concatenate(([0.0], np.asarray(cumulative, dtype=np.float64)))
    finite = np.flatnonzero(~np.isnan(y))
    if finite.shape[0] == 0 or np.max(y[finite]) < p:
        return None
    if p == 0:
        return float(x[0])
    values = y[finite]
    if np.all(values[1:] >= values[:-1]):
        upper, lower, last = _crossings_monotone(x, y, finite, p, tolerance)
    else:
        upper, lower, last = _crossings_general(x, y, p, tolerance)
    if not np.isnan(last) and abs(p - last) < tolerance:
        return None if upper is None else (upper + float(x[-1])) / 2
    if upper is None or lower is None:
        return None
    return (upper + lower) / 2


def curve_quantile(
    time: npt.ArrayLike,
    cumulative: npt.ArrayLike,
    band_early: npt.ArrayLike,
    band_late: npt.ArrayLike,
    p: float = 0.5,
) -> tuple[float | None, float | None, float | None]:
    """(quantile, lower limit, upper limit) where the curve and its two bands reach `p`.

    `band_early` is the confidence band that rises first (1 - lower survival limit, or the upper
    limit of a cumulative incidence); it gives the lower limit of the quantile's interval.
    """
    return (
        step_quantile(time, cumulative, p),
        step_quantile(time, band_early, p),
        step_quantile(time, band_late, p),
    )
