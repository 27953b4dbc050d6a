"""R's `findq` rule: the fast monotone path agrees with the literal re-implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cartflow.registry.r_quantile import (
    R_TOLERANCE,
    _crossings_general,
    _crossings_monotone,
    step_quantile,
)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("seed", range(40))
def test_monotone_shortcut_equals_general_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    levels = np.sort(rng.choice([0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0], size=n))
    y = np.concatenate(([0.0], levels))
    if rng.random() < 0.4:
        y[-int(rng.integers(1, n + 1)) :] = np.nan  # undefined band at the end, as where S = 0
    x = np.concatenate(([0.0], np.cumsum(rng.integers(1, 5, n)).astype(float)))
    finite = np.flatnonzero(~np.isnan(y))
    for p in (0.25, 0.5, 0.9):
        fast = _crossings_monotone(x, y, finite, p, R_TOLERANCE)
        slow = _crossings_general(x, y, p, R_TOLERANCE)
        assert all(_same(a, b) for a, b in zip(fast, slow, strict=True)), (fast, slow)


def test_non_monotone_band_follows_r_approx() -> None:
    # approx(method="constant", f=1) sorts the knots, so the smallest value >= 0.5 (0.55 at x=3)
    # wins over the first crossing (0.6 at x=2): R reports 3.
    assert step_quantile([1, 2, 3, 4], [0.2, 0.6, 0.55, 0.7], 0.5) == 3.0


def test_quantile_zero_is_the_start() -> None:
    assert step_quantile([2, 3], [0.5, 1.0], 0.0) == 0.0


def test_never_reached_and_all_undefined() -> None:
    assert step_quantile([1, 2], [0.1, 0.4], 0.5) is None
    assert step_quantile([1, 2], [float("nan")] * 2, 0.5) is None
