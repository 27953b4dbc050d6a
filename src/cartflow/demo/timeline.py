"""When each step of a full-fidelity demo episode happens, from its referral and its booking.

One function gives every moment, so the seed can both choose referral dates that put episodes in
each state today and then walk them at exactly those moments. Times are UTC; the calendar follows
the booking service (cells arrive at the site `transit` days after apheresis, manufacturing and QC
take the product's configured days, the product travels back in `transit` days).
"""

from __future__ import annotations

import datetime as dt

from cartflow.models import EpisodeState

S = EpisodeState
APHERESIS_AFTER_DAYS = 12
"""Apheresis is booked 12 days after referral (the earliest date is a week after it)."""


def at(day: dt.date, hour: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), dt.UTC) + dt.timedelta(hours=hour)


def schedule(
    *,
    referred: dt.date,
    apheresis: dt.date,
    manufacturing_start: dt.date,
    manufacturing_days: int,
    qc_days: int,
    transit: int,
) -> dict[str, dt.datetime]:
    """The moment of every step, by name, in the order they happen."""
    m: dict[str, dt.datetime] = {
        "refer": at(referred, 9),
        "consent": at(referred + dt.timedelta(days=1), 11),
        "eligibility": at(referred + dt.timedelta(days=3), 10),
        "book": at(referred + dt.timedelta(days=5), 11),
        "label_collection": at(apheresis, 8),
        "collection": at(apheresis, 12),
        "plan_apheresis_shipment": at(apheresis, 12.5),
        "apheresis_pickup": at(apheresis, 14),
        # Same-city cells reach the site the same evening; others on the booked arrival day.
        "site_receipt": at(manufacturing_start, 9 if transit else 19),
    }
    receipt = m["site_receipt"]
    m["start_batch"] = receipt + dt.timedelta(hours=1)
    scale = manufacturing_days / 12
    # A CliniMACS Prodigy run, about 12 days from activation to harvest (PMID 29287970), scaled
    # to the product's manufacturing days.
    m["cryopreserved"] = receipt + dt.timedelta(days=11.8 * scale)
    m["label_product"] = m["cryopreserved"] + dt.timedelta(minutes=30)
    m["cryo_scan"] = m["cryopreserved"] + dt.timedelta(minutes=40)
    m["submit_for_qc"] = m["cryopreserved"] + dt.timedelta(hours=1)
    release_day = manufacturing_start + dt.timedelta(days=manufacturing_days + qc_days)
    m["release"] = at(release_day, 10)
    m["release_scan"] = at(release_day, 10.5)
    # The courier collects the product the day after release.
    m["label_shipper"] = at(release_day + dt.timedelta(days=1), 11)
    m["product_pickup"] = at(release_day + dt.timedelta(days=1), 14)
    arrival = release_day + dt.timedelta(days=1 + transit)
    m["center_receipt"] = at(arrival, 10 if transit else 20)
    m["storage"] = m["center_receipt"] + dt.timedelta(hours=1)
    m["ld_plan"] = m["center_receipt"] + dt.timedelta(hours=2)
    day0 = at(arrival + dt.timedelta(days=7), 10)
    m["ld_start"] = day0 - dt.timedelta(days=5)
    m["bedside_scan"] = day0 - dt.timedelta(minutes=45)
    m["infusion"] = day0
    m["follow_up"] = day0 + dt.timedelta(days=28, hours=2)
    return m


# The step after which an episode is in each state, and the step that ends the state.
STATE_WINDOWS: dict[EpisodeState, tuple[str, str]] = {
    S.REFERRED: ("refer", "eligibility"),
    S.ELIGIBLE: ("eligibility", "book"),
    S.SLOT_BOOKED: ("book", "collection"),
    S.APHERESIS_COLLECTED: ("collection", "start_batch"),
    S.IN_MANUFACTURING: ("start_batch", "submit_for_qc"),
    S.QC: ("submit_for_qc", "release"),
    S.RELEASED: ("release", "product_pickup"),
    S.SHIPPED: ("product_pickup", "center_receipt"),
    S.RECEIVED: ("center_receipt", "ld_start"),
    S.LYMPHODEPLETION: ("ld_start", "infusion"),
    S.INFUSED: ("infusion", "follow_up"),
}
FOLLOW_UP_WINDOW = dt.timedelta(days=12)


def window(moments: dict[str, dt.datetime], state: EpisodeState) -> tuple[dt.datetime, dt.datetime]:
    if state is S.FOLLOW_UP:
        return moments["follow_up"], moments["follow_up"] + FOLLOW_UP_WINDOW
    start, end = STATE_WINDOWS[state]
    return moments[start], moments[end]
