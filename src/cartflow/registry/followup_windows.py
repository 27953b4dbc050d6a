"""CIBMTR-style follow-up schedule: which follow-up reports are upcoming, due, overdue or done.

Source: CIBMTR Forms Instruction Manual, Form 4100 (Cellular Therapy Essential Data Follow-Up),
question 2, contact date table, and "Determining Contact Dates" (manula.com/manuals/cibmtr/fim):

| time point | window |
|---|---|
| 100 days | +/- 15 days (day 85-115) |
| 6 months | +/- 30 days (day 150-210) |
| 1 year | + 60 days (day 365-425; manual update of 19 Dec 2023) |
| 2 years and later | +/- 30 days around each anniversary |

Day 0 is the infusion date. The 1-year window is counted in days as the manual states it; the
later ones centre on calendar anniversaries of the infusion (29 February maps to 28 February).

Reporting tracks (CIBMTR "Cell therapy reporting tracks and follow-up schedules"): the 15-year
track (genetically modified products such as commercial CAR-T in PASS studies) reports at 100 days,
6 months and yearly to 15 years; the standard track at 100 days, 6 months, yearly to 6 years, then
at 8, 10, 12 and 14 years; the 100-day track only at 100 days.

A window is *done* when a contact date falls inside it, *due* while today is inside it, *overdue*
once it has closed without a contact, and *upcoming* before it opens. Windows that open after the
follow-up end (death, withdrawal, a subsequent infusion) are not owed and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from cartflow.errors import InvalidInput
from cartflow.i18n import _


class FollowUpTrack(StrEnum):
    FIFTEEN_YEAR = "15-year"
    STANDARD = "standard"
    DAY_100_ONLY = "100-day"


class WindowStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"


@dataclass(frozen=True)
class FollowUpWindow:
    label: str
    target: date
    opens: date
    closes: date


@dataclass(frozen=True)
class FollowUpItem:
    window: FollowUpWindow
    status: WindowStatus
    contact_date: date | None


@dataclass(frozen=True)
class FollowUpSubject:
    patient_id: str
    infusion_date: date
    track: FollowUpTrack = FollowUpTrack.FIFTEEN_YEAR
    contact_dates: tuple[date, ...] = ()
    end_date: date | None = None


@dataclass(frozen=True)
class FollowUpRow:
    """One line of the follow-up data set (flat, for CSV export)."""

    patient_id: str
    track: str
    time_point: str
    target: date
    opens: date
    closes: date
    status: str
    contact_date: date | None


def _years(track: FollowUpTrack) -> tuple[int, ...]:
    if track is FollowUpTrack.FIFTEEN_YEAR:
        return tuple(range(1, 16))
    if track is FollowUpTrack.STANDARD:
        return (1, 2, 3, 4, 5, 6, 8, 10, 12, 14)
    return ()


def _anniversary(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a non-leap year
        return start.replace(year=start.year + years, day=28)


def follow_up_schedule(
    infusion_date: date, *, track: FollowUpTrack = FollowUpTrack.FIFTEEN_YEAR
) -> tuple[FollowUpWindow, ...]:
    """Every follow-up window of `track`, in time order."""
    day = timedelta(days=1)
    windows = [
        FollowUpWindow(
            "day 100",
            infusion_date + 100 * day,
            infusion_date + 85 * day,
            infusion_date + 115 * day,
        ),
    ]
    if track is FollowUpTrack.DAY_100_ONLY:
        return tuple(windows)
    windows.append(
        FollowUpWindow(
            "6 months",
            infusion_date + 180 * day,
            infusion_date + 150 * day,
            infusion_date + 210 * day,
        )
    )
    for years in _years(track):
        if years == 1:
            # The manual states this one in days (365-425), not around the anniversary.
            start = infusion_date + 365 * day
            windows.append(FollowUpWindow("1 year", start, start, infusion_date + 425 * day))
        else:
            target = _anniversary(infusion_date, years)
            windows.append(
                FollowUpWindow(f"{years} years", target, target - 30 * day, target + 30 * day)
            )
    return tuple(windows)


def follow_up_status(
    infusion_date: date,
    *,
    today: date,
    contact_dates: Sequence[date] = (),
    track: FollowUpTrack = FollowUpTrack.FIFTEEN_YEAR,
    end_date: date | None = None,
) -> tuple[FollowUpItem, ...]:
    """Status of each owed window on `today`; a done window keeps the contact closest to target."""
    if end_date is not None and end_date < infusion_date:
        raise InvalidInput(
            _(
                "follow-up end {end} is before the infusion on {infusion}",
                end=end_date.isoformat(),
                infusion=infusion_date.isoformat(),
            ),
            field="end_date",
        )
    items = []
    for window in follow_up_schedule(infusion_date, track=track):
        if end_date is not None and window.opens > end_date:
            continue
        inside = [d for d in contact_dates if window.opens <= d <= window.closes]
        if inside:
            best = min(inside, key=lambda d: (abs((d - window.target).days), d))
            items.append(FollowUpItem(window, WindowStatus.DONE, best))
        elif today < window.opens:
            items.append(FollowUpItem(window, WindowStatus.UPCOMING, None))
        elif today <= window.closes:
            items.append(FollowUpItem(window, WindowStatus.DUE, None))
        else:
            items.append(FollowUpItem(window, WindowStatus.OVERDUE, None))
    return tuple(items)


def follow_up_dataset(subjects: Sequence[FollowUpSubject], *, today: date) -> list[FollowUpRow]:
    """The follow-up data set: one row per patient and owed time point, with its status."""
    rows = []
    for subject in subjects:
        for item in follow_up_status(
            subject.infusion_date,
            today=today,
            contact_dates=subject.contact_dates,
            track=subject.track,
            end_date=subject.end_date,
        ):
            rows.append(
                FollowUpRow(
                    patient_id=subject.patient_id,
                    track=subject.track.value,
                    time_point=item.window.label,
                    target=item.window.target,
                    opens=item.window.opens,
                    closes=item.window.closes,
                    status=item.status.value,
                    contact_date=item.contact_date,
                )
            )
    return rows
