"""ICAHT: immune effector cell-associated haematotoxicity, graded from count series.

Sources:
- Neutropenia (N-ICAHT): Rejeski K et al., Immune effector cell-associated hematotoxicity: EHA/EBMT
  consensus grading and best practice recommendations, Blood 2023;142:865-877, Table (grading), as
  summarised in clinical.md 1.7 [M: thresholds not re-verified]. Early (days 0-30) by cumulative
  days with ANC <= 500/uL: 1-6 d grade 1, 7-13 d grade 2, 14-29 d grade 3, >= 30 d grade 4, or
  ANC < 100/uL for >= 7 days grade 4. Late (after day 30) by ANC <= 1500 / <= 1000 / <= 500 /
  < 100 per uL = grades 1-4, needing two or more measurements.
- Thrombocytopenia (T-ICAHT): ash-sap.org view-large/12809257, Table 1 [V]. Early (days 0-30):
  platelets < 50 x10^9/L for 1-6 d grade 1, >= 7 d grade 2; < 20 for 1-13 d grade 3, >= 14 d
  grade 4. Late (days 31-100): < 100 grade 1, < 50 grade 2, < 20 for 1-13 d grade 3, >= 14 d grade
  4, each needing two or more laboratory tests. Cumulative days, censored at progression, new
  therapy or death; days of non-stable recovery (< 3 days above the threshold) count as below.
- Recovery: ANC recovery is the first of three consecutive values on different days >= 500/uL
  after the nadir (CIBMTR Forms Instruction Manual, "Initial ANC recovery") [V]; platelet recovery
  is the first of three consecutive values >= 20 x10^9/L with no platelet transfusion in the
  preceding 7 days (ASTCT, Kharfan-Dabaja 2021, PMC11161398 Table 1) [V].

Why hand-written: no maintained Python library grades ICAHT. Counts between two measurements are
linearly interpolated day by day, the approach of Liang's published automated ICAHT grading
(emilyliangmd.github.io/automatedicahtgrading); days before the first or after the last measurement
are not counted (unknown, not assumed normal). Several values on one day: the lowest is used.
Units: ANC in cells/uL, platelets in x10^9/L.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

EARLY_LAST_DAY = 30
LATE_LAST_DAY = 100
NONSTABLE_RECOVERY_DAYS = 3
RECOVERY_RUN = 3
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
    reason: str


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


def days_below(daily: dict[int, float], below: Callable[[float], bool]) -> int:
    """Cumulative days below a threshold, counting non-stable recovery (< 3 days) as below.

    Source: T-ICAHT Table 1 note ("days of nonstable count recovery (<3 days) are counted to the
    cumulative total"), following the N-ICAHT logic of Rejeski 2023.
    """
    days = sorted(daily)
    flags = [below(daily[d]) for d in days]
    count = sum(flags)
    i = 0
    while i < len(flags):
        if flags[i]:
            i += 1
            continue
        j = i
        while j < len(flags) and not flags[j]:
            j += 1
        gap_is_bounded = i > 0 and j < len(flags)
        if gap_is_bounded and days[j] - days[i - 1] - 1 < NONSTABLE_RECOVERY_DAYS:
            count += j - i
        i = j
    return count


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
    """Early N-ICAHT (days 0-30) from days with ANC <= 500/uL and < 100/uL.

    Source: Rejeski 2023 (EHA/EBMT) ICAHT grading table, early ICAHT rows [M via clinical.md 1.7].
    """
    daily = daily_counts(
        anc, infusion=infusion, first_day=0, last_day=EARLY_LAST_DAY, censor_on=censor_on
    )
    d500 = days_below(daily, lambda v: v <= 500)
    d100 = days_below(daily, lambda v: v < 100)
    if d100 >= 7:
        return IcahtGrade(grade=4, reason=f"grade 4: ANC < 100/uL for {d100} days (>= 7)")
    if d500 >= 30:
        return IcahtGrade(grade=4, reason=f"grade 4: ANC <= 500/uL for {d500} days (>= 30)")
    for grade, low in ((3, 14), (2, 7), (1, 1)):
        if d500 >= low:
            return IcahtGrade(grade=grade, reason=f"grade {grade}: ANC <= 500/uL for {d500} days")
    return IcahtGrade(grade=0, reason="no early ICAHT: ANC never <= 500/uL in days 0-30")


def late_neutrophil_icaht(
    anc: Sequence[CountSample],
    *,
    infusion: dt.date,
    censor_on: dt.date | None = None,
    last_day: int = LATE_LAST_DAY,
) -> IcahtGrade:
    """Late N-ICAHT (after day 30): the worst band reached by at least two measurements.

    Source: Rejeski 2023 ICAHT table, late rows (ANC <= 1500 / 1000 / 500, < 100 per uL; >= 2
    measurements or non-transient) [M via clinical.md 1.7]. Only the ">= 2 measurements" form is
    encoded: the second-lowest value decides.
    """
    values = _late_values(anc, infusion, censor_on, last_day)
    if len(values) < 2:
        return IcahtGrade(grade=0, reason="no late ICAHT: fewer than 2 ANC values after day 30")
    second = values[1]
    bands = (
        (4, second < 100, "< 100"),
        (3, second <= 500, "<= 500"),
        (2, second <= 1000, "<= 1000"),
        (1, second <= 1500, "<= 1500"),
    )
    for grade, hit, label in bands:
        if hit:
            return IcahtGrade(grade=grade, reason=f"grade {grade}: ANC {label}/uL on >= 2 tests")
    return IcahtGrade(grade=0, reason="no late ICAHT: ANC > 1500/uL after day 30")


def early_platelet_icaht(
    platelets: Sequence[CountSample], *, infusion: dt.date, censor_on: dt.date | None = None
) -> IcahtGrade:
    """Early T-ICAHT (days 0-30) from cumulative days below 50 and 20 x10^9/L.

    Source: T-ICAHT Table 1, early rows (ash-sap.org view-large/12809257) [V].
    """
    daily = daily_counts(
        platelets, infusion=infusion, first_day=0, last_day=EARLY_LAST_DAY, censor_on=censor_on
    )
    d20 = days_below(daily, lambda v: v < 20)
    d50 = days_below(daily, lambda v: v < 50)
    if d20 >= 14:
        return IcahtGrade(grade=4, reason=f"grade 4: platelets < 20 for {d20} days (>= 14)")
    if d20 >= 1:
        return IcahtGrade(grade=3, reason=f"grade 3: platelets < 20 for {d20} days (1-13)")
    if d50 >= 7:
        return IcahtGrade(grade=2, reason=f"grade 2: platelets < 50 for {d50} days (>= 7)")
    if d50 >= 1:
        return IcahtGrade(grade=1, reason=f"grade 1: platelets < 50 for {d50} days (1-6)")
    return IcahtGrade(grade=0, reason="no early T-ICAHT: platelets never < 50 in days 0-30")


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
        return IcahtGrade(grade=0, reason="no late T-ICAHT: fewer than 2 platelet values")
    second = values[1]
    if second < 20:
        daily = daily_counts(
            platelets,
            infusion=infusion,
            first_day=EARLY_LAST_DAY + 1,
            last_day=last_day,
            censor_on=censor_on,
        )
        d20 = days_below(daily, lambda v: v < 20)
        grade = 4 if d20 >= 14 else 3
        return IcahtGrade(grade=grade, reason=f"grade {grade}: platelets < 20 for {d20} days")
    if second < 50:
        return IcahtGrade(grade=2, reason="grade 2: platelets < 50 on >= 2 tests after day 30")
    if second < 100:
        return IcahtGrade(grade=1, reason="grade 1: platelets < 100 on >= 2 tests after day 30")
    return IcahtGrade(grade=0, reason="no late T-ICAHT: platelets >= 100 after day 30")


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
