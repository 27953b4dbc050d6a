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
    finite_values = values[finite]
    if finite_values.shape[0] < 2 or np.all(finite_values[1:] >= finite_values[:-1]):
        # Non-decreasing (the usual case): a repeat can only follow its first occurrence.
        changed = np.concatenate(([True], finite_values[1:] != finite_values[:-1]))
        kept = finite[changed]
    else:
        _, first = np.unique(finite_values, return_index=True)
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
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return None
    x_max = float(x[-1])
    kept = _first_occurrences(y)
    x = x[kept]
    y = y[kept]
    if p == 0:
        return float(x[0])
    upper_index = _constant_approx_index(y + tolerance, p)
    lower_index = _constant_approx_index(y - tolerance, p)
    last = y[-1]
    if not np.isnan(last) and abs(p - last) < tolerance:
        if upper_index is None:
            return None
        return float((x[upper_index] + x_max) / 2)
    if upper_index is None or lower_index is None:
        return None
    return float((x[upper_index] + x[lower_index]) / 2)


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
