"""Per-episode course of CRS or ICANS from its graded assessments: maximum grade, onset, duration.

Definitions (the registry fields of CIBMTR F4100, "date of onset", "maximum grade", "date of
resolution"; clinical.md 3.1):
- onset: the first assessment with grade >= 1; `onset_day` is its calendar day counted from the
  infusion date (day 0), in the treating center's time zone;
- maximum grade: the highest grade of any assessment, with the first time it was reached;
- resolution: the first grade-0 assessment after the last assessment with grade >= 1; the syndrome
  is ongoing while no such assessment exists;
- duration: calendar days from the onset date to the resolution date (same-day resolution = 0);
  while ongoing, to the date of the latest assessment.
A syndrome that recurs after a grade-0 assessment is one course from the first onset to the last
resolution (the registry forms ask for one onset and one resolution per syndrome).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class GradedPoint:
    at: dt.datetime
    grade: int


class CourseSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    assessments: int
    max_grade: int
    max_grade_at: dt.datetime | None
    onset_at: dt.datetime | None
    onset_day: int | None
    resolved_at: dt.datetime | None
    ongoing: bool
    duration_days: int | None


def summarise_course(
    points: Sequence[GradedPoint], *, infusion_date: dt.date | None, timezone: str
) -> CourseSummary:
    """Summary of one syndrome's assessments (any order)."""
    tz = ZoneInfo(timezone)
    ordered = sorted(points, key=lambda p: p.at)
    positive = [p for p in ordered if p.grade >= 1]
    if not positive:
        return CourseSummary(
            assessments=len(ordered),
            max_grade=0,
            max_grade_at=None,
            onset_at=None,
            onset_day=None,
            resolved_at=None,
            ongoing=False,
            duration_days=None,
        )
    onset = positive[0].at
    last_positive = positive[-1].at
    worst = max(p.grade for p in ordered)
    worst_at = next(p.at for p in ordered if p.grade == worst)
    resolved = next((p.at for p in ordered if p.at > last_positive and p.grade == 0), None)
    end = resolved if resolved is not None else ordered[-1].at
    onset_day = (
        (onset.astimezone(tz).date() - infusion_date).days if infusion_date is not None else None
    )
    return CourseSummary(
        assessments=len(ordered),
        max_grade=worst,
        max_grade_at=worst_at,
        onset_at=onset,
        onset_day=onset_day,
        resolved_at=resolved,
        ongoing=resolved is None,
        duration_days=(end.astimezone(tz).date() - onset.astimezone(tz).date()).days,
    )
