"""Clopper-Pearson rates, grade >= 3 toxicity rates, response rates and quartiles."""

from __future__ import annotations

import pytest

from cartflow.errors import InvalidInput
from cartflow.registry.proportions import (
    IMWG_COMPLETE,
    IMWG_RESPONDERS,
    clopper_pearson,
    grade_rate,
    median_quartiles,
    response_rates,
)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # Newcombe, Stat Med 1998;17:857, Table II, method 5 (exact Clopper-Pearson).
    [(15, 148, 0.0578, 0.1617), (0, 20, 0.0, 0.1684), (1, 29, 0.0009, 0.1776)],
)
def test_newcombe_worked_examples(k: int, n: int, low: float, high: float) -> None:
    rate = clopper_pearson(k, n)
    assert rate.ci_lower == pytest.approx(low, abs=5e-5)
    assert rate.ci_upper == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("n", [1, 7, 40])
def test_all_or_nothing_bounds_have_closed_forms(n: int) -> None:
    # With 0 successes the upper limit solves (1 - p)^n = alpha/2; with n, the lower p^n = alpha/2.
    none = clopper_pearson(0, n)
    every = clopper_pearson(n, n)
    assert none.ci_upper == pytest.approx(1 - 0.025 ** (1 / n))
    assert every.ci_lower == pytest.approx(0.025 ** (1 / n))
    assert (none.ci_lower, every.ci_upper) == (0.0, 1.0)


def test_interval_contains_estimate_and_narrows_with_n() -> None:
    small = clopper_pearson(8, 10)
    large = clopper_pearson(800, 1000)
    assert small.ci_lower < small.estimate < small.ci_upper
    assert large.ci_upper - large.ci_lower < small.ci_upper - small.ci_lower


def test_grade_3_or_higher_rate_leaves_unreported_out_of_denominator() -> None:
    grades = [0, 1, 2, 3, 4, None, 0, 5, None, 2]
    result = grade_rate(grades)
    assert (result.rate.successes, result.rate.n, result.not_reported) == (3, 8, 2)
    assert result.rate.estimate == pytest.approx(3 / 8)


def test_grade_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidInput):
        grade_rate([1, 6])


def test_response_rates_with_imwg_categories() -> None:
    responses = ["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", None]
    rates = response_rates(responses, responders=IMWG_RESPONDERS, complete=IMWG_COMPLETE)
    assert (rates.overall.successes, rates.overall.n) == (4, 7)
    assert (rates.complete.successes, rates.complete.n) == (2, 7)
    assert rates.not_evaluable == 1


def test_lugano_defaults() -> None:
    rates = response_rates(["CR", "PR", "SD", "PD", "CR"])
    assert (rates.overall.successes, rates.complete.successes, rates.overall.n) == (3, 2, 5)


def test_quartiles_follow_r_type_7() -> None:
    # R: quantile(1:10) -> 25% 3.25, 50% 5.50, 75% 7.75
    summary = median_quartiles(list(range(1, 11)))
    assert (summary.q1, summary.median, summary.q3) == (3.25, 5.5, 7.75)
    assert (summary.minimum, summary.maximum, summary.n) == (1, 10, 10)


@pytest.mark.parametrize(("k", "n"), [(1, 0), (-1, 5), (6, 5)])
def test_impossible_counts_are_refused(k: int, n: int) -> None:
    with pytest.raises(InvalidInput):
        clopper_pearson(k, n)


def test_empty_or_non_finite_values_are_refused() -> None:
    with pytest.raises(InvalidInput):
        median_quartiles([])
    with pytest.raises(InvalidInput):
        median_quartiles([1.0, float("inf")])
