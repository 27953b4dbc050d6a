"""The analytic queueing values against the worked numbers of the reference notes.

Expected values: sched §4 table (lambda = 600/365 per day, S ~ U{10..14}, E[S] = 12,
c_s^2 = 0.014) and the ciw README anchor in sched §2.3 (M/M/3, a = 2: C = 0.444, Wq = 4.44).
"""

from __future__ import annotations

import pytest

from cartflow.simulation.distributions import UniformInt, squared_cv
from cartflow.simulation.queueing import (
    allen_cunneen_wait,
    erlang_c,
    fluid_served_fraction,
    mmc_mean_wait,
    mmc_priority_waits,
)

LAM = 600 / 365
CS2 = squared_cv(UniformInt(low=10, high=14))


def _printed(text: str) -> tuple[float, float]:
    """A table entry and half a unit of its last printed digit (the rounding tolerance)."""
    decimals = len(text.partition(".")[2])
    return float(text), 0.5 * 10**-decimals + 1e-12


@pytest.mark.parametrize(
    ("c", "p_wait", "wq_mmc", "wq_ac"),
    [
        (20, "0.93", "40.7", "20.6"),
        (21, "0.70", "6.61", "3.35"),
        (22, "0.52", "2.74", "1.39"),
        (23, "0.38", "1.38", "0.70"),
        (24, "0.27", "0.75", "0.38"),
        (26, "0.13", "0.24", "0.12"),
    ],
)
def test_reference_table(c: int, p_wait: str, wq_mmc: str, wq_ac: str) -> None:
    for computed, printed in (
        (erlang_c(c, LAM * 12), p_wait),
        (mmc_mean_wait(LAM, 12, c), wq_mmc),
        (allen_cunneen_wait(LAM, 12, c, CS2), wq_ac),
    ):
        value, tol = _printed(printed)
        assert computed == pytest.approx(value, abs=tol)


def test_service_cv_of_ten_to_fourteen_days() -> None:
    cs2 = squared_cv(UniformInt(low=10, high=14))
    assert cs2 == pytest.approx(0.014, abs=0.0005)


def test_ciw_mm3_anchor() -> None:
    assert erlang_c(3, 2.0) == pytest.approx(0.444, abs=0.001)
    assert mmc_mean_wait(0.2, 10.0, 3) == pytest.approx(4.44, abs=0.01)


def test_single_server_is_pollaczek_khinchine() -> None:
    # M/M/1: Wq = rho / (mu - lambda); with rho = 0.5, mu = 1: 1.0. M/D/1 halves it.
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    assert allen_cunneen_wait(0.5, 1.0, 1, 0.0) == pytest.approx(0.5)


def test_priority_classes_average_to_fcfs() -> None:
    # Conservation law (Kleinrock): with equal service times, the arrival-weighted mean wait over
    # classes equals the FCFS wait.
    rates = [0.05, 0.1, 0.05]
    waits = mmc_priority_waits(rates, 10.0, 3)
    weighted = sum(r * w for r, w in zip(rates, waits, strict=True)) / sum(rates)
    assert weighted == pytest.approx(mmc_mean_wait(sum(rates), 10.0, 3))
    assert waits[0] < waits[1] < waits[2]


def test_fluid_bound_at_twelve_devices() -> None:
    # sched §0: 12 devices serve about 365 a year, so at least 39.2% of referrals go unserved.
    assert 1 - fluid_served_fraction(12, LAM * 12) == pytest.approx(0.392, abs=0.001)


def test_unstable_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="stable"):
        erlang_c(12, LAM * 12)
