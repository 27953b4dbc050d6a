"""Follow-up schedule: time points of issue 6, CIBMTR windows, and due/overdue status."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from cartflow.clinical.followup_schedule import (
    VisitStatus,
    anniversary,
    due_and_overdue,
    followup_schedule,
    followup_status,
)
from cartflow.registry.followup_windows import FollowUpTrack, follow_up_schedule

INFUSION = dt.date(2025, 1, 10)


def by_key(gene_modified: bool = True) -> dict[str, tuple[dt.date, dt.date, dt.date]]:
    return {
        v.key: (v.window_start, v.target, v.window_end)
        for v in followup_schedule(INFUSION, gene_modified=gene_modified)
    }


def test_gene_modified_products_are_followed_yearly_to_year_15() -> None:
    keys = list(by_key())
    assert keys[:6] == ["day_7", "day_14", "day_28", "day_100", "month_6", "year_1"]
    assert keys[6:] == [f"year_{y}" for y in range(2, 16)]


def test_other_products_follow_the_cibmtr_standard_track() -> None:
    years = [k for k in by_key(gene_modified=False) if k.startswith("year_")]
    assert years == [f"year_{y}" for y in (1, 2, 3, 4, 5, 6, 8, 10, 12, 14)]


def test_cibmtr_windows() -> None:
    visits = by_key()
    day = dt.timedelta(days=1)
    # Day 100 +/- 15 = days 85-115; 6 months +/- 30 = days 150-210 (CIBMTR contact dates).
    assert visits["day_100"] == (INFUSION + 85 * day, INFUSION + 100 * day, INFUSION + 115 * day)
    assert visits["month_6"] == (INFUSION + 150 * day, INFUSION + 180 * day, INFUSION + 210 * day)
    # 1 year: days 365-425 as the manual states it (update of 19 Dec 2023).
    assert visits["year_1"] == (INFUSION + 365 * day, INFUSION + 365 * day, INFUSION + 425 * day)
    start, target, end = visits["year_3"]
    assert target == dt.date(2028, 1, 10)
    assert (target - start, end - target) == (30 * day, 30 * day)


def test_anniversary_of_29_february() -> None:
    assert anniversary(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert anniversary(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)


def test_status_moves_from_upcoming_to_due_to_overdue() -> None:
    schedule = followup_schedule(INFUSION)
    day100 = next(v for v in schedule if v.key == "day_100")

    def status(today: dt.date) -> VisitStatus:
        [state] = [s for s in followup_status(schedule, today=today) if s.visit.key == "day_100"]
        return state.status

    assert status(day100.window_start - dt.timedelta(days=1)) is VisitStatus.UPCOMING
    assert status(day100.window_start) is VisitStatus.DUE
    assert status(day100.window_end) is VisitStatus.DUE
    assert status(day100.window_end + dt.timedelta(days=1)) is VisitStatus.OVERDUE


def test_completed_visits_leave_the_worklist() -> None:
    schedule = followup_schedule(INFUSION)
    today = INFUSION + dt.timedelta(days=40)
    pending = due_and_overdue(schedule, today=today)
    assert [s.visit.key for s in pending] == ["day_7", "day_14", "day_28"]
    assert all(s.status is VisitStatus.OVERDUE for s in pending)
    completed = {"day_7": INFUSION + dt.timedelta(days=7), "day_14": INFUSION + dt.timedelta(20)}
    pending = due_and_overdue(schedule, today=today, completed=completed)
    assert [s.visit.key for s in pending] == ["day_28"]
    states = {
        s.visit.key: s.status for s in followup_status(schedule, today=today, completed=completed)
    }
    assert states["day_14"] is VisitStatus.DONE_OUT_OF_WINDOW


def test_no_visit_is_expected_after_follow_up_stopped() -> None:
    schedule = followup_schedule(INFUSION)
    died = INFUSION + dt.timedelta(days=60)
    states = followup_status(schedule, today=INFUSION + dt.timedelta(days=400), stopped_on=died)
    expected = {s.visit.key for s in states if s.status is not VisitStatus.NOT_EXPECTED}
    assert expected == {"day_7", "day_14", "day_28"}


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)), st.booleans())
def test_visits_are_in_date_order_with_windows_around_targets(
    infusion: dt.date, gene_modified: bool
) -> None:
    schedule = followup_schedule(infusion, gene_modified=gene_modified)
    targets = [v.target for v in schedule]
    assert targets == sorted(targets)
    assert all(v.window_start <= v.target <= v.window_end for v in schedule)
    assert all(a.window_end < b.window_start for a, b in itertools.pairwise(schedule))


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)), st.booleans())
def test_registry_time_points_match_the_registry_module(
    infusion: dt.date, gene_modified: bool
) -> None:
    """The clinical worklist and the registry reports must owe the same CIBMTR windows."""
    track = FollowUpTrack.FIFTEEN_YEAR if gene_modified else FollowUpTrack.STANDARD
    registry = [(w.opens, w.closes) for w in follow_up_schedule(infusion, track=track)]
    clinical = [
        (v.window_start, v.window_end)
        for v in followup_schedule(infusion, gene_modified=gene_modified)
        if v.registry_report
    ]
    assert clinical == registry
