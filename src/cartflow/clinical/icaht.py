"""ICAHT: immune effector cell-associated haematotoxicity, graded from count series.

Sources, and what was checked where (review of 2026-11-25, issue #6 item 6):

- Neutropenia (N-ICAHT): Rejeski K et al., Immune effector cell-associated hematotoxicity:
  EHA/EBMT consensus grading and best practice recommendations, Blood 2023;142(10):865-877, the
  ICAHT grading table. The table itself is NOT in any stored copy we could reach (abstract only:
  UCL Discovery eprint 10172207, "a classification system based on depth and duration of
  neutropenia was developed for early (day 0-30) and late (after day +30) cytopenia"). The
  thresholds below are confirmed [V, secondary] by the published automated grading of Liang
  (github.com/emilyliangmd/automatedicahtgrading, index.Rmd, "Assignment of early ICAHT grades
  ... according to the EHA/EBMT ICAHT criteria", citing Rejeski 2023), whose code reads:
  grade 1 `duration_below_501_max %in% 1:6`; grade 2 `%in% 7:13`; grade 3 `%in% 14:30` or
  `duration_below_101_max %in% 7:13`; grade 4 `>= 31` (the whole window) or
  `duration_below_101_max >= 14`; thresholds 501 and 101 "to reflect the early ICAHT threshold
  of ANC <= 500 cells/uL" / "<= 100 cells/uL"; and "One of the definitions for grade 4 early
  ICAHT is never recovering ANC > 500 cells/uL". Late: `anc_1 %in% 1001:1500` grade 1,
  `501:1000` grade 2, `101:500` grade 3, `anc_1 <= 100` grade 4. "<= 100" also matches the
  group's wording in Rejeski 2021 Table 2 (PMC8893508/table/T2): "Profound ANC <=100 cells per
  uL". CORRECTED here: before this review ANC < 100/uL for >= 7 days was grade 4 and the
  profound threshold was "< 100"; now <= 100/uL for 7-13 days is grade 3, >= 14 days grade 4.
- Thrombocytopenia (T-ICAHT) [V]: ash-sap.org view-large/12809257, Table 1 "Definition of
  T-ICAHT grading": early (days 0-30) "PLT count <50 x 10^9/L | 1-6 | >=7" (grades 1, 2), "PLT
  count <20 x 10^9/L | - | - | 1-13 | >=14" (grades 3, 4); late (days 31-100) "<100 ... >=1"
  (grade 1), "<50 ... >=1" (grade 2: the pipe rendering of that row drops the empty first
  cell; the tab rendering puts ">=1" under grade 2), "<20 ... 1-13 | >=14" (grades 3, 4), with
  the footnote "Two or more laboratory tests or nontransient thrombocytopenia". Its note: "the
  cumulative length beneath the respective threshold is calculated, censoring at the time of
  disease progression, subsequent line of therapy, or death. Days of nonstable count recovery
  (<3 days) are counted to the cumulative total of days" and T-ICAHT "follows the principal
  logic of the existing N-ICAHT grading", which is why N-ICAHT days are cumulative here too.
- Recovery: ANC recovery is the first of three consecutive values on different days >= 500/uL
  after the nadir (CIBMTR Forms Instruction Manual, "Initial ANC recovery": "Do not begin
  counting ANC values of >= 0.5 x 10^9/L towards recovery until the ANC has dropped to the lowest
  level (nadir)") [V]; platelet recovery is "the first of 3 consecutive days with a PLT count of
  >=20 x 10^9/L in the absence of a PLT transfusion for 7 consecutive days" (T-ICAHT Table 1
  footnote; ASTCT, Kharfan-Dabaja 2021, PMC11161398 Table 1) [V].

Decisions where the sources leave room (not verified, ours):
- Missing days are linearly interpolated between measurements (Liang does the same, up to 7
  missing days); days before the first or after the last measurement are not counted (unknown,
  not assumed normal). Several values on one day: the lowest is used (Liang: `slice_min`).
- Early grade 4 "never recovering": the neutropenic period (ANC <= 500/uL, gaps < 3 days joined)
  began by day 3 (Liang's rule, since day 0 often precedes the nadir) and lasts to the last
  measured day, and that day closes the window (day 30, or the last value before censoring). A
  series that simply stops before day 30 without censoring is not called grade 4 by this rule.
- T-ICAHT thresholds are strict ("<50", "<20", "<100") as printed in the table, although one
  public R notebook ("T-ICAHT coding", found in the code index) uses "<=" and joins gaps of up
  to 6 days; the table's "<3 days" rule is used for gaps.
- Late N-ICAHT and late T-ICAHT need two or more tests in the band: the second-lowest value
  decides (the literal reading of "two or more laboratory tests"). Liang instead grades by the
  nadir when a second value is <= 1500 and grades a single value; that grades higher.
Units: ANC in cells/uL, platelets in x10^9/L.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cartflow.i18n import gettext, ngettext

EARLY_LAST_DAY = 30
LATE_LAST_DAY = 100
NONSTABLE_RECOVERY_DAYS = 3
RECOVERY_RUN = 3

# N-ICAHT (ANC, cells/uL; every threshold is "at or below").
SEVERE_ANC_PER_UL = 500.0
PROFOUND_ANC_PER_UL = 100.0
EARLY_SEVERE_DAYS_BY_GRADE = ((3, 14), (2, 7), (1, 1))
PROFOUND_DAYS_GRADE_3 = 7
PROFOUND_DAYS_GRADE_4 = 14
NEVER_RECOVERED_START_BY_DAY = 3
LATE_ANC_BANDS = ((4, 100.0), (3, 500.0), (2, 1000.0), (1, 1500.0))

# T-ICAHT (platelets, x10^9/L; every threshold is "below").
PLATELETS_SEVERE_10E9_L = 20.0
PLATELETS_MODERATE_10E9_L = 50.0
EARLY_MODERATE_DAYS_GRADE_2 = 7
SEVERE_DAYS_GRADE_4 = 14
LATE_PLATELET_BANDS = ((2, 50.0), (1, 100.0))

ANC_RECOVERY_PER_UL = 500.0
PLATELET_RECOVERY_10E9_L = 20.0
PLATELET_TRANSFUSION_FREE_DAYS = 7


class CountSample(BaseModel):
    """One laboratory value on a calendar date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on: dt.date
    value: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class IcahtGrade(BaseModel):
    model_config = ConfigDict(frozen=True)

    grade: int
    reason: str  # in the reader's language (rendered when graded)


