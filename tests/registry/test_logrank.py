"""Log-rank test against R `survdiff` output and lifelines."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines.datasets import load_waltons
from lifelines.statistics import multivariate_logrank_test

from cartflow.errors import InvalidInput
from cartflow.registry.logrank import logrank_test
from tests.registry.datasets import gehan, lung


def test_lung_by_sex_matches_survdiff() -> None:
    # R: survdiff(Surv(time, status) ~ sex, data = lung)
    #        N Observed Expected
    # sex=1 138      112     91.6
    # sex=2  90       53     73.4
    # Chisq= 10.3  on 1 degrees of freedom, p= 0.001
    data = lung()
    result = logrank_test(data["time"], data["status"], data["sex"])
    assert result.n == (138, 90)
    assert result.observed == (112, 53)
    np.testing.assert_allclose(result.expected, (91.6, 73.4), atol=0.05)
    assert round(result.chisq, 1) == 10.3
    assert result.df == 1
    assert round(result.p_value, 3) == 0.001


def test_gehan_matches_mass_book() -> None:
    # Venables & Ripley, MASS 4th ed., section 13.1: survdiff on gehan, Chisq = 16.8 on 1 df,
    # p = 4.17e-05.
    data = gehan()
    result = logrank_test(data["weeks"], data["relapse"], data["group"])
    assert round(result.chisq, 1) == 16.8
    assert result.p_value == pytest.approx(4.17e-5, abs=5e-8)


def test_waltons_matches_lifelines_documentation() -> None:
    data = load_waltons()
    result = logrank_test(data["T"], data["E"], data["group"])
    assert round(result.chisq, 2) == 122.25


def test_three_groups_with_ties_match_lifelines() -> None:
    rng = np.random.default_rng(2)
    time = rng.integers(1, 40, 300)
    event = rng.integers(0, 2, 300)
    group = rng.choice(["a", "b", "c"], 300)
    result = logrank_test(time, event, group)
    reference = multivariate_logrank_test(time, group, event)
    assert result.df == 2
    assert result.chisq == pytest.approx(reference.test_statistic, rel=1e-10)
    assert result.p_value == pytest.approx(reference.p_value, rel=1e-8)


def test_observed_minus_expected_sums_to_zero() -> None:
    rng = np.random.default_rng(4)
    time = rng.exponential(5, 120)
    event = rng.integers(0, 2, 120)
    group = rng.integers(0, 4, 120)
    result = logrank_test(time, event, group)
    assert sum(result.observed) == pytest.approx(sum(result.expected))


def test_one_group_is_refused() -> None:
    with pytest.raises(InvalidInput):
        logrank_test([1, 2, 3], [1, 1, 0], ["x", "x", "x"])
