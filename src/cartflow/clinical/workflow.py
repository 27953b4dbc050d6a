"""Guards of the clinical steps, as pure functions over facts the services gather.

The episode moves (`confirm_eligibility`, `start_lymphodepletion`, `infuse`) are owned by the
clinical services (`owner="clinical"` in `cartflow.episodes.workflow`): each service checks its
own rules here first, then asks `apply_transition`, which checks the role, the state and the
episode's own guard (the indication guard for eligibility). A guard returns `Denied(code,
message)` naming the rule; the service raises it as a 409.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from cartflow.clinical.errors import denied
from cartflow.clinical.phrases import Number
from cartflow.episodes.workflow import ALLOWED, Decision
from cartflow.i18n import _

OWNER = "clinical"


@dataclass(frozen=True)
class LdStartFacts:
    """`released_at`: when the product was last released (None if never, or sent back to
    manufacturing since)."""

    released_at: dt.datetime | None
    has_current_plan: bool
    plan_started: bool
    starts_at: dt.datetime


def guard_start_lymphodepletion(facts: LdStartFacts) -> Decision:
    """Lymphodepletion starts only once the product is released, and only from a plan.

    Source: product SmPCs, "confirm availability of the product (released, CoA received) before
    starting lymphodepleting chemotherapy" (clinical.md 4.6 [V]).
    """
    if facts.released_at is None:
        return denied(
            "LD-NOT-RELEASED",
            _("the product has not been released: lymphodepletion starts only after release"),
        )
    if facts.starts_at < facts.released_at:
        return denied(
            "LD-NOT-RELEASED",
            _(
                "lymphodepletion at {start} UTC would start before the product's release at "
                "{release} UTC",
                start=f"{facts.starts_at:%Y-%m-%d %H:%M}",
                release=f"{facts.released_at:%Y-%m-%d %H:%M}",
            ),
        )
    if not facts.has_current_plan:
        return denied("LD-NO-PLAN", _("record a lymphodepletion plan before starting it"))
    if facts.plan_started:
        return denied("LD-ALREADY-STARTED", _("lymphodepletion has already started"))
    return ALLOWED


@dataclass(frozen=True)
class InfusionTimes:
    thaw_started_at: dt.datetime
    thaw_completed_at: dt.datetime
    infusion_started_at: dt.datetime
    infusion_ended_at: dt.datetime

    def out_of_order(self) -> str | None:
        """The first field that comes before the one it must follow, or None."""
        sequence = (
            ("thaw_started_at", self.thaw_started_at),
            ("thaw_completed_at", self.thaw_completed_at),
            ("infusion_started_at", self.infusion_started_at),
            ("infusion_ended_at", self.infusion_ended_at),
        )
        for (_name, earlier), (name, later) in itertools.pairwise(sequence):
            if later < earlier:
                return name
        return None

    @property
    def thaw_to_end_minutes(self) -> float:
        return (self.infusion_ended_at - self.thaw_completed_at).total_seconds() / 60


@dataclass(frozen=True)
class InfusionFacts:
    check_verified: bool
    check_completed_at: dt.datetime | None
    check_already_used: bool
    ld_started_at: dt.datetime | None
    post_thaw_window_minutes: int


def thaw_window_exceeded(times: InfusionTimes, window_minutes: int) -> bool:
    """Decision: the product's post-thaw window runs from the end of thaw to the END of infusion.

    Labels word it as "infuse within N minutes of thaw" (Kymriah 30 min) or "stable N hours at room
    temperature after thaw" (Yescarta 3 h) (clinical.md 4.5 [M]); measuring to the end of the
    infusion is the reading under which every cell given was inside the window.
    """
    return times.thaw_to_end_minutes > window_minutes


def guard_infusion(
    facts: InfusionFacts, times: InfusionTimes, *, deviation_reason: str
) -> Decision:
    """An infusion follows a verified two-person bedside check made before thaw, after the start
    of lymphodepletion, and inside the post-thaw window (or is flagged with a deviation reason)."""
    if not facts.check_verified or facts.check_completed_at is None:
        return denied(
            "INF-CHECK-NOT-VERIFIED",
            _("the bedside identity check has not been confirmed by a second person"),
        )
    if facts.check_already_used:
        return denied("INF-CHECK-USED", _("this bedside check was already used for an infusion"))
    if facts.check_completed_at > times.thaw_started_at:
        return denied(
            "INF-CHECK-AFTER-THAW",
            _("the bedside identity check must be completed before the thaw starts"),
        )
    if facts.ld_started_at is None or times.infusion_started_at < facts.ld_started_at:
        return denied("INF-BEFORE-LD", _("the infusion cannot start before lymphodepletion"))
    if thaw_window_exceeded(times, facts.post_thaw_window_minutes) and not deviation_reason.strip():
        return denied(
            "INF-THAW-WINDOW",
            _(
                "{minutes} min from end of thaw to end of infusion exceeds the product's "
                "{window} min; record it with deviation_reason",
                minutes=Number(times.thaw_to_end_minutes, 0),
                window=facts.post_thaw_window_minutes,
            ),
        )
    return ALLOWED


def guard_hematotox_timing(*, measured_on: dt.date, ld_started_on: dt.date | None) -> Decision:
    """CAR-HEMATOTOX is a baseline score: labs drawn before lymphodepletion starts (Rejeski 2021:
    around day -5)."""
    if ld_started_on is not None and measured_on > ld_started_on:
        return denied(
            "HEMATOTOX-AFTER-LD",
            _(
                "labs of {measured} are after lymphodepletion started ({started}); "
                "CAR-HEMATOTOX uses the baseline before lymphodepletion",
                measured=str(measured_on),
                started=str(ld_started_on),
            ),
        )
    return ALLOWED
