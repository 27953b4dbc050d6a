"""Time-to-event end points after infusion, from one patient's recorded outcomes (pure).

Day 0 is the infusion. A patient's history is the current (not superseded) response assessments,
the recorded progressions or relapses, the death and the censoring day (the last contact on record
or, administratively, today; chosen by the service). A response assessment of progressive disease
(Lugano 2014, IMWG 2016) documents progression on its date as a recorded progression does.

- **Overall survival (OS)**: death from any cause.
- **Progression-free survival (PFS)**: the first progression or relapse, or death from any cause,
  whichever comes first (Cheson BD et al., J Clin Oncol 2007;25:579-586, Table 5 "PFS"; Lugano
  2014 keeps these end points; IMWG: Rajkumar SV et al., Blood 2011;117:4691-4695, "PFS").
- **Event-free survival (EFS)**, as the CAR-T literature defines it for each disease:

  - B-ALL: the earliest of treatment failure (no CR or CRi within 3 months of the infusion),
    relapse, or death from any cause (ELIANA: Maude SL et al., N Engl J Med 2018;378:439-448,
    "event-free survival"; remission "within 3 months" is its primary end point). Counted here
    over the first 90 days.
  - Large B-cell lymphoma (DLBCL, PMBCL, HGBCL): the earliest of progression (Lugano), death from
    any cause, or a best response of stable disease (neither CR nor PR) up to and including the
    day-150 assessment (ZUMA-7: Locke FL et al., N Engl J Med 2022;386:640-654). ZUMA-7 also
    counts the start of a new lymphoma therapy; cartflow records no subsequent therapy, so it is
    not counted.
  - Follicular and mantle cell lymphoma and myeloma: the CAR-T trials report PFS, not EFS
    (ELARA, ZUMA-2, KarMMa-3, CARTITUDE-4), so EFS is not defined (``None``) and these patients
    are left out of an EFS analysis and counted.

  Treatment failure is dated on day 0, and a patient alive past the landmark with no response
  assessment within it is censored on day 0: the convention of the ELN 2022 recommendations
  (Döhner H et al., Blood 2022;140:1345-1377, Table 9, "EFS"). Before the landmark has passed a
  patient without a response yet is censored at the censoring day (failure is not yet known).
- **Duration of response (DOR)**, among responders only: from the first documented response (the
  disease's overall response: Lugano CR or PR; IMWG PR or better; B-ALL CR or CRi) to progression
  or relapse or death from any cause (ZUMA-1: Neelapu SS et al., N Engl J Med 2017;377:2531-2544,
  "duration of response"). A progression before the first response does not end it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cartflow.i18n import _
from cartflow.models import Diagnosis
from cartflow.registry.proportions import (
    ALL_COMPLETE,
    ALL_RESPONDERS,
    IMWG_COMPLETE,
    IMWG_RESPONDERS,
    LUGANO_COMPLETE,
    LUGANO_RESPONDERS,
)

CENSORED, EVENT = 0, 1
PROGRESSIVE_DISEASE = "progressive_disease"

# Stored clinical categories (cartflow.clinical.response) -> the short codes of proportions.py.
SHORT_RESPONSE = {
    "complete_response": "CR",
    "partial_response": "PR",
    "stringent_complete_response": "sCR",
    "very_good_partial_response": "VGPR",
    "complete_remission": "CR",
    "complete_remission_incomplete_recovery": "CRi",
}
RESPONDERS = LUGANO_RESPONDERS | IMWG_RESPONDERS | ALL_RESPONDERS
COMPLETE = LUGANO_COMPLETE | IMWG_COMPLETE | ALL_COMPLETE

LARGE_B_CELL = frozenset({Diagnosis.DLBCL, Diagnosis.PMBCL, Diagnosis.HGBCL})
B_ALL_RESPONSE_DAYS = 90
"""ELIANA: CR or CRi within 3 months of the infusion."""
LBCL_RESPONSE_DAYS = 150
"""ZUMA-7: stable disease as best response up to and including the day-150 assessment."""


class Endpoint(StrEnum):
    OS = "os"
    PFS = "pfs"
    EFS = "efs"
    DOR = "dor"


ENDPOINT_TITLES = {
    Endpoint.OS: _("Overall survival"),
    Endpoint.PFS: _("Progression-free survival"),
    Endpoint.EFS: _("Event-free survival"),
    Endpoint.DOR: _("Duration of response"),
}


@dataclass(frozen=True)
class PatientHistory:
    """What one infused patient's end points are computed from; dates are the center's days."""

    diagnosis: Diagnosis
    infused_on: dt.date
    censor_on: dt.date
    responses: tuple[tuple[dt.date, str], ...] = ()
    """(assessed_on, stored category) of the current assessments."""
    progressions: tuple[dt.date, ...] = ()
    died_on: dt.date | None = None


@dataclass(frozen=True)
class EventTime:
    days: float
    event: int


def short_response(category: str) -> str:
    return SHORT_RESPONSE.get(category, "NR")


def _first(days: Iterable[dt.date]) -> dt.date | None:
    return min(days, default=None)


def _progressed_on(history: PatientHistory, since: dt.date | None = None) -> dt.date | None:
    days = list(history.progressions) + [
        d for d, category in history.responses if category == PROGRESSIVE_DISEASE
    ]
    return _first(d for d in days if since is None or d >= since)


def _ended(history: PatientHistory, start: dt.date, end: dt.date | None) -> EventTime:
    if end is not None:
        return EventTime(float((end - start).days), EVENT)
    return EventTime(float(max((history.censor_on - start).days, 0)), CENSORED)


def overall_survival_time(history: PatientHistory) -> EventTime:
    return _ended(history, history.infused_on, history.died_on)


def progression_free_time(history: PatientHistory) -> EventTime:
    progressed = _progressed_on(history)
    return _ended(
        history, history.infused_on, _first(d for d in (progressed, history.died_on) if d)
    )


def _efs_rule(diagnosis: Diagnosis) -> tuple[int, frozenset[str]] | None:
    if diagnosis is Diagnosis.B_ALL:
        return B_ALL_RESPONSE_DAYS, ALL_RESPONDERS
    if diagnosis in LARGE_B_CELL:
        return LBCL_RESPONSE_DAYS, LUGANO_RESPONDERS
    return None


def efs_defined(diagnosis: Diagnosis) -> bool:
    return _efs_rule(diagnosis) is not None


def event_free_time(history: PatientHistory) -> EventTime | None:
    """EFS by the disease's definition (module docstring); None where none is established."""
    rule = _efs_rule(history.diagnosis)
    if rule is None:
        return None
    window, responders = rule
    day0 = history.infused_on
    landmark = day0 + dt.timedelta(days=window)
    in_window = [(d, c) for d, c in history.responses if d <= landmark]
    responded = any(short_response(c) in responders for _d, c in in_window)
    progressed = _progressed_on(history)
    end = _first(d for d in (progressed, history.died_on) if d)
    if responded:
        return _ended(history, day0, end)
    if end is not None and end <= landmark:
        return EventTime(0.0, EVENT)  # refractory, or death before any response
    if history.censor_on < landmark and end is None:
        return _ended(history, day0, None)  # the landmark has not passed: not yet known
    if in_window:
        return EventTime(0.0, EVENT)  # evaluated, no response by the landmark
    return EventTime(0.0, CENSORED)  # not evaluable for response by the landmark


def first_response_on(history: PatientHistory) -> dt.date | None:
    return _first(d for d, c in history.responses if short_response(c) in RESPONDERS)


def response_duration_time(history: PatientHistory) -> EventTime | None:
    """DOR from the first response; None for a patient who never responded."""
    start = first_response_on(history)
    if start is None:
        return None
    progressed = _progressed_on(history, since=start)
    return _ended(history, start, _first(d for d in (progressed, history.died_on) if d))


def endpoint_time(endpoint: Endpoint, history: PatientHistory) -> EventTime | None:
    """The patient's time and event for `endpoint`; None when the patient is not in its analysis."""
    if endpoint is Endpoint.OS:
        return overall_survival_time(history)
    if endpoint is Endpoint.PFS:
        return progression_free_time(history)
    if endpoint is Endpoint.EFS:
        return event_free_time(history)
    return response_duration_time(history)
