"""ICAHT grading and recovery dates from synthetic count series.

N-ICAHT: EHA/EBMT 2023 (Rejeski, Blood 2023;142:865) as coded by Liang's published automated
grading; T-ICAHT: ash-sap.org view-large/12809257 Table 1 (sources in the module docstring). Each
cut-off is tested on both sides; a worse series never lowers a grade.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.clinical.icaht import (
    CountSample,
    IcahtGrade,
    RecoveryStatus,
    anc_recovery,
    daily_counts,
    days_below,
    early_neutrophil_icaht,
    early_platelet_icaht,
    late_neutrophil_icaht,
    late_platelet_icaht,
    platelet_recovery,
)
from cartflow.i18n import use_locale

DAY0 = dt.date(2025, 3, 3)


def on(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day)


def series(values: dict[int, float]) -> list[CountSample]:
    return [CountSample(on=on(d), value=v) for d, v in values.items()]


def window(low: float, low_days: list[int] | range, other: float = 2000.0) -> dict[int, float]:
    """Daily values for days 0-30: `low` on `low_days`, `other` on the rest."""
    chosen = set(low_days)
    return {d: (low if d in chosen else other) for d in range(31)}


def early_n(values: dict[int, float], censor: int | None = None) -> IcahtGrade:
    return early_neutrophil_icaht(
        series(values), infusion=DAY0, censor_on=None if censor is None else on(censor)
    )


# -- early N-ICAHT -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severe_days", "grade"),
    [(0, 0), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (29, 3), (30, 3), (31, 4)],
)
def test_early_grade_by_cumulative_days_at_or_below_500(severe_days: int, grade: int) -> None:
    # ANC 300/uL (<= 500, not <= 100) on days 0..n-1, then 2000/uL through day 30. 31 days is
    # the whole window: the ANC never recovered above 500 (Liang: `>= 31` = grade 4).
    assert early_n(window(300.0, range(severe_days))).grade == grade


@pytest.mark.parametrize(("anc", "grade"), [(500.0, 2), (500.5, 0), (100.0, 3), (100.5, 2)])
def test_early_thresholds_are_at_or_below(anc: float, grade: int) -> None:
    # 7 days at exactly the value: <= 500 counts (grade 2), <= 100 for 7 days is grade 3.
    assert early_n(window(anc, range(7))).grade == grade


@pytest.mark.parametrize(("profound_days", "grade"), [(6, 1), (7, 3), (13, 3), (14, 4)])
def test_profound_neutropenia_at_or_below_100(profound_days: int, grade: int) -> None:
    # ANC 50/uL on the first n days: <= 100 for 7-13 days is grade 3, >= 14 days grade 4
    # (before this review: < 100 for >= 7 days was grade 4).
    result = early_n(window(50.0, range(profound_days)))
    assert result.grade == grade
    if grade >= 3:
        assert "≤ 100/µL" in result.reason and str(profound_days) in result.reason


def test_never_recovered_from_an_early_nadir_is_grade_4() -> None:
    # ANC 800 on day 0 (before the nadir), <= 500 from day 2 (day 1 interpolates to 550) through
    # day 30: only 29 days, but never recovered above 500.
    values = {0: 800.0, 1: 550.0, **{d: 300.0 for d in range(2, 31)}}
    result = early_n(values)
    assert result.grade == 4
    assert "day 2" in result.reason and "day 30" in result.reason


def test_a_late_onset_without_recovery_is_graded_by_its_days() -> None:
    # Neutropenia from day 4 (after Liang's day-3 limit) to day 30: 27 days, grade 3.
    assert early_n(window(300.0, range(4, 31))).grade == 3


def test_death_before_recovery_is_grade_4_liang_patient_8() -> None:
    # Liang's example: "patient #8 never experienced count recovery before death/last follow-up
    # on day +16, but was assigned an early ICAHT grade of 3" by the longest-period method.
    values = {0: 900.0, **{d: 200.0 for d in range(1, 16)}}
    assert early_n(values, censor=16).grade == 4
    # The same 15 days in a series that merely stops (no death, progression or new therapy on
    # record): the window is not complete, so only the days count.
    assert early_n(values).grade == 3


def test_recovery_on_the_last_days_is_not_never_recovered() -> None:
    assert early_n(window(300.0, range(29))).grade == 3  # days 29 and 30 above 500


def test_transient_recovery_under_3_days_still_counts_as_neutropenic() -> None:
    # 5 days <= 500, 2 days above, 5 days <= 500: the 2-day blip is non-stable recovery -> 12.
    assert early_n(window(300.0, [*range(0, 5), *range(7, 12)])).grade == 2
    daily = daily_counts(
        series(window(300.0, [*range(0, 5), *range(7, 12)])),
        infusion=DAY0,
        first_day=0,
        last_day=30,
    )
    assert days_below(daily, lambda v: v <= 500) == 12


def test_stable_recovery_of_3_days_breaks_the_count() -> None:
    values = window(300.0, [*range(0, 4), *range(7, 10)])  # 4 + 3 days, 3-day gap
    assert early_n(values).grade == 2  # 7 days
    values[9] = 2000.0
    assert early_n(values).grade == 1  # 6 days


def test_missing_days_are_linearly_interpolated() -> None:
    daily = daily_counts(series({0: 1000.0, 4: 0.0}), infusion=DAY0, first_day=0, last_day=30)
    assert daily == {0: 1000.0, 1: 750.0, 2: 500.0, 3: 250.0, 4: 0.0}


def test_several_values_on_one_day_use_the_lowest() -> None:
    samples = [*series(window(2000.0, [])), CountSample(on=on(3), value=50.0)]
    daily = daily_counts(samples, infusion=DAY0, first_day=0, last_day=30)
    assert daily[3] == 50.0


def test_days_after_censoring_are_not_counted() -> None:
    # Neutropenia on days 5-25, relapse on day 10: days 5-9 only (5 days), grade 1.
    assert early_n(window(300.0, range(5, 26)), censor=10).grade == 1


def test_no_counts_is_no_grade() -> None:
    assert early_n({}).grade == 0


# -- late N-ICAHT --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second_lowest", "grade"),
    [(1500.5, 0), (1500, 1), (1000.5, 1), (1000, 2), (500.5, 2), (500, 3), (100.5, 3), (100, 4)],
)
def test_late_bands_are_at_or_below_on_two_tests(second_lowest: float, grade: int) -> None:
    values = {35: 20.0, 50: second_lowest, 70: 3000.0}
    result = late_neutrophil_icaht(series(values), infusion=DAY0)
    assert result.grade == grade


def test_late_single_low_value_is_not_enough() -> None:
    values = {10: 100.0, 40: 50.0, 60: 2500.0}
    assert late_neutrophil_icaht(series(values), infusion=DAY0).grade == 0


def test_late_ignores_days_0_to_30_and_after_day_100_and_after_censoring() -> None:
    values = {30: 50.0, 40: 80.0, 60: 90.0, 101: 10.0}
    assert late_neutrophil_icaht(series(values), infusion=DAY0).grade == 4
    censored = late_neutrophil_icaht(series(values), infusion=DAY0, censor_on=on(50))
    assert censored.grade == 0  # one value left before the relapse


# -- T-ICAHT -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("below_50", "below_20", "grade"),
    [(0, 0, 0), (1, 0, 1), (6, 0, 1), (7, 0, 2), (10, 1, 3), (20, 13, 3), (20, 14, 4)],
)
def test_early_platelet_grades(below_50: int, below_20: int, grade: int) -> None:
    values = window(150.0, [])
    values.update({d: 30.0 for d in range(below_50)})
    values.update({d: 10.0 for d in range(below_20)})
    assert early_platelet_icaht(series(values), infusion=DAY0).grade == grade


@pytest.mark.parametrize(("platelets", "grade"), [(50.0, 0), (49.9, 2), (20.0, 2), (19.9, 3)])
def test_early_platelet_thresholds_are_strictly_below(platelets: float, grade: int) -> None:
    values = window(platelets, range(7), other=150.0)
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
        ({40: 100.0, 60: 100.0}, 0),  # < 100 is strict
        ({40: 50.0, 60: 50.0}, 1),
        ({40: 20.0, 60: 20.0}, 2),
    ],
)
def test_late_platelet_grades(values: dict[int, float], grade: int) -> None:
    assert late_platelet_icaht(series(values), infusion=DAY0).grade == grade


# -- monotonicity --------------------------------------------------------------------------------

_GRADERS = (
    early_neutrophil_icaht,
    late_neutrophil_icaht,
    early_platelet_icaht,
    late_platelet_icaht,
)


@given(
    st.dictionaries(
        st.integers(0, 100),
        st.tuples(st.one_of(st.floats(0, 150), st.floats(0, 3000)), st.floats(0, 1)),
        min_size=1,
        max_size=25,
    ),
    st.one_of(st.none(), st.integers(1, 100)),
)
def test_a_worse_series_never_lowers_a_grade(
    points: dict[int, tuple[float, float]], censor: int | None
) -> None:
    base = {d: value for d, (value, _) in points.items()}
    worse = {d: value * factor for d, (value, factor) in points.items()}
    censor_on = None if censor is None else on(censor)
    for grade in _GRADERS:
        before = grade(series(base), infusion=DAY0, censor_on=censor_on).grade
        after = grade(series(worse), infusion=DAY0, censor_on=censor_on).grade
        assert after >= before, grade.__name__


# -- messages ------------------------------------------------------------------------------------


def test_reasons_are_in_the_readers_language() -> None:
    values = window(300.0, range(10))
    assert early_n(values).reason == "Grade 2: ANC ≤ 500/µL for 10 days"
    with use_locale("ru"):
        russian = early_n(values)
        late = late_platelet_icaht(series({40: 40.0, 60: 45.0}), infusion=DAY0)
        one_day = early_n(window(300.0, [0]))
    assert russian.grade == 2 and russian.reason == "Степень 2: АЧН ≤ 500/мкл в течение 10 дней"
    assert one_day.reason == "Степень 1: АЧН ≤ 500/мкл в течение 1 дня"
    assert late.reason.startswith("Степень 2: тромбоциты < 50 ×10⁹/л")


# -- recovery ------------------------------------------------------------------------------------


def test_anc_recovery_is_first_of_three_values_at_or_above_500_after_the_nadir() -> None:
    values = {0: 800.0, 3: 50.0, 6: 600.0, 7: 400.0, 9: 700.0, 11: 900.0, 14: 1500.0}
    recovery = anc_recovery(series(values))
    assert recovery.status is RecoveryStatus.RECOVERED
    assert recovery.on == on(9)


def test_anc_exactly_500_counts_towards_recovery() -> None:
    recovery = anc_recovery(series({0: 100.0, 1: 500.0, 2: 500.0, 3: 500.0}))
    assert recovery.on == on(1)


def test_anc_never_below_500_has_no_recovery_date() -> None:
    assert anc_recovery(series({0: 900.0, 5: 700.0})).status is RecoveryStatus.NO_CYTOPENIA


def test_anc_not_yet_recovered() -> None:
    recovery = anc_recovery(series({0: 100.0, 5: 600.0, 6: 700.0}))
    assert (recovery.status, recovery.on) == (RecoveryStatus.NOT_RECOVERED, None)


def test_platelet_recovery_waits_for_7_transfusion_free_days() -> None:
    values = {d: (5.0 if d < 5 else 40.0) for d in range(20)}
    recovery = platelet_recovery(series(values), transfusions=[on(6)])
    # Days 7-13 are the first 7 transfusion-free days, so the run starts on day 14.
    assert recovery.on == on(14)
    assert platelet_recovery(series(values)).on == on(5)
