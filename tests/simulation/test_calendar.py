"""Day-capacity calendars (apheresis chairs, QC releases)."""

from __future__ import annotations

import pytest

from cartflow.simulation.calendar import DayCalendar


def test_fills_each_day_to_capacity_then_moves_on() -> None:
    cal = DayCalendar(2)
    assert [cal.book(5) for _ in range(5)] == [5, 5, 6, 6, 7]
    assert cal.book(3) == 3  # earlier days still have room
    assert cal.book(6) == 7


def test_cancel_frees_the_day_again() -> None:
    cal = DayCalendar(1)
    assert [cal.book(0) for _ in range(3)] == [0, 1, 2]
    cal.cancel(1)
    assert cal.book(0) == 1
    assert cal.book(0) == 3
    with pytest.raises(ValueError, match="no booking"):
        cal.cancel(50)


def test_far_future_days_grow_the_calendar() -> None:
    cal = DayCalendar(1)
    assert cal.book(10_000) == 10_000
    assert cal.used(10_000) == 1
    assert cal.used(20_000) == 0