class RecoveryStatus(StrEnum):
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    NO_CYTOPENIA = "no_cytopenia"  # the nadir never fell below the recovery threshold


class Recovery(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: RecoveryStatus
    on: dt.date | None = None


def _daily_lowest(samples: Iterable[CountSample]) -> dict[dt.date, float]:
    lowest: dict[dt.date, float] = {}
    for s in samples:
        lowest[s.on] = min(s.value, lowest.get(s.on, s.value))
    return dict(sorted(lowest.items()))


def daily_counts(
    samples: Iterable[CountSample],
    *,
    infusion: dt.date,
    first_day: int,
    last_day: int,
    censor_on: dt.date | None = None,
) -> dict[int, float]:
    """Day (relative to infusion) -> count, linearly interpolated between measurements.

    Only days inside [first_day, last_day], inside the measured span, and before `censor_on`
    (progression, new therapy or death) are returned.
    """
    points = [((d - infusion).days, v) for d, v in _daily_lowest(samples).items()]
    daily: dict[int, float] = {}
    for (d0, v0), (d1, v1) in itertools.pairwise(points):
        for day in range(d0, d1):
            daily[day] = v0 + (v1 - v0) * (day - d0) / (d1 - d0)
    if points:
        daily[points[-1][0]] = points[-1][1]
    stop = (censor_on - infusion).days if censor_on is not None else last_day + 1
    return {d: v for d, v in daily.items() if first_day <= d <= last_day and d < stop}


def _runs(flags: list[bool], days: list[int]) -> list[tuple[int, int]]:
    """Index ranges [start, end] of below-threshold periods, joined across non-stable gaps."""
    runs: list[tuple[int, int]] = []
    for i, below in enumerate(flags):
        if not below:
            continue
        if runs and days[i] - days[runs[-1][1]] - 1 < NONSTABLE_RECOVERY_DAYS:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def days_below(daily: dict[int, float], below: Callable[[float], bool]) -> int:
    """Cumulative days below a threshold, counting non-stable recovery (< 3 days) as below.

    Source: T-ICAHT Table 1 note ("Days of nonstable count recovery (<3 days) are counted to the
    cumulative total of days"), following the N-ICAHT logic of Rejeski 2023.
    """
    days = sorted(daily)
    flags = [below(daily[d]) for d in days]
    runs = _runs(flags, days)
    return sum(days[end] - days[start] + 1 for start, end in runs)


def _never_recovered(daily: dict[int, float], *, censored: bool) -> tuple[int, int] | None:
    """(first, last) day of a severe neutropenia that began by day 3 and never stably recovered
    through the end of a complete window (day 30, or the last value before censoring)."""
    days = sorted(daily)
    if not days or (not censored and days[-1] < EARLY_LAST_DAY):
        return None
    flags = [daily[d] <= SEVERE_ANC_PER_UL for d in days]
    runs = _runs(flags, days)
    if not runs or runs[-1][1] != len(days) - 1:
        return None
    first = days[runs[-1][0]]
    return (first, days[-1]) if first <= NEVER_RECOVERED_START_BY_DAY else None


def _late_values(
    samples: Iterable[CountSample], infusion: dt.date, censor_on: dt.date | None, last_day: int
) -> list[float]:
    return sorted(
        v
        for d, v in _daily_lowest(samples).items()
        if EARLY_LAST_DAY < (d - infusion).days <= last_day and (censor_on is None or d < censor_on)
    )


def early_neutrophil_icaht(
    anc: Sequence[CountSample], *, infusion: dt.date, censor_on: dt.date | None = None
) -> IcahtGrade:
    """Early N-ICAHT (days 0-30) from cumulative days with ANC <= 500/uL and <= 100/uL.

    Grade 1: <= 500 for 1-6 days; 2: 7-13 days; 3: >= 14 days or <= 100 for 7-13 days;
    4: never recovered above 500 or <= 100 for >= 14 days (sources in the module docstring).
    """
    daily = daily_counts(
        anc, infusion=infusion, first_day=0, last_day=EARLY_LAST_DAY, censor_on=censor_on
    )
    d500 = days_below(daily, lambda v: v <= SEVERE_ANC_PER_UL)
    d100 = days_below(daily, lambda v: v <= PROFOUND_ANC_PER_UL)
    if d100 >= PROFOUND_DAYS_GRADE_4:
        reason = ngettext(
            "Grade 4: ANC ≤ 100/µL for {n} day (14 or more)",
            "Grade 4: ANC ≤ 100/µL for {n} days (14 or more)",
            d100,
        )
        return IcahtGrade(grade=4, reason=reason)
    never = _never_recovered(daily, censored=censor_on is not None)
    if never is not None:
        reason = gettext(
            "Grade 4: ANC never recovered above 500/µL (≤ 500/µL from day {first} to day {last})",
            first=never[0],
            last=never[1],
        )
        return IcahtGrade(grade=4, reason=reason)
    if d100 >= PROFOUND_DAYS_GRADE_3:
        reason = ngettext(
            "Grade 3: ANC ≤ 100/µL for {n} day (7-13)",
            "Grade 3: ANC ≤ 100/µL for {n} days (7-13)",
            d100,
        )
        return IcahtGrade(grade=3, reason=reason)
    for grade, low in EARLY_SEVERE_DAYS_BY_GRADE:
        if d500 >= low:
            reason = ngettext(
                "Grade {grade}: ANC ≤ 500/µL for {n} day",
                "Grade {grade}: ANC ≤ 500/µL for {n} days",
                d500,
                grade=grade,
            )
            return IcahtGrade(grade=grade, reason=reason)
    return IcahtGrade(grade=0, reason=gettext("No early ICAHT: ANC never ≤ 500/µL in days 0-30"))


def late_neutrophil_icaht(
    anc: Sequence[CountSample],
    *,
    infusion: dt.date,
    censor_on: dt.date | None = None,
    last_day: int = LATE_LAST_DAY,
) -> IcahtGrade:
    """Late N-ICAHT (after day 30): ANC <= 1500 / 1000 / 500 / 100 per uL = grades 1-4.

    A band counts when two or more tests reach it: the second-lowest value decides.
    """
    values = _late_values(anc, infusion, censor_on, last_day)
    if len(values) < 2:
        return IcahtGrade(
            grade=0, reason=gettext("No late ICAHT: fewer than 2 ANC values after day 30")
        )
    second = values[1]
    for grade, limit in LATE_ANC_BANDS:
        if second <= limit:
            reason = gettext(
                "Grade {grade}: ANC ≤ {limit}/µL on 2 or more tests after day 30",
                grade=grade,
                limit=int(limit),
            )
            return IcahtGrade(grade=grade, reason=reason)
    return IcahtGrade(
        grade=0,
        reason=gettext("No late ICAHT: ANC ≤ 1500/µL on fewer than 2 tests after day 30"),
    )


def early_platelet_icaht(
    platelets: Sequence[CountSample], *, infusion: dt.date, censor_on: dt.date | None = None
) -> IcahtGrade:
    """Early T-ICAHT (days 0-30) from cumulative days below 50 and 20 x10^9/L.

    Source: T-ICAHT Table 1, early rows (ash-sap.org view-large/12809257) [V].
    """
    daily = daily_counts(
        platelets, infusion=infusion, first_day=0, last_day=EARLY_LAST_DAY, censor_on=censor_on
    )
    d20 = days_below(daily, lambda v: v < PLATELETS_SEVERE_10E9_L)
    d50 = days_below(daily, lambda v: v < PLATELETS_MODERATE_10E9_L)
    if d20 >= SEVERE_DAYS_GRADE_4:
        reason = ngettext(
            "Grade 4: platelets < 20 ×10⁹/L for {n} day (14 or more)",
            "Grade 4: platelets < 20 ×10⁹/L for {n} days (14 or more)",
            d20,
        )
        return IcahtGrade(grade=4, reason=reason)
    if d20 >= 1:
        reason = ngettext(
            "Grade 3: platelets < 20 ×10⁹/L for {n} day (1-13)",
            "Grade 3: platelets < 20 ×10⁹/L for {n} days (1-13)",
            d20,
        )
        return IcahtGrade(grade=3, reason=reason)
    if d50 >= EARLY_MODERATE_DAYS_GRADE_2:
        reason = ngettext(
            "Grade 2: platelets < 50 ×10⁹/L for {n} day (7 or more)",
            "Grade 2: platelets < 50 ×10⁹/L for {n} days (7 or more)",
            d50,
        )
        return IcahtGrade(grade=2, reason=reason)
    if d50 >= 1:
        reason = ngettext(
            "Grade 1: platelets < 50 ×10⁹/L for {n} day (1-6)",
            "Grade 1: platelets < 50 ×10⁹/L for {n} days (1-6)",
            d50,
        )
        return IcahtGrade(grade=1, reason=reason)
    return IcahtGrade(
        grade=0, reason=gettext("No early T-ICAHT: platelets never < 50 ×10⁹/L in days 0-30")
    )


def late_platelet_icaht(
    platelets: Sequence[CountSample],
    *,
    infusion: dt.date,
    censor_on: dt.date | None = None,
    last_day: int = LATE_LAST_DAY,
) -> IcahtGrade:
    """Late T-ICAHT (days 31-100), each band needing two or more laboratory tests.

    Source: T-ICAHT Table 1, late rows and footnote (ash-sap.org view-large/12809257) [V].
    """
    values = _late_values(platelets, infusion, censor_on, last_day)
    if len(values) < 2:
        return IcahtGrade(
            grade=0, reason=gettext("No late T-ICAHT: fewer than 2 platelet values after day 30")
        )
    second = values[1]
    if second < PLATELETS_SEVERE_10E9_L:
        daily = daily_counts(
            platelets,
            infusion=infusion,
            first_day=EARLY_LAST_DAY + 1,
            last_day=last_day,
            censor_on=censor_on,
        )
        d20 = days_below(daily, lambda v: v < PLATELETS_SEVERE_10E9_L)
        grade = 4 if d20 >= SEVERE_DAYS_GRADE_4 else 3
        reason = ngettext(
            "Grade {grade}: platelets < 20 ×10⁹/L for {n} day after day 30",
            "Grade {grade}: platelets < 20 ×10⁹/L for {n} days after day 30",
            d20,
            grade=grade,
        )
        return IcahtGrade(grade=grade, reason=reason)
    for grade, limit in LATE_PLATELET_BANDS:
        if second < limit:
            reason = gettext(
                "Grade {grade}: platelets < {limit} ×10⁹/L on 2 or more tests after day 30",
                grade=grade,
                limit=int(limit),
            )
            return IcahtGrade(grade=grade, reason=reason)
    return IcahtGrade(
        grade=0,
        reason=gettext(
            "No late T-ICAHT: platelets < 100 ×10⁹/L on fewer than 2 tests after day 30"
        ),
    )


def _recovery(
    samples: Iterable[CountSample],
    threshold: float,
    qualifies: Callable[[dt.date, dt.date], bool],
) -> Recovery:
    series = list(_daily_lowest(samples).items())
    if not series:
        return Recovery(status=RecoveryStatus.NOT_RECOVERED)
    nadir_index = min(range(len(series)), key=lambda i: (series[i][1], i))
    if series[nadir_index][1] >= threshold:
        return Recovery(status=RecoveryStatus.NO_CYTOPENIA)
    after = series[nadir_index + 1 :]
    for start in range(len(after) - RECOVERY_RUN + 1):
        run = after[start : start + RECOVERY_RUN]
        if all(v >= threshold for _, v in run) and qualifies(run[0][0], run[-1][0]):
            return Recovery(status=RecoveryStatus.RECOVERED, on=run[0][0])
    return Recovery(status=RecoveryStatus.NOT_RECOVERED)


def anc_recovery(anc: Sequence[CountSample]) -> Recovery:
    """First of 3 consecutive values (different days) with ANC >= 500/uL after the nadir.

    Source: CIBMTR Forms Instruction Manual, initial ANC recovery [V]. Nadir: the first occurrence
    of the lowest value in the series.
    """
    return _recovery(anc, ANC_RECOVERY_PER_UL, lambda _first, _last: True)


def platelet_recovery(
    platelets: Sequence[CountSample], transfusions: Iterable[dt.date] = ()
) -> Recovery:
    """First of 3 consecutive values >= 20 x10^9/L, no platelet transfusion in the prior 7 days.

    Source: ASTCT consensus definitions (Kharfan-Dabaja 2021; PMC11161398 Table 1) [V].
    Decision: no transfusion in the 7 days before the first qualifying value nor up to the third
    (a count propped up by a transfusion during the run is not recovery); as for ANC, counting
    starts after the nadir.
    """
    given = sorted(set(transfusions))

    def untransfused(first: dt.date, last: dt.date) -> bool:
        window = dt.timedelta(days=PLATELET_TRANSFUSION_FREE_DAYS)
        return not any(first - window <= t <= last for t in given)

    return _recovery(platelets, PLATELET_RECOVERY_10E9_L, untransfused)
