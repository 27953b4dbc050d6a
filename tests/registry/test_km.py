"""Kaplan-Meier against published R `survival` output and an independent implementation."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from cartflow.errors import InvalidInput
from cartflow.registry.km import kaplan_meier, number_at_risk, survival_at, survival_quantile
from tests.registry.datasets import gehan, lung


def test_lung_median_and_log_ci_match_r_survfit_default() -> None:
    # R: print(survfit(Surv(time, status) ~ 1, data = lung)) -> n 228, events 165,
    # median 310, 0.95LCL 285, 0.95UCL 363 (conf.type = "log", the default).
    data = lung()
    curve = kaplan_meier(data["time"], data["status"])
    assert (curve.n, curve.events) == (228, 165)
    assert curve.median == 310
    assert curve.median_ci == (285, 363)


def test_lung_median_ci_with_log_log_transform() -> None:
    # survfit(..., conf.type = "log-log"): 284-361 (reference notes, section 3).
    data = lung()
    curve = kaplan_meier(data["time"], data["status"], ci="log-log")
    assert curve.median == 310
    assert curve.median_ci == (284, 361)


@pytest.mark.parametrize(
    ("sex", "n", "events", "median", "low", "high"),
    [(1, 138, 112, 270, 212, 310), (2, 90, 53, 426, 348, 550)],
)
def test_lung_by_sex_matches_r(
    sex: int, n: int, events: int, median: float, low: float, high: float
) -> None:
    # R: survfit(Surv(time, status) ~ sex, data = lung)
    data = lung()
    subset = data[data["sex"] == sex]
    curve = kaplan_meier(subset["time"], subset["status"])
    assert (curve.n, curve.events, curve.median) == (n, events, median)
    assert curve.median_ci == (low, high)


def test_lung_survival_at_landmarks() -> None:
    # Reference notes section 3: S(180), S(365), S(730) = 0.7217, 0.4092, 0.1157.
    data = lung()
    curve = kaplan_meier(data["time"], data["status"])
    np.testing.assert_allclose(
        survival_at(curve, [180, 365, 730]), [0.7217, 0.4092, 0.1157], atol=5e-5
    )


def test_gehan_6mp_table_matches_r_summary() -> None:
    # R: summary(survfit(Surv(time, cens) ~ treat, data = MASS::gehan)), treat = 6-MP:
    # time n.risk n.event survival std.err lower 95% CI upper 95% CI
    expected = np.array(
        [
            [6, 21, 3, 0.857, 0.0764, 0.720, 1.000],
            [7, 17, 1, 0.807, 0.0869, 0.653, 0.996],
            [10, 15, 1, 0.753, 0.0963, 0.586, 0.968],
            [13, 12, 1, 0.690, 0.1068, 0.510, 0.935],
            [16, 11, 1, 0.627, 0.1141, 0.439, 0.896],
            [22, 7, 1, 0.538, 0.1282, 0.337, 0.858],
            [23, 6, 1, 0.448, 0.1346, 0.249, 0.807],
        ]
    )
    data = gehan()
    treated = data[data["group"] == 2]
    curve = kaplan_meier(treated["weeks"], treated["relapse"])
    rows = curve.n_events > 0
    np.testing.assert_array_equal(curve.timeline[rows], expected[:, 0])
    np.testing.assert_array_equal(curve.n_at_risk[rows], expected[:, 1])
    np.testing.assert_array_equal(curve.n_events[rows], expected[:, 2])
    np.testing.assert_allclose(curve.estimate[rows], expected[:, 3], atol=5e-4)
    np.testing.assert_allclose(curve.std_err[rows], expected[:, 4], atol=5e-5)
    np.testing.assert_allclose(curve.ci_lower[rows], expected[:, 5], atol=5e-4)
    np.testing.assert_allclose(curve.ci_upper[rows], expected[:, 6], atol=5e-4)


def test_gehan_medians_match_r_print() -> None:
    # R print: treat=6-MP 21 9 23 16 NA; treat=control 21 21 8 4 12.
    data = gehan()
    treated = data[data["group"] == 2]
    control = data[data["group"] == 1]
    six_mp = kaplan_meier(treated["weeks"], treated["relapse"])
    placebo = kaplan_meier(control["weeks"], control["relapse"])
    assert (six_mp.median, six_mp.median_ci) == (23, (16, None))
    assert (placebo.median, placebo.median_ci) == (8, (4, 12))


def test_log_log_band_equals_lifelines_over_whole_curve() -> None:
    # lifelines computes the exponential-Greenwood (log-log) band independently.
    data = lung()
    curve = kaplan_meier(data["time"], data["status"], ci="log-log")
    fitter = KaplanMeierFitter().fit(data["time"], data["status"])
    band = fitter.confidence_interval_survival_function_.loc[curve.timeline]
    np.testing.assert_allclose(
        curve.estimate, fitter.survival_function_.loc[curve.timeline].iloc[:, 0]
    )
    np.testing.assert_allclose(curve.ci_lower, band.iloc[:, 0], rtol=1e-9)
    np.testing.assert_allclose(curve.ci_upper, band.iloc[:, 1], rtol=1e-9)


def test_flat_at_one_half_gives_midpoint_median_as_r() -> None:
    # R's quantile.survfit: a curve exactly at 0.5 over [2, 3) has median (2 + 3) / 2.
    curve = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert curve.median == 2.5


def test_flat_at_one_half_to_the_end_closes_at_last_follow_up() -> None:
    # R's findq: a flat at p that lasts to the end is closed at the last time (here 4).
    curve = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 0])
    assert curve.median == 3.0


def test_median_not_reached_is_none() -> None:
    # S = 0.75 from t=5 on; its lower log limit 0.75 exp(-1.96 sqrt(1/12)) = 0.43 < 0.5.
    curve = kaplan_meier([5, 6, 7, 8], [1, 0, 0, 0])
    assert curve.median is None
    assert curve.median_ci == (5, None)


def test_plain_ci_is_symmetric_and_clipped() -> None:
    data = lung()
    curve = kaplan_meier(data["time"], data["status"], ci="plain")
    inside = (curve.ci_lower > 0) & (curve.ci_upper < 1)
    np.testing.assert_allclose(
        curve.estimate[inside] - curve.ci_lower[inside],
        curve.ci_upper[inside] - curve.estimate[inside],
    )
    assert np.nanmin(curve.ci_lower) >= 0
    assert np.nanmax(curve.ci_upper) <= 1


def test_curve_reaching_zero_has_undefined_limits_there() -> None:
    curve = kaplan_meier([1, 2, 3], [1, 1, 1])
    assert curve.estimate[-1] == 0
    assert np.isnan(curve.ci_lower[-1]) and np.isnan(curve.ci_upper[-1])


def test_numbers_at_risk_count_subjects_with_time_at_least_t() -> None:
    times = np.array([2.0, 3.0, 3.0, 5.0, 8.0, 8.0, 9.0])
    curve = kaplan_meier(times, [1, 0, 1, 1, 0, 1, 0])
    asked = np.array([0, 2, 2.5, 3, 8, 9, 9.5])
    expected = [(times >= t).sum() for t in asked]
    np.testing.assert_array_equal(number_at_risk(curve.timeline, curve.n_at_risk, asked), expected)


def test_quantile_interval_brackets_the_estimate() -> None:
    data = lung()
    curve = kaplan_meier(data["time"], data["status"])
    q, low, high = survival_quantile(curve, 0.25)
    assert q is not None and low is not None and high is not None
    assert low <= q <= high


def test_ties_and_order_do_not_matter() -> None:
    rng = np.random.default_rng(7)
    times = rng.integers(0, 30, 400).astype(float)
    events = rng.integers(0, 2, 400)
    order = rng.permutation(400)
    first = kaplan_meier(times, events)
    shuffled = kaplan_meier(times[order], events[order])
    np.testing.assert_array_equal(first.estimate, shuffled.estimate)
    fitter = KaplanMeierFitter().fit(times, events)
    np.testing.assert_allclose(
        first.estimate, fitter.survival_function_.loc[first.timeline].iloc[:, 0]
    )


@pytest.mark.parametrize(
    ("time", "event", "field"),
    [
        ([1, -2, 3], [1, 1, 0], "time"),
        ([1, float("nan")], [1, 0], "time"),
        ([1, 2], [1, 2], "event"),
        ([1, 2], [1, 0.5], "event"),
        ([1, 2, 3], [1, 0], "event"),
    ],
)
def test_bad_input_is_refused_with_the_field(
    time: list[float], event: list[float], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        kaplan_meier(time, event)
    assert caught.value.field == field


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(InvalidInput):
        kaplan_meier([1, 2], [1, 1], ci="arcsine")
