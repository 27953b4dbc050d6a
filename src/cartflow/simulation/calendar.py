"""Day-capacity calendars: apheresis chairs per center per day, QC releases per site per day.

A booking takes the first day on or after the requested one that still has capacity. Every day
before `_first_open` is full, so a booking never rescans those days. That keeps the calendar
O(1) amortised over a run, even when a backlog builds up.

This is hand-written because it is a few lines on a list indexed by day and sits on the
simulation's hot path. No queueing library books whole-day capacity.
"""

from __future__ import annotations

_GROW = 366


class DayCalendar:
    __slots__ = ("_first_open", "_used", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a calendar needs a capacity of at least 1 per day")
        self.capacity = capacity
        self._used: list[int] = [0] * _GROW
        self._first_open = 0

    def book(self, earliest: int) -> int:
        """Reserve one unit on the first day >= `earliest` with room; return that day."""
        first = self._first_open
        day = earliest if earliest > first else first
        used = self._used
        cap = self.capacity
        if day + 1 >= len(used):
            used.extend([0] * (day + _GROW - len(used)))
        while used[day] >= cap:
            day += 1
            if day + 1 >= len(used):
                used.extend([0] * _GROW)
        used[day] += 1
        if day == first and used[day] >= cap:
            day_after = day + 1
            while used[day_after] >= cap:
                day_after += 1
                if day_after >= len(used):
                    used.extend([0] * _GROW)
            self._first_open = day_after
        return day

    def cancel(self, day: int) -> None:
        """Give back one unit on `day` (a patient who dropped out before the booking)."""
        if day < 0 or day >= len(self._used) or self._used[day] <= 0:
            raise ValueError(f"no booking to cancel on day {day}")
        self._used[day] -= 1
        if day < self._first_open:
            self._first_open = day

    def used(self, day: int) -> int:
        return self._used[day] if 0 <= day < len(self._used) else 0
