"""Registry cohorts built from the episodes: who is in them and their time-to-event data.

The endpoints are measured from episode dates only (referral, collection, infusion, withdrawal),
so no clinical outcome is assumed: "infusion" is the event of interest; a withdrawal before
infusion is a competing event (cumulative incidence) or a censoring (Kaplan-Meier); an episode
still on the path is censored at today. Times are whole calendar days. The estimators are
`cartflow.registry` (Kaplan-Meier, Aalen-Johansen); this module only selects and measures.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.episodes import service as episodes
from cartflow.models import Diagnosis, Episode, EpisodeState

MAX_COHORT = 100_000

INFUSED = 1
WITHDRAWN = 2


class Endpoint(StrEnum):
    REFERRAL_TO_INFUSION = "referral_to_infusion"
    VEIN_TO_VEIN = "vein_to_vein"


ENDPOINT_LABELS = {
    Endpoint.REFERRAL_TO_INFUSION: "Referral to infusion",
    Endpoint.VEIN_TO_VEIN: "Apheresis to infusion (vein to vein)",
}


class GroupBy(StrEnum):
    NONE = "none"
    PRODUCT = "product"
    CENTER = "center"
    DIAGNOSIS = "diagnosis"


@dataclass(frozen=True)
class CohortFilter:
    product: str | None = None
    center_id: uuid.UUID | None = None
    diagnosis: Diagnosis | None = None
    referred_from: dt.date | None = None
    referred_to: dt.date | None = None


@dataclass(frozen=True)
class Subject:
    episode: Episode
    days: int
    event: int  # 0 censored (still on the path), 1 infused, 2 withdrawn before infusion
    group: str


def cohort(session: Session, *, actor: Actor, filters: CohortFilter) -> list[Episode]:
    rows, _total = episodes.list_episodes(
        session,
        actor=actor,
        filters=episodes.EpisodeFilter(product_code=filters.product, center_id=filters.center_id),
        limit=MAX_COHORT,
        offset=0,
    )
    return [
        e
        for e in rows
        if (filters.diagnosis is None or e.patient.diagnosis is filters.diagnosis)
        and (filters.referred_from is None or e.referred_on >= filters.referred_from)
        and (filters.referred_to is None or e.referred_on <= filters.referred_to)
    ]


def _group(episode: Episode, by: GroupBy) -> str:
    if by is GroupBy.PRODUCT:
        return episode.product.code
    if by is GroupBy.CENTER:
        return episode.center.code
    if by is GroupBy.DIAGNOSIS:
        return episode.patient.diagnosis.value
    return "all"


def subjects(
    rows: list[Episode], *, endpoint: Endpoint, group_by: GroupBy, today: dt.date
) -> list[Subject]:
    """Each episode's time from the endpoint's origin and what ended it (if anything)."""
    out = []
    for e in rows:
        if endpoint is Endpoint.VEIN_TO_VEIN:
            if e.apheresis_collected_at is None:
                continue  # not at risk: the clock starts at collection
            origin = e.apheresis_collected_at.date()
        else:
            origin = e.referred_on
        if e.infused_at is not None:
            end, event = e.infused_at.date(), INFUSED
        elif e.state is EpisodeState.WITHDRAWN:
            end, event = e.state_changed_at.date(), WITHDRAWN
        else:
            end, event = today, 0
        out.append(Subject(e, max((end - origin).days, 0), event, _group(e, group_by)))
    return out
