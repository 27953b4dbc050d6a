"""CIBMTR Form 4100 contact-date windows and due/overdue status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cartflow.errors import InvalidInput
from cartflow.registry.followup_windows import (
    FollowUpSubject,
    FollowUpTrack,
    WindowStatus,
    follow_up_dataset,
    follow_up_schedule,
    follow_up_status,
)

INFUSION = date(2023, 3, 15)


def _day(n: int) -> date:
    return INFUSION + timedelta(days=n)


def test_windows_match_the_cibmtr_contact_date_table() -> None:
    # F4100 Q2: 100 d +/- 15 (day 85-115); 6 mo +/- 30 (day 150-210); 1 y + 60 (day 365-425);
    # later anniversaries +/- 30 days.
    windows = {w.label: w for w in follow_up_schedule(INFUSION)}
    assert (windows["day 100"].opens, windows["day 100"].closes) == (_day(85), _day(115))
    assert (windows["6 months"].opens, windows["6 months"].closes) == (_day(150), _day(210))
    assert (windows["1 year"].opens, windows["1 year"].closes) == (_day(365), _day(425))
    two = windows["2 years"]
    assert two.target == date(2025, 3, 15)
    assert (two.opens, two.closes) == (two.target - timedelta(30), two.target + timedelta(30))


@pytest.mark.parametrize(
    ("track", "labels"),
    [
        (FollowUpTrack.DAY_100_ONLY, ["day 100"]),
        (
            FollowUpTrack.STANDARD,
            ["day 100", "6 months", "1 year"]
            + [f"{y} years" for y in (2, 3, 4, 5, 6, 8, 10, 12, 14)],
        ),
        (
            FollowUpTrack.FIFTEEN_YEAR,
            ["day 100", "6 months", "1 year"] + [f"{y} years" for y in range(2, 16)],
        ),
    ],
)
def test_reporting_tracks(track: FollowUpTrack, labels: list[str]) -> None:
    assert [w.label for w in follow_up_schedule(INFUSION, track=track)] == labels


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (84, WindowStatus.UPCOMING),
        (85, WindowStatus.DUE),
        (115, WindowStatus.DUE),
        (116, WindowStatus.OVERDUE),
    ],
)
def test_day_100_status_at_the_window_edges(today: int, status: WindowStatus) -> None:
    items = follow_up_status(INFUSION, today=_day(today))
    assert items[0].window.label == "day 100"
    assert items[0].status is status


def test_contact_inside_window_marks_it_done_with_closest_date() -> None:
    items = follow_up_status(
        INFUSION, today=_day(400), contact_dates=[_day(90), _day(104), _day(140)]
    )
    day_100, six_months, one_year = items[:3]
    assert (day_100.status, day_100.contact_date) == (WindowStatus.DONE, _day(104))
    assert six_months.status is WindowStatus.OVERDUE
    assert one_year.status is WindowStatus.DUE


def test_windows_opening_after_follow_up_end_are_not_owed() -> None:
    items = follow_up_status(INFUSION, today=_day(1000), end_date=_day(160))
    assert [i.window.label for i in items] == ["day 100", "6 months"]


def test_leap_day_infusion_anniversary() -> None:
    windows = follow_up_schedule(date(2024, 2, 29))
    two_years = next(w for w in windows if w.label == "2 years")
    assert two_years.target == date(2026, 2, 28)


def test_end_before_infusion_is_refused() -> None:
    with pytest.raises(InvalidInput):
        follow_up_status(INFUSION, today=_day(10), end_date=_day(-1))


def test_dataset_has_one_row_per_patient_and_owed_time_point() -> None:
    subjects = [
        FollowUpSubject("p-1", INFUSION, FollowUpTrack.DAY_100_ONLY),
        FollowUpSubject("p-2", INFUSION, FollowUpTrack.STANDARD, contact_dates=(_day(100),)),
    ]
    rows = follow_up_dataset(subjects, today=_day(200))
    assert [(r.patient_id, r.time_point, r.status) for r in rows[:3]] == [
        ("p-1", "day 100", "overdue"),
        ("p-2", "day 100", "done"),
        ("p-2", "6 months", "due"),
    ]
    assert len(rows) == 1 + 12
