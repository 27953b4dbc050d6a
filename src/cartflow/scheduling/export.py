"""The planning instance of the live network: sites, devices, centers, routes, products and every
open episode, as the solver's plain dataclasses (`cartflow.scheduling.solver.model`).

Episodes not yet collected are free to plan from their earliest apheresis date (or today, if that
has passed); collected ones have their apheresis fixed; episodes with a batch in process have their
device and start fixed. Released and later episodes hold no manufacturing capacity and are left out.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.models import (
    CenterSiteRoute,
    Device,
    Episode,
    EpisodeState,
    ManufacturingSite,
    Product,
    Role,
    TreatmentCenter,
)
from cartflow.models.manufacturing import Batch, BatchState
from cartflow.scheduling.solver.model import Center as PlanCenter
from cartflow.scheduling.solver.model import FixedManufacturing, Instance, Order
from cartflow.scheduling.solver.model import Product as PlanProduct
from cartflow.scheduling.solver.model import Site as PlanSite

_TO_PLAN = (
    EpisodeState.REFERRED,
    EpisodeState.ELIGIBLE,
    EpisodeState.SLOT_BOOKED,
    EpisodeState.APHERESIS_COLLECTED,
)
_IN_PROCESS = (EpisodeState.IN_MANUFACTURING,)
# With no latest useful date on record, plan as if the patient could wait this long.
_DEFAULT_WINDOW = dt.timedelta(days=120)


def device_key(site_code: str, device_code: str) -> str:
    """Device codes are unique within a site only; the plan names a device as SITE/DEVICE."""
    return f"{site_code}/{device_code}"


def export_instance(
    session: Session, *, actor: Actor, start_date: dt.date, horizon_days: int = 120
) -> Instance:
    """Network-wide planning data (pseudonymous: orders carry episode ids, no patient data)."""
    require_role(actor, Role.PLANNER, Role.ADMIN)
    sites = (
        session.execute(
            select(ManufacturingSite)
            .where(ManufacturingSite.active.is_(True))
            .options(selectinload(ManufacturingSite.devices))
            .order_by(ManufacturingSite.code)
        )
        .scalars()
        .all()
    )
    site_code = {s.id: s.code for s in sites}
    plan_sites = tuple(
        PlanSite(
            id=s.code,
            devices=tuple(device_key(s.code, d.code) for d in s.devices if d.active),
            qc_releases_per_day=s.qc_release_capacity_per_day,
        )
        for s in sites
    )
    routes = session.execute(select(CenterSiteRoute)).scalars().all()
    centers = (
        session.execute(
            select(TreatmentCenter)
            .where(TreatmentCenter.active.is_(True))
            .order_by(TreatmentCenter.code)
        )
        .scalars()
        .all()
    )
    plan_centers = []
    weekdays: set[int] = set()
    for center in centers:
        transit = {
            site_code[r.site_id]: r.transit_days
            for r in routes
            if r.center_id == center.id and r.site_id in site_code
        }
        for r in routes:
            if r.center_id == center.id:
                weekdays |= {int(d) - 1 for d in r.courier_weekdays}  # ISO 1-7 -> Monday 0
        plan_centers.append(
            PlanCenter(
                id=center.code,
                apheresis_per_day=center.apheresis_chairs_per_day,
                infusions_per_day=center.infusion_beds_per_day,
                transit_days=transit,
                return_transit_days=transit,
            )
        )
    products = (
        session.execute(select(Product).where(Product.active.is_(True)).order_by(Product.code))
        .scalars()
        .all()
    )
    plan_products = tuple(
        PlanProduct(
            id=p.code,
            sites=(site_code[p.manufacturing_site_id],),
            manufacturing_days=p.manufacturing_days,
            qc_days=p.qc_days,
        )
        for p in products
        if p.manufacturing_site_id in site_code
    )
    product_code = {p.id: p.code for p in products}
    center_code = {c.id: c.code for c in centers}
    device_code = {
        device_id: device_key(site_code[site_id], code)
        for device_id, code, site_id in session.execute(
            select(Device.id, Device.code, Device.site_id)
        ).tuples()
        if site_id in site_code
    }
    batches = {
        b.episode_id: b
        for b in session.execute(
            select(Batch).where(Batch.state == BatchState.IN_PROCESS)
        ).scalars()
    }
    episodes = (
        session.execute(
            select(Episode)
            .where(Episode.state.in_(_TO_PLAN + _IN_PROCESS))
            .order_by(Episode.referred_on, Episode.id)
        )
        .scalars()
        .all()
    )
    orders = []
    for episode in episodes:
        if episode.product_id not in product_code or episode.center_id not in center_code:
            continue
        ready = max(episode.earliest_apheresis_date, start_date)
        fixed_apheresis = (
            episode.apheresis_collected_at.date() if episode.apheresis_collected_at else None
        )
        fixed_manufacturing = None
        batch = batches.get(episode.id)
        if episode.state in _IN_PROCESS:
            if batch is None:
                continue  # no batch record to fix it to (e.g. synthetic demo history)
            fixed_manufacturing = FixedManufacturing(
                device=device_code[batch.device_id], start=batch.started_at.date()
            )
        if fixed_apheresis is not None:
            ready = min(ready, fixed_apheresis)
        orders.append(
            Order(
                id=str(episode.id),
                center=center_code[episode.center_id],
                product=product_code[episode.product_id],
                ready_date=ready,
                latest_infusion_date=episode.latest_infusion_date
                or episode.referred_on + _DEFAULT_WINDOW,
                priority=episode.priority,
                fixed_apheresis=fixed_apheresis,
                fixed_manufacturing=fixed_manufacturing,
            )
        )
    return Instance(
        start_date=start_date,
        horizon_days=horizon_days,
        sites=plan_sites,
        centers=tuple(plan_centers),
        products=plan_products,
        orders=tuple(orders),
        shipping_weekdays=frozenset(weekdays) if weekdays else frozenset(range(7)),
    )
