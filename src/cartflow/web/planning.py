"""The planner's view of a site, one Gantt row per device: the device runs booked through
`cartflow.scheduling.service` (what the site has committed to), and the solver's proposal
(`cartflow.scheduling.solver`) for the eligible episodes not yet booked, planned around them.

This module maps database rows onto the solver's plain dataclasses and back; the scheduling rules
(capacities, transit, courier days, priorities) are the solver's. Two simplifications of the
mapping, shown on the page: the solver has one set of courier weekdays for the network, so the
union of the site's routes' weekdays is used; an episode without a latest infusion date is given
the end of the horizon. Booked runs are passed to the solver as fixed work.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from babel.dates import format_skeleton
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cartflow.auth.actor import Actor
from cartflow.errors import CartflowError
from cartflow.i18n import current_locale
from cartflow.models import (
    CenterSiteRoute,
    Device,
    Episode,
    EpisodeState,
    ManufacturingSite,
    Product,
    TreatmentCenter,
)
from cartflow.models.scheduling import BookingStatus, SlotBooking
from cartflow.scheduling import solver
from cartflow.web import views
from cartflow.web.templating import templates

HORIZON_DAYS = 42


def short_day(value: dt.date) -> str:
    """A day and month for a Gantt column head, in the reader's style (25.11 / Nov 25)."""
    locale = current_locale()
    return format_skeleton("ddMM" if locale == "ru" else "MMMd", value, locale=locale)


templates.env.filters["short_day"] = short_day
BOOKED_STATES = (
    EpisodeState.SLOT_BOOKED,
    EpisodeState.APHERESIS_COLLECTED,
    EpisodeState.IN_MANUFACTURING,
    EpisodeState.QC,
)


@dataclass(frozen=True)
class Bar:
    episode: Episode
    label: str
    start: dt.date
    first_day: int  # column index in the horizon (0 = start_date); may lie outside it
    manufacturing_days: int
    qc_days: int
    release_date: dt.date
    infusion_date: dt.date
    late: bool
    proposed: bool


@dataclass(frozen=True)
class DeviceRow:
    code: str
    kind: str
    bars: list[Bar]


@dataclass(frozen=True)
class SitePlan:
    site: ManufacturingSite
    start_date: dt.date
    days: list[dt.date]
    rows: list[DeviceRow]
    unscheduled: list[Episode]
    not_booked: list[Episode]
    to_start: list[Episode]
    plan: solver.Plan | None
    solver_problem: str
    courier_weekdays: str


def _courier_weekdays(routes: list[CenterSiteRoute]) -> frozenset[int]:
    iso = {int(ch) for r in routes for ch in r.courier_weekdays}
    return frozenset(d - 1 for d in iso) or solver.model.ALL_WEEKDAYS


Booked = dict[uuid.UUID, tuple[SlotBooking, str]]


def _bookings(session: Session, site: ManufacturingSite) -> Booked:
    rows = session.execute(
        select(SlotBooking, Device.code)
        .join(Device, Device.id == SlotBooking.device_id)
        .where(Device.site_id == site.id, SlotBooking.status == BookingStatus.ACTIVE)
    ).all()
    return {booking.episode_id: (booking, code) for booking, code in rows}


