"""Where the demo's patients come from, and which recent episodes are full records.

`FULL_FIDELITY_STATES` lists the state each full-fidelity episode is in today; `plan_full_fidelity`
draws a case for each and places its referral so that, walked by `cartflow.demo.domains` on the
calendar of `cartflow.demo.timeline`, it is in that state now.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from cartflow.demo import timeline
from cartflow.demo.network import CENTERS, NMRC_SITE, NOVARTIS_SITE, PRODUCTS
from cartflow.models import Diagnosis, EpisodeState

# Which product each center's patients get, with the diagnoses and ages drawn for them.
CASE_MIX: dict[str, list[tuple[str, Diagnosis, tuple[int, int]]]] = {
    "NMRC-HEM": [
        ("GEMA", Diagnosis.B_ALL, (19, 65)),
        ("GEMA", Diagnosis.DLBCL, (25, 75)),
        ("GEMA", Diagnosis.MANTLE_CELL_LYMPHOMA, (45, 75)),
        ("BCMA-ACAD", Diagnosis.MULTIPLE_MYELOMA, (40, 75)),
    ],
    "MOROZOV": [("TISA", Diagnosis.B_ALL, (3, 17))],
    "ROGACHEV": [("TISA", Diagnosis.B_ALL, (2, 17))],
    "BLOKHIN": [
        ("GEMA", Diagnosis.DLBCL, (22, 75)),
        ("TISA", Diagnosis.B_ALL, (5, 17)),
        ("BCMA-ACAD", Diagnosis.MULTIPLE_MYELOMA, (40, 75)),
    ],
    "RADIOLOGY": [("GEMA", Diagnosis.FOLLICULAR_LYMPHOMA, (35, 75))],
    "PETROV": [
        ("GEMA", Diagnosis.DLBCL, (20, 75)),
        ("TISA", Diagnosis.DLBCL, (20, 70)),
    ],
}


LEGACY_MIN_DAYS = 90
"""Episodes referred this many days ago or earlier take the on_behalf_of shortcut."""

S = EpisodeState
FULL_FIDELITY_STATES: list[EpisodeState] = [
    # The first dozen put at least one episode on every worklist (a smaller seed takes them).
    S.INFUSED,  # the first infused patient is in a grade >= 2 CRS today (see plan_full_fidelity)
    S.QC,
    S.SHIPPED,
    S.REFERRED,
    S.ELIGIBLE,
    S.SLOT_BOOKED,
    S.APHERESIS_COLLECTED,
    S.IN_MANUFACTURING,
    S.RELEASED,
    S.RECEIVED,
    S.LYMPHODEPLETION,
    S.FOLLOW_UP,
    S.INFUSED,
    S.QC,
    S.IN_MANUFACTURING,
    S.SLOT_BOOKED,
    S.ELIGIBLE,
    S.INFUSED,
    S.QC,
    S.SHIPPED,
    S.IN_MANUFACTURING,
    S.APHERESIS_COLLECTED,
    S.LYMPHODEPLETION,
    S.SLOT_BOOKED,
    S.INFUSED,
    S.QC,
    S.IN_MANUFACTURING,
    S.FOLLOW_UP,
    S.INFUSED,
    S.FOLLOW_UP,
]
"""The state each full-fidelity episode is in today (30 episodes: about 150 signatures)."""


@dataclass(frozen=True)
class Case:
    center: str
    product_code: str
    diagnosis: Diagnosis
    age: int
    site: str
    transit: int


@dataclass(frozen=True)
class Planned:
    case: Case
    referred: dt.date
    severe: bool


def draw_case(rng: random.Random) -> Case:
    centers = [c.code for c in CENTERS]
    center = rng.choices(centers, [40, 12, 16, 14, 6, 12])[0]
    product_code, diagnosis, (age_lo, age_hi) = rng.choice(CASE_MIX[center])
    site = NOVARTIS_SITE if product_code == "TISA" else NMRC_SITE
    center_in = next(c for c in CENTERS if c.code == center)
    transit = next(r.transit_days for r in center_in.routes if r.site == site)
    return Case(center, product_code, diagnosis, rng.randint(age_lo, age_hi), site, transit)


def plan_full_fidelity(rng: random.Random, *, now: dt.datetime, count: int) -> list[Planned]:
    """A case and a referral date for each target state, such that the episode is in that state
    at `now` (a case whose stay in the state is shorter than a day is drawn again)."""
    planned: list[Planned] = []
    severe_done = False
    base = dt.date(2000, 1, 3)
    for state in FULL_FIDELITY_STATES[:count]:
        severe = state is S.INFUSED and not severe_done
        for _attempt in range(50):
            case = draw_case(rng)
            product = next(p for p in PRODUCTS if p.code == case.product_code)
            moments = timeline.schedule(
                referred=base,
                apheresis=base + dt.timedelta(days=timeline.APHERESIS_AFTER_DAYS),
                manufacturing_start=base
                + dt.timedelta(days=timeline.APHERESIS_AFTER_DAYS + case.transit),
                manufacturing_days=product.manufacturing_days,
                qc_days=product.qc_days,
                transit=case.transit,
            )
            low, high = timeline.window(moments, state)
            if severe:
                # Two to three days after the infusion: the peak of a grade >= 2 CRS.
                low = moments["infusion"] + dt.timedelta(days=2.1)
                high = low + dt.timedelta(days=1.3)
            if high - low >= dt.timedelta(days=1.2):
                break
        spare = high - low - dt.timedelta(days=1)
        offset = low - timeline.at(base, 0) + spare * rng.uniform(0.2, 0.8)
        planned.append(Planned(case, (now - offset).date(), severe))
        severe_done = severe_done or severe
    return planned
