"""ICAHT grading and recovery dates from synthetic count series (EHA/EBMT 2023 grading tables)."""

from __future__ import annotations

import datetime as dt

import pytest

from cartflow.clinical.icaht import (
    CountSample,
    RecoveryStatus,
    anc_recovery,
    daily_counts,
    early_neutrophil_icaht,
    early_platelet_icaht,
    late_neutrophil_icaht,
    late_platelet_icaht,
    platelet_recovery,
)

DAY0 = dt.date(2025, 3, 3)


def series(values: dict[int, float]) -> list[CountSample]:
    return [CountSample(on=DAY0 + dt.timedelta(days=d), value=v) for d, v in values.items()]


def flat(value: float, first: int, last: int, then: float | None = None) -> dict[int, float]:
    days = {d: value for d in range(first, last + 1)}
    if then is not None:
        days[last + 1] = then
    return days


@pytest.mark.parametrize(
    ("neutropenic_days", "grade"),
    [(0, 0), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (29, 3), (30, 4), (31, 4)],
)
def test_early_neutrophil_grade_by_days_at_or_below_500(neutropenic_days: int, grade: int) -> None:
    # ANC 300/uL (<= 500 but not < 100) on the first N days, then 2000/uL through day 30.
    values = {d: (300.0 if d < neutropenic_days else 2000.0) for d in range(31)}
    assert early_neutrophil_icaht(series(values), infusion=DAY0).grade == grade


def test_early_neutrophil_profound_for_7_days_is_grade_4() -> None:
    values = {d: (50.0 if d < 7 else 2000.0) for d in range(31)}
    result = early_neutrophil_icaht(series(values), infusion=DAY0)
    assert result.grade == 4
    assert "< 100" in result.reason


def test_transient_recovery_under_3_days_still_counts_as_neutropenic() -> None:
    # 5 days <= 500, 2 days above, 5 days <= 500: the 2-day blip is non-stable recovery -> 12 days.
    values = {d: 2000.0 for d in range(31)}
    values.update({d: 300.0 for d in [*range(0, 5), *range(7, 12)]})
    assert early_neutrophil_icaht(series(values), infusion=DAY0).grade == 2


def test_stable_recovery_of_3_days_breaks_the_count() -> None:
    values = {d: 2000.0 for d in range(31)}
    values.update({d: 300.0 for d in [*range(0, 4), *range(7, 10)]})  # 4 + 3 days, 3-day gap
    assert early_neutrophil_icaht(series(values), infusion=DAY0).grade == 2  # 7 days
    values.update({9: 2000.0})
    assert early_neutrophil_icaht(series(values), infusion=DAY0).grade == 1  # 6 days


def test_missing_days_are_linearly_interpolated() -> None:
    daily = daily_counts(series({0: 1000.0, 4: 0.0}), infusion=DAY0, first_day=0, last_day=30)
    assert daily == {0: 1000.0, 1: 750.0, 2: 500.0, 3: 250.0, 4: 0.0}


def test_days_after_censoring_are_not_counted() -> None:
    values = flat(300.0, 0, 30)
    censored = early_neutrophil_icaht(
        series(values), infusion=DAY0, censor_on=DAY0 + dt.timedelta(days=10)
    )
    assert censored.grade == 2  # days 0-9 only


@pytest.mark.parametrize(
    ("second_lowest", "grade"), [(1600, 0), (1500, 1), (1000, 2), (500, 3), (99, 4)]
)
def test_late_neutrophil_grade_needs_two_values(second_lowest: float, grade: int) -> None:
    values = {35: 20.0, 50: second_lowest, 70: 3000.0}
    assert late_neutrophil_icaht(series(values), infusion=DAY0).grade == grade


def test_late_neutrophil_single_low_value_is_not_enough() -> None:
    values = {10: 100.0, 40: 200.0, 60: 2500.0}
    assert late_neutrophil_icaht(series(values), infusion=DAY0).grade == 0


@pytest.mark.parametrize(
    ("below_50", "below_20", "grade"),
    [(0, 0, 0), (3, 0, 1), (7, 0, 2), (10, 1, 3), (20, 13, 3), (20, 14, 4)],
)
def test_early_platelet_grades(below_50: int, below_20: int, grade: int) -> None:
    values = {d: 150.0 for d in range(31)}
    values.update({d: 30.0 for d in range(below_50)})
    values.update({d: 10.0 for d in range(below_20)})
    assert early_platelet_icaht(series(values), infusion=DAY0).grade == grade


@pytest.mark.parametrize(
    ("values", "grade"),
    [
        ({40: 90.0, 60: 95.0, 80: 150.0}, 1),
        ({40: 40.0, 60: 45.0, 80: 150.0}, 2),
        ({40: 10.0, 45: 15.0, 50: 150.0}, 3),
        ({40: 10.0, 60: 10.0, 80: 150.0}, 4),
        ({40: 10.0, 60: 150.0}, 0),  # a single low value is transient: two tests are needed
        ({40: 10.0, 60: 70.0, 80: 150.0}, 1),  # only one < 20, but two < 100
    ],
)
def test_late_platelet_grades(values: dict[int, float], grade: int) -> None:
    assert late_platelet_icaht(series(values), infusion=DAY0).grade == grade


def test_anc_recovery_is_first_of_three_values_at_or_above_500_after_the_nadir() -> None:
    values = {0: 800.0, 3: 50.0, 6: 600.0, 7: 400.0, 9: 700.0, 11: 900.0, 14: 1500.0}
    recovery = anc_recovery(series(values))
    assert recovery.status is RecoveryStatus.RECOVERED
    assert recovery.on == DAY0 + dt.timedelta(days=9)


def test_anc_never_below_500_has_no_recovery_date() -> None:
    assert anc_recovery(series({0: 900.0, 5: 700.0})).status is RecoveryStatus.NO_CYTOPENIA


def test_anc_not_yet_recovered() -> None:
    recovery = anc_recovery(series({0: 100.0, 5: 600.0, 6: 700.0}))
    assert (recovery.status, recovery.on) == (RecoveryStatus.NOT_RECOVERED, None)


def test_platelet_recovery_waits_for_7_transfusion_free_days() -> None:
    values = {d: (5.0 if d < 5 else 40.0) for d in range(20)}
    transfusion = DAY0 + dt.timedelta(days=6)
    recovery = platelet_recovery(series(values), transfusions=[transfusion])
    # Days 7-13 are the first 7 transfusion-free days, so the run starts on day 14.
    assert recovery.on == DAY0 + dt.timedelta(days=14)
    untransfused = platelet_recovery(series(values))
    assert untransfused.on == DAY0 + dt.timedelta(days=5)
