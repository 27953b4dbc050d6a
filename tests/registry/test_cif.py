"""Aalen-Johansen cumulative incidence: hand-computed ties, published anchors, invariants."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from lifelines import AalenJohansenFitter

from cartflow.errors import InvalidInput
from cartflow.registry.cif import aalen_johansen, incidence_at
from cartflow.registry.km import kaplan_meier
from tests.registry.datasets import bmt

# Tied times on purpose: t=1 has one event of each cause, t=2 an event and a censoring, t=3 one
# event of each cause again.
TIES_TIME = [1, 1, 2, 2, 3, 3, 4, 5]
TIES_EVENT = [1, 2, 1, 0, 2, 1, 0, 1]


def test_tied_times_by_hand() -> None:
    # By hand, all events at a time processed together, a censoring at t still at risk at t:
    # t=1: n=8, S(0)=1      -> F1 = 1/8,            F2 = 1/8,  S = 6/8
    # t=2: n=6, S = 3/4     -> F1 = 1/8 + 3/4 * 1/6 = 1/4,     S = 3/4 * 5/6 = 5/8
    # t=3: n=4, S = 5/8     -> F1 = 1/4 + 5/32 = 13/32, F2 = 1/8 + 5/32 = 9/32, S = 5/16
    # t=4: censored
    # t=5: n=1, S = 5/16    -> F1 = 13/32 + 5/16 = 23/32, S = 0
    first, second = aalen_johansen(TIES_TIME, TIES_EVENT)
    np.testing.assert_array_equal(first.timeline, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(first.estimate, [4 / 32, 8 / 32, 13 / 32, 13 / 32, 23 / 32])
    np.testing.assert_allclose(second.estimate, [4 / 32, 4 / 32, 9 / 32, 9 / 32, 9 / 32])
    np.testing.assert_array_equal(first.n_at_risk, [8, 6, 4, 2, 1])
    assert (first.events, second.events) == (4, 2)


def test_estimate_includes_events_at_the_evaluation_time() -> None:
    first, _ = aalen_johansen(TIES_TIME, TIES_EVENT)
    np.testing.assert_allclose(
        incidence_at(first, [0.5, 1, 2, 2.5, 10]), [0, 1 / 8, 1 / 4, 1 / 4, 23 / 32]
    )


def test_bmt_anchors_match_exact_implementations() -> None:
    # Reference notes section 3: scikit-survival 0.28 and an independent numpy AJ agree on
    # cause 1: 0.2728 at 12, 24, 60 months; cause 2: 0.3408, 0.4461, 0.4813.
    _, time, status = bmt()
    first, second = aalen_johansen(time, status)
    np.testing.assert_allclose(incidence_at(first, [12, 24, 60]), [0.2728] * 3, atol=5e-5)
    np.testing.assert_allclose(
        incidence_at(second, [12, 24, 60]), [0.3408, 0.4461, 0.4813], atol=5e-5
    )


def _delta_method_by_loops(
    time: npt.ArrayLike, event: npt.ArrayLike, cause: int
) -> npt.NDArray[np.float64]:
    """The published double-sum formula (Marubini & Valsecchi 1995; Pintilie 2006), literally."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event)
    grid = np.unique(t)
    n = np.array([(t >= u).sum() for u in grid], dtype=float)
    d = np.array([((t == u) & (e > 0)).sum() for u in grid], dtype=float)
    dk = np.array([((t == u) & (e == cause)).sum() for u in grid], dtype=float)
    s_before = np.ones(len(grid))
    surv = 1.0
    f = np.zeros(len(grid))
    total = 0.0
    for j in range(len(grid)):
        s_before[j] = surv
        total += surv * dk[j] / n[j]
        f[j] = total
        surv *= 1 - d[j] / n[j]
    out = np.zeros(len(grid))
    for i in range(len(grid)):
        v = 0.0
        for j in range(i + 1):
            if d[j] > 0 and n[j] > d[j]:
                v += (f[i] - f[j]) ** 2 * d[j] / (n[j] * (n[j] - d[j]))
            v += s_before[j] ** 2 * dk[j] * (n[j] - dk[j]) / n[j] ** 3
            v -= 2 * (f[i] - f[j]) * s_before[j] * dk[j] / n[j] ** 2
        out[i] = v
    return out


@pytest.mark.parametrize("cause", [1, 2, 3])
def test_vectorised_variance_equals_the_published_double_sum(cause: int) -> None:
    rng = np.random.default_rng(11)
    time = rng.integers(0, 40, 150)
    event = rng.choice([0, 1, 2, 3], size=150, p=[0.3, 0.3, 0.3, 0.1])
    curves = aalen_johansen(time, event)
    expected = _delta_method_by_loops(time, event, cause)
    np.testing.assert_allclose(curves[cause - 1].std_err ** 2, expected, atol=1e-12)


def test_single_cause_reduces_to_one_minus_kaplan_meier_with_greenwood_variance() -> None:
    rng = np.random.default_rng(3)
    time = rng.integers(1, 25, 120)
    event = rng.integers(0, 2, 120)
    (incidence,) = aalen_johansen(time, event)
    survival = kaplan_meier(time, event)
    np.testing.assert_allclose(incidence.estimate, 1 - survival.estimate, atol=1e-12)
    defined = ~np.isnan(survival.std_err)
    np.testing.assert_allclose(incidence.std_err[defined], survival.std_err[defined], atol=1e-12)


def test_causes_and_survival_add_up_to_one() -> None:
    rng = np.random.default_rng(5)
    time = rng.integers(0, 20, 300)
    event = rng.integers(0, 4, 300)
    curves = aalen_johansen(time, event)
    any_event = kaplan_meier(time, event > 0)
    total = sum(c.estimate for c in curves) + any_event.estimate
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_without_ties_matches_lifelines() -> None:
    # lifelines jitters only tied times, so on continuous times it is an independent check.
    rng = np.random.default_rng(9)
    time = rng.exponential(10, 200)
    event = rng.integers(0, 3, 200)
    curves = aalen_johansen(time, event)
    for curve in curves:
        fitter = AalenJohansenFitter(calculate_variance=False).fit(
            time, event, event_of_interest=curve.cause
        )
        reference = fitter.cumulative_density_.iloc[:, 0]
        np.testing.assert_allclose(
            incidence_at(curve, reference.index.to_numpy()), reference.to_numpy(), atol=1e-12
        )


def test_interval_brackets_estimate_and_stays_in_unit_interval() -> None:
    _, time, status = bmt()
    for curve in aalen_johansen(time, status):
        assert np.all(curve.ci_lower <= curve.estimate + 1e-15)
        assert np.all(curve.estimate <= curve.ci_upper + 1e-15)
        assert np.all((curve.ci_lower >= 0) & (curve.ci_upper <= 1))


def test_median_uses_the_curve_and_its_bands() -> None:
    # Everybody has cause 1 at distinct times: F = 1 - KM, so the medians must agree.
    time = np.arange(1, 21)
    (curve,) = aalen_johansen(time, np.ones(20, dtype=int))
    assert curve.median == kaplan_meier(time, np.ones(20, dtype=int)).median == 10.5


def test_missing_cause_in_a_subgroup_gets_a_flat_zero_curve() -> None:
    curves = aalen_johansen([1, 2, 3], [1, 0, 1], n_causes=3)
    assert [c.cause for c in curves] == [1, 2, 3]
    assert curves[2].events == 0
    np.testing.assert_array_equal(curves[2].estimate, 0.0)


def test_negative_event_codes_are_refused() -> None:
    with pytest.raises(InvalidInput):
        aalen_johansen([1, 2], [1, -1])
