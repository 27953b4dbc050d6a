"""Refusals of the scheduling solver: malformed or inconsistent files and events."""

from __future__ import annotations

from cartflow.errors import InvalidInput


class InstanceError(InvalidInput):
    """The instance file is malformed or inconsistent (unknown ids, overlapping fixed work...)."""

    code = "SCHEDULE-BAD-INSTANCE"


class PlanFormatError(InvalidInput):
    """The plan file is malformed (it can be well-formed and still infeasible: see validate)."""

    code = "SCHEDULE-BAD-PLAN"


class EventError(InvalidInput):
    """A re-planning event names an unknown episode or device, or a date outside the plan."""

    code = "SCHEDULE-BAD-EVENT"
