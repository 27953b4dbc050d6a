"""Validated right-censored data and its event table (risk sets and counts at each distinct time).

Every estimator in this package starts from the same table: the distinct observed times in
ascending order, the number at risk just before each (subjects whose time is >= that time) and the
number of events of each cause at it. Tied times are never broken or jittered: all events at one
time are counted together, which is what the Kaplan-Meier, Aalen-Johansen and log-rank formulas
assume (Kalbfleisch & Prentice, *The Statistical Analysis of Failure Time Data*, 2nd ed. 2002,
section 1.4).

The table is built from sorted copies and `searchsorted` rather than `np.unique(return_inverse=...)`
because sorting a float vector is much cheaper than an arg-sort: this keeps Kaplan-Meier with
confidence intervals on 10^6 rows well under one second (see benchmarks/km_benchmark.py).

Event codes: 0 = censored, 1 = event of interest, 2.. = competing causes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cartflow.errors import InvalidInput
from cartflow.i18n import _

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

INPUT_ERROR_CODE = "REGISTRY-BAD-SURVIVAL-DATA"


@dataclass(frozen=True)
class SurvivalData:
    """Follow-up times (finite, >= 0) and event codes (0 censored, k >= 1 cause k), per subject."""

    time: FloatArray
    event: IntArray

    @property
    def n(self) -> int:
        return int(self.time.shape[0])


@dataclass(frozen=True)
class EventTable:
    """Counts at each distinct observed time (event or censoring), ascending.

    `events[:, k - 1]` holds the number of cause-k events; `at_risk[j]` is the number of subjects
    with time >= `time[j]`.
    """

    time: FloatArray
    at_risk: IntArray
    events: IntArray
    censored: IntArray

    @property
    def all_events(self) -> IntArray:
        total: IntArray = self.events.sum(axis=1)
        return total

    @property
    def n_causes(self) -> int:
        return int(self.events.shape[1])


def survival_data(
    time: npt.ArrayLike, event: npt.ArrayLike, *, max_cause: int | None = 1
) -> SurvivalData:
    """Check and convert inputs; raise `InvalidInput` naming the first offending position.

    `max_cause=1` accepts only 0/1 (and booleans); `None` accepts any non-negative integer code.
    """
    t = np.asarray(time, dtype=np.float64).reshape(-1)
    raw_event = np.asarray(event)
    if raw_event.dtype == np.bool_:
        raw_event = raw_event.astype(np.int64)
    e_float = np.asarray(raw_event, dtype=np.float64).reshape(-1)
    if t.shape[0] != e_float.shape[0]:
        raise InvalidInput(
            _(
                "time has {times} values but event has {events}",
                times=t.shape[0],
                events=e_float.shape[0],
            ),
            code=INPUT_ERROR_CODE,
            field="event",
        )
    if t.shape[0] == 0:
        raise InvalidInput(_("no subjects: survival data is empty"), code=INPUT_ERROR_CODE)
    bad_time = ~np.isfinite(t) | (t < 0)
    if bad_time.any():
        i = int(np.flatnonzero(bad_time)[0])
        raise InvalidInput(
            _(
                "time at position {position} is {value}: times must be finite and >= 0",
                position=i,
                value=repr(t[i]),
            ),
            code=INPUT_ERROR_CODE,
            field="time",
        )
    e = e_float.astype(np.int64)
    bad_event = ~np.isfinite(e_float) | (e_float != e) | (e < 0)
    if max_cause is not None:
        bad_event |= e > max_cause
    if bad_event.any():
        i = int(np.flatnonzero(bad_event)[0])
        value = repr(e_float[i])
        raise InvalidInput(
            _("event at position {position} is {value}: it must be 0 or 1", position=i, value=value)
            if max_cause == 1
            else _(
                "event at position {position} is {value}: it must be a non-negative integer",
                position=i,
                value=value,
            ),
            code=INPUT_ERROR_CODE,
            field="event",
        )
    return SurvivalData(time=t, event=e)


def event_table(data: SurvivalData, *, n_causes: int | None = None) -> EventTable:
    """Tabulate `data` at its distinct times; `n_causes` pads causes absent from this subset."""
    observed_max = int(data.event.max())
    causes = max(observed_max, 1) if n_causes is None else n_causes
    if causes < observed_max:
        raise InvalidInput(
            _(
                "event code {code} exceeds the {causes} causes requested",
                code=observed_max,
                causes=causes,
            ),
            code=INPUT_ERROR_CODE,
            field="event",
        )
    ordered = np.sort(data.time)
    n = ordered.shape[0]
    starts = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1))
    times = ordered[starts]
    at_risk = (n - starts).astype(np.int64)
    per_time = np.diff(np.append(starts, n)).astype(np.int64)
    events = np.zeros((times.shape[0], causes), dtype=np.int64)
    for cause in range(1, causes + 1):
        cause_times = data.time[data.event == cause]
        if cause_times.shape[0]:
            positions = np.searchsorted(times, np.sort(cause_times))
            events[:, cause - 1] = np.bincount(positions, minlength=times.shape[0])
    censored = per_time - events.sum(axis=1)
    return EventTable(time=times, at_risk=at_risk, events=events, censored=censored)


def split_by_group(data: SurvivalData, group: npt.ArrayLike) -> list[tuple[str, SurvivalData]]:
    """Subsets of `data` per group label (labels compared as strings), in sorted label order."""
    labels = np.asarray(group).astype(str).reshape(-1)
    if labels.shape[0] != data.n:
        raise InvalidInput(
            _(
                "group has {groups} values but time has {times}",
                groups=labels.shape[0],
                times=data.n,
            ),
            code=INPUT_ERROR_CODE,
            field="group",
        )
    names, codes = np.unique(labels, return_inverse=True)
    return [
        (str(name), SurvivalData(time=data.time[codes == i], event=data.event[codes == i]))
        for i, name in enumerate(names)
    ]
