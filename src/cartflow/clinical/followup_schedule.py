"""Post-infusion follow-up schedule per product, with due/overdue status for worklists.

Schedule (issue 6, item 8): day 7, 14, 28, 100, month 6, year 1, then yearly to year 15 for
gene-modified products (FDA and EMA expect 15-year follow-up for integrating-vector products;
clinical.md 3.1). A product that is not gene-modified follows the CIBMTR "standard" track after
year 1: years 2-6, then 8, 10, 12 and 14 (clinical.md 3.1, reporting tracks [V]).

Windows: the CIBMTR F4100 contact-date ranges (Forms Instruction Manual, "Contact Dates" [V]):
day 100 +/- 15 (days 85-115), 6 months = day 180 +/- 30 (days 150-210), 1 year = days 365-425
(stated in days by the manual, update of 19 Dec 2023; clinical.md 3.1 [V]), then +/- 30 days
around each later anniversary, taken from `cartflow.registry.followup_windows` (one rule for the
clinic and the registry); this module adds the early clinical visits and a per-visit worklist
status.
The day 7, 14 and 28 windows (+/- 1, 2, 3 days) are local defaults, not from a source.

Invariants: visits are listed in date order; a visit whose window opens after the follow-up
stopped (death, withdrawal, or the day before a subsequent HCT or gene-modified therapy, which
CIBMTR uses as the last contact date) is not expected; a visit is overdue only after its window
has closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from cartflow.i18n import Message, _
from cartflow.registry.followup_windows import FollowUpTrack, follow_up_schedule

EARLY_VISITS: tuple[tuple[int, int], ...] = ((7, 1), (14, 2), (28, 3))  # (day, +/- days) local


class VisitStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    DONE_OUT_OF_WINDOW = "done_out_of_window"
    NOT_EXPECTED = "not_expected"


#: What pages show for each status (the API keeps the enum value).
VISIT_STATUS_LABELS: dict[VisitStatus, Message] = {
    VisitStatus.UPCOMING: _("upcoming"),
    VisitStatus.DUE: _("due"),
    VisitStatus.OVERDUE: _("overdue"),
    VisitStatus.DONE: _("done"),
    VisitStatus.DONE_OUT_OF_WINDOW: _("done out of window"),
    VisitStatus.NOT_EXPECTED: _("not expected"),
}


def visit_label(key: str) -> Message:
    """A visit's name in the reader's language, from its key (`day_7`, `month_6`, `year_3`)."""
    unit, _sep, number = key.partition("_")
    if unit == "day":
        return _("Day {number}", number=number)
    if unit == "month":
        return _("Month {number}", number=number)
    return _("Year {number}", number=number)


class ScheduledVisit(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # "day_7", "day_100", "month_6", "year_1", ...
    label: str
    target: dt.date
    window_start: dt.date
    window_end: dt.date
    registry_report: bool  # a CIBMTR F4100 / EBMT follow-up time point


class VisitState(BaseModel):
    model_config = ConfigDict(frozen=True)

    visit: ScheduledVisit
    status: VisitStatus
    completed_on: dt.date | None = None


def anniversary(start: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February falls on 28 February in common years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def _visit(
    key: str, label: str, target: dt.date, before: int, after: int, *, registry: bool
) -> ScheduledVisit:
    return ScheduledVisit(
        key=key,
        label=label,
        target=target,
        window_start=target - dt.timedelta(days=before),
        window_end=target + dt.timedelta(days=after),
        registry_report=registry,
    )


def _key(label: str) -> str:
    """ "day 100" -> day_100, "6 months" -> month_6, "3 years" -> year_3."""
    if label == "6 months":
        return "month_6"
    number = label.split()[0] if label.split()[0].isdigit() else label.split()[1]
    return f"day_{number}" if label.startswith("day") else f"year_{number}"


def followup_schedule(
    infusion_date: dt.date, *, gene_modified: bool = True
) -> list[ScheduledVisit]:
    """All follow-up visits after an infusion, in date order.

    Sources: issue 6 item 8 (time points); CIBMTR F4100 contact-date windows (day 100 +/- 15,
    6 months +/- 30, 1 year days 365-425, later years +/- 30) [V]; 15-year follow-up of
    gene-modified products and the CIBMTR standard track for others (clinical.md 3.1) [V].
    """
    visits = [
        _visit(
            f"day_{day}", f"Day {day}", infusion_date + dt.timedelta(days=day), w, w, registry=False
        )
        for day, w in EARLY_VISITS
    ]
    # The registry's CIBMTR windows are the single source of the reporting visits.
    track = FollowUpTrack.FIFTEEN_YEAR if gene_modified else FollowUpTrack.STANDARD
    visits.extend(
        ScheduledVisit(
            key=_key(window.label),
            label=_key(window.label).replace("_", " ").capitalize(),
            target=window.target,
            window_start=window.opens,
            window_end=window.closes,
            registry_report=True,
        )
        for window in follow_up_schedule(infusion_date, track=track)
    )
    return visits


def visit_status(
    visit: ScheduledVisit,
    *,
    today: dt.date,
    completed_on: dt.date | None = None,
    stopped_on: dt.date | None = None,
) -> VisitStatus:
    """Status of one visit on `today`: done (in or out of window), not expected, or by window."""
    if completed_on is not None:
        in_window = visit.window_start <= completed_on <= visit.window_end
        return VisitStatus.DONE if in_window else VisitStatus.DONE_OUT_OF_WINDOW
    if stopped_on is not None and visit.window_start > stopped_on:
        return VisitStatus.NOT_EXPECTED
    if today < visit.window_start:
        return VisitStatus.UPCOMING
    if today <= visit.window_end:
        return VisitStatus.DUE
    return VisitStatus.OVERDUE


def followup_status(
    schedule: Sequence[ScheduledVisit],
    *,
    today: dt.date,
    completed: Mapping[str, dt.date] | None = None,
    stopped_on: dt.date | None = None,
) -> list[VisitState]:
    """Every visit with its status; `completed` maps visit key to the date it was done."""
    done = completed or {}
    return [
        VisitState(
            visit=v,
            status=visit_status(
                v, today=today, completed_on=done.get(v.key), stopped_on=stopped_on
            ),
            completed_on=done.get(v.key),
        )
        for v in schedule
    ]


def due_and_overdue(
    schedule: Sequence[ScheduledVisit],
    *,
    today: dt.date,
    completed: Mapping[str, dt.date] | None = None,
    stopped_on: dt.date | None = None,
) -> list[VisitState]:
    """The worklist rows for one patient: visits due now or overdue, oldest first."""
    states = followup_status(schedule, today=today, completed=completed, stopped_on=stopped_on)
    return [s for s in states if s.status in (VisitStatus.DUE, VisitStatus.OVERDUE)]
