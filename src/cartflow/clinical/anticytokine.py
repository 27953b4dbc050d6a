"""Tocilizumab dosing limits for CRS.

Source: Kymriah US prescribing information, CRS management table, as recorded in clinical.md 4.7
[V]: patients under 30 kg get 12 mg/kg IV over 1 hour; 30 kg and over get 8 mg/kg (maximum 800
mg); repeat no sooner than 8 hours apart if there is no clinical improvement; at most 3 doses in
24 hours and at most 4 doses in total.

Decision: a dose above the label dose for the patient's weight (rounded to 0.1 mg) breaks the dose
rule; clinicians who round up to a whole vial state why (`override_reason`), and the dose is then
recorded with its flags rather than refused. "At most 4 in total" counts every tocilizumab dose of
the episode. A dose may be recorded late, so the interval and 24-hour rules look at the episode's
doses on both sides of the new one: no 24-hour span (inclusive) may hold more than 3 doses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cartflow.clinical.errors import denied
from cartflow.clinical.phrases import Number
from cartflow.episodes.workflow import Denied
from cartflow.i18n import _, gettext

CHILD_WEIGHT_BELOW_KG = 30.0
MG_PER_KG_UNDER_30_KG = 12.0
MG_PER_KG_FROM_30_KG = 8.0
MAX_DOSE_MG = 800.0
MIN_INTERVAL = dt.timedelta(hours=8)
MAX_DOSES_PER_24H = 3
MAX_DOSES_TOTAL = 4


def tocilizumab_dose_mg(weight_kg: float) -> float:
    """Label dose for one administration: 12 mg/kg under 30 kg, else 8 mg/kg up to 800 mg."""
    if not 0 < weight_kg < 400:
        raise ValueError(gettext("weight must be between 0 and 400 kg"))
    if weight_kg < CHILD_WEIGHT_BELOW_KG:
        return round(MG_PER_KG_UNDER_30_KG * weight_kg, 1)
    return round(min(MG_PER_KG_FROM_30_KG * weight_kg, MAX_DOSE_MG), 1)


def tocilizumab_issues(
    *, dose_mg: float, weight_kg: float, at: dt.datetime, earlier: Sequence[dt.datetime]
) -> list[Denied]:
    """Every label rule the new dose breaks, given the times of the episode's earlier doses."""
    issues: list[Denied] = []
    label = tocilizumab_dose_mg(weight_kg)
    if dose_mg > label:
        issues.append(
            denied(
                "TOCI-DOSE",
                _(
                    "{dose} mg is above the label dose {label} mg for {weight} kg",
                    dose=Number(dose_mg, None),
                    label=Number(label, None),
                    weight=Number(weight_kg, None),
                ),
            )
        )
    nearest = min((abs(at - t) for t in earlier), default=None)
    if nearest is not None and nearest < MIN_INTERVAL:
        hours = nearest.total_seconds() / 3600
        issues.append(
            denied(
                "TOCI-INTERVAL",
                _("{hours} h from another dose (at least 8 h apart)", hours=Number(hours, 1)),
            )
        )
    window = [t for t in earlier if at - dt.timedelta(hours=24) <= t <= at + dt.timedelta(hours=24)]
    if _max_in_any_24h([*window, at]) > MAX_DOSES_PER_24H:
        issues.append(denied("TOCI-24H", _("more than 3 doses within 24 hours")))
    if len(earlier) + 1 > MAX_DOSES_TOTAL:
        issues.append(
            denied(
                "TOCI-TOTAL",
                _(
                    "dose {number}: at most {maximum} in total",
                    number=len(earlier) + 1,
                    maximum=MAX_DOSES_TOTAL,
                ),
            )
        )
    return issues


def _max_in_any_24h(times: Sequence[dt.datetime]) -> int:
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, sum(1 for t in ordered[i:] if t - start <= dt.timedelta(hours=24)))
    return best
