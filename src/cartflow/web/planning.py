"""The planner's view of a site: the site's open episodes as a scheduling instance, planned by the
solver (`cartflow.scheduling.solver`), laid out as one Gantt row per device.

This module maps database rows onto the solver's plain dataclasses and back; the scheduling rules
(capacities, transit, courier days, priorities) are the solver's. Two simplifications of the
mapping, shown on the page: the solver has one set of courier weekdays for the network, so the
union of the site's routes' weekdays is used; an episode without a latest infusion date is given
the end of the horizon. Work already started (a collected apheresis) is passed as fixed history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cartflow.auth.actor import Actor
from cartflow.models import (
    CenterSiteRoute,
    Episode,
    EpisodeState,
    ManufacturingSite,
    Product,
    TreatmentCenter,
)
from cartflow.scheduling import solver
from cartflow.web import views

HORIZON_DAYS = 42
PLANNED_STATES = (
    EpisodeState.ELIGIBLE,
    EpisodeState.SLOT_BOOKED,
    EpisodeState.APHERESIS_COLLECTED,
)


@dataclass(frozen=True)
class Bar:
    episode: Episode
    label: str
    first_day: int  # column index in the horizon (0 = start_date), clipped to the horizon
    manufacturing_days: int
    qc_days: int
    assignment: solver.Assignment
    late: bool


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
    in_progress: list[Episode]
    plan: solver.Plan
    courier_weekdays: str


def _courier_weekdays(routes: list[CenterSiteRoute]) -> frozenset[int]:
    iso = {int(ch) for r in routes for ch in r.courier_weekdays}
    return frozenset(d - 1 for d in iso) or solver.model.ALL_WEEKDAYS


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
    products = list(
        session.execute(select(Product).where(Product.manufacturing_site_id == site.id)).scalars()
    )
    episodes = views.open_episodes(session, actor=actor, states=PLANNED_STATES, site_id=site.id)
    in_progress = views.open_episodes(
        session,
        actor=actor,
        states=(EpisodeState.IN_MANUFACTURING, EpisodeState.QC),
        site_id=site.id,
    )
    orders = [_order(e, start=start, end=end) for e in episodes]
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
            for p in products
        ),
        orders=tuple(orders),
        shipping_weekdays=_courier_weekdays(routes),
    )
    plan = solver.solve(instance, method="greedy")
    by_id = {str(e.id): e for e in episodes}
    product_by_code = {p.code: p for p in products}
    rows = []
    for device in devices:
        bars = []
        for a in sorted(plan.assignments, key=lambda a: a.manufacturing_start):
            if a.device != device.code:
                continue
            episode = by_id[a.order]
            product = product_by_code[episode.product.code]
            bars.append(
                Bar(
                    episode=episode,
                    label=episode.chain_of_identity or episode.patient.pseudonym,
                    first_day=(a.manufacturing_start - start).days,
                    manufacturing_days=product.manufacturing_days,
                    qc_days=product.qc_days,
                    assignment=a,
                    late=episode.latest_infusion_date is not None
                    and a.infusion_date > episode.latest_infusion_date,
                )
            )
        rows.append(DeviceRow(code=device.code, kind=device.kind, bars=bars))
    return SitePlan(
        site=site,
        start_date=start,
        days=[start + dt.timedelta(days=i) for i in range(HORIZON_DAYS)],
        rows=rows,
        unscheduled=[by_id[o] for o in plan.unscheduled],
        not_booked=[e for e in episodes if e.state is EpisodeState.ELIGIBLE],
        in_progress=in_progress,
        plan=plan,
        courier_weekdays=",".join(str(d + 1) for d in sorted(instance.shipping_weekdays)),
    )


def _center(center: TreatmentCenter, route: CenterSiteRoute, site_code: str) -> solver.Center:
    # A route's transit time holds each way (`CenterSiteRoute`).
    return solver.Center(
        id=center.code,
        apheresis_per_day=center.apheresis_chairs_per_day,
        infusions_per_day=center.infusion_beds_per_day,
        transit_days={site_code: route.transit_days},
        return_transit_days={site_code: route.transit_days},
    )


def _order(episode: Episode, *, start: dt.date, end: dt.date) -> solver.Order:
    fixed: dt.date | None = None
    if episode.state is EpisodeState.APHERESIS_COLLECTED and episode.apheresis_collected_at:
        fixed = episode.apheresis_collected_at.date()
    elif (
        episode.state is EpisodeState.SLOT_BOOKED
        and episode.planned_apheresis_date is not None
        # A booking whose day has passed without a collection is planned afresh from today.
        and episode.planned_apheresis_date >= start
    ):
        fixed = episode.planned_apheresis_date
    ready = fixed if fixed is not None else max(start, episode.earliest_apheresis_date)
    latest = episode.latest_infusion_date or end
    return solver.Order(
        id=str(episode.id),
        center=episode.center.code,
        product=episode.product.code,
        ready_date=ready,
        latest_infusion_date=max(latest, ready),
        priority=episode.priority,
        fixed_apheresis=fixed,
    )