def site_plan(session: Session, *, actor: Actor, site: ManufacturingSite) -> SitePlan:
    start = views.local_today(None)
    end = start + dt.timedelta(days=HORIZON_DAYS - 1)
    site = session.execute(
        select(ManufacturingSite)
        .where(ManufacturingSite.id == site.id)
        .options(selectinload(ManufacturingSite.devices))
    ).scalar_one()
    devices = [d for d in site.devices if d.active]
    routes = list(
        session.execute(
            select(CenterSiteRoute)
            .where(CenterSiteRoute.site_id == site.id)
            .options(selectinload(CenterSiteRoute.center))
        ).scalars()
    )
    products = {
        p.code: p
        for p in session.execute(
            select(Product).where(Product.manufacturing_site_id == site.id)
        ).scalars()
    }
    booked_rows = _bookings(session, site)
    booked = [
        e
        for e in views.open_episodes(session, actor=actor, states=BOOKED_STATES, site_id=site.id)
        if e.id in booked_rows
    ]
    eligible = views.open_episodes(
        session, actor=actor, states=(EpisodeState.ELIGIBLE,), site_id=site.id
    )
    to_start = views.open_episodes(
        session, actor=actor, states=(EpisodeState.APHERESIS_COLLECTED,), site_id=site.id
    )
    bars: dict[str, list[Bar]] = {d.code: [] for d in devices}
    for episode in booked:
        booking, device_code = booked_rows[episode.id]
        bars.setdefault(device_code, []).append(
            Bar(
                episode=episode,
                label=episode.chain_of_identity or episode.patient.pseudonym,
                start=booking.manufacturing_start,
                first_day=(booking.manufacturing_start - start).days,
                manufacturing_days=booking.manufacturing_days,
                qc_days=(booking.planned_release_date - booking.manufacturing_start).days
                - booking.manufacturing_days,
                release_date=booking.planned_release_date,
                infusion_date=booking.planned_infusion_date,
                late=_late(episode, booking.planned_infusion_date),
                proposed=False,
            )
        )
    plan: solver.Plan | None = None
    problem = ""
    unscheduled: list[Episode] = []
    if eligible:
        fixed = [_order(e, start=start, end=end, booking=booked_rows[e.id]) for e in booked]
        free = [_order(e, start=start, end=end, booking=None) for e in eligible]
        instance = solver.Instance(
            start_date=start,
            horizon_days=HORIZON_DAYS,
            sites=(
                solver.Site(
                    id=site.code,
                    devices=tuple(d.code for d in devices),
                    qc_releases_per_day=site.qc_release_capacity_per_day,
                ),
            ),
            centers=tuple(_center(r.center, r, site.code) for r in routes),
            products=tuple(
                solver.Product(
                    id=p.code,
                    sites=(site.code,),
                    manufacturing_days=p.manufacturing_days,
                    qc_days=p.qc_days,
                )
                for p in products.values()
            ),
            orders=tuple(fixed + free),
            shipping_weekdays=_courier_weekdays(routes),
        )
        try:
            plan = solver.solve(instance, method="greedy")
        except CartflowError as exc:
            problem = exc.message
        if plan is not None:
            by_id = {str(e.id): e for e in eligible}
            for a in plan.assignments:
                proposal = by_id.get(a.order)
                if proposal is None:
                    continue  # a booked run, already drawn
                product = products[proposal.product.code]
                bars.setdefault(a.device, []).append(
                    Bar(
                        episode=proposal,
                        label=proposal.chain_of_identity or proposal.patient.pseudonym,
                        start=a.manufacturing_start,
                        first_day=(a.manufacturing_start - start).days,
                        manufacturing_days=product.manufacturing_days,
                        qc_days=product.qc_days,
                        release_date=a.release_date,
                        infusion_date=a.infusion_date,
                        late=_late(proposal, a.infusion_date),
                        proposed=True,
                    )
                )
            unscheduled = [by_id[o] for o in plan.unscheduled if o in by_id]
    rows = [
        DeviceRow(
            code=d.code,
            kind=d.kind,
            bars=sorted(bars.get(d.code, []), key=lambda b: b.first_day),
        )
        for d in devices
    ]
    return SitePlan(
        site=site,
        start_date=start,
        days=[start + dt.timedelta(days=i) for i in range(HORIZON_DAYS)],
        rows=rows,
        unscheduled=unscheduled,
        not_booked=eligible,
        to_start=to_start,
        plan=plan,
        solver_problem=problem,
        courier_weekdays=",".join(str(d + 1) for d in sorted(_courier_weekdays(routes))),
    )


def _late(episode: Episode, infusion: dt.date) -> bool:
    return episode.latest_infusion_date is not None and infusion > episode.latest_infusion_date


def _center(center: TreatmentCenter, route: CenterSiteRoute, site_code: str) -> solver.Center:
    # A route's transit time holds each way (`CenterSiteRoute`).
    return solver.Center(
        id=center.code,
        apheresis_per_day=center.apheresis_chairs_per_day,
        infusions_per_day=center.infusion_beds_per_day,
        transit_days={site_code: route.transit_days},
        return_transit_days={site_code: route.transit_days},
    )


def _order(
    episode: Episode,
    *,
    start: dt.date,
    end: dt.date,
    booking: tuple[SlotBooking, str] | None,
) -> solver.Order:
    latest = episode.latest_infusion_date or end
    if booking is not None:
        run, device = booking
        ready = min(run.apheresis_date, start)
        return solver.Order(
            id=str(episode.id),
            center=episode.center.code,
            product=episode.product.code,
            ready_date=ready,
            latest_infusion_date=max(latest, ready),
            priority=episode.priority,
            fixed_apheresis=run.apheresis_date,
            fixed_manufacturing=solver.FixedManufacturing(device, run.manufacturing_start),
        )
    ready = max(start, episode.earliest_apheresis_date)
    return solver.Order(
        id=str(episode.id),
        center=episode.center.code,
        product=episode.product.code,
        ready_date=ready,
        latest_infusion_date=max(latest, ready),
        priority=episode.priority,
    )
