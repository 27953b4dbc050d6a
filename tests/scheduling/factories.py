"""Tiny hand-checkable instances: one site, one center, couriers every day unless told."""

from __future__ import annotations

from datetime import date, timedelta

from cartflow.scheduling.solver import (
    Center,
    DeviceOutage,
    Instance,
    ObjectiveWeights,
    Order,
    Product,
    Site,
)

MONDAY = date(2027, 1, 4)


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def order(
    oid: str, *, ready: int = 0, latest: int = 25, priority: int = 1, product: str = "P"
) -> Order:
    return Order(oid, "C", product, day(ready), day(latest), priority)


def tiny(
    *orders: Order,
    devices: int = 1,
    horizon: int = 30,
    chairs: int = 1,
    beds: int = 1,
    qc: int = 1,
    manufacturing: int = 3,
    qc_days: int = 2,
    transit: int = 1,
    weekdays: frozenset[int] = frozenset(range(7)),
    outages: tuple[DeviceOutage, ...] = (),
    extra_sites: tuple[Site, ...] = (),
    extra_products: tuple[Product, ...] = (),
) -> Instance:
    """Site S with ``devices`` devices S-1.., center C, product P made at S."""
    sites = (Site("S", tuple(f"S-{k}" for k in range(1, devices + 1)), qc), *extra_sites)
    transit_days = {s.id: transit for s in sites}
    return Instance(
        start_date=MONDAY,
        horizon_days=horizon,
        sites=sites,
        centers=(Center("C", chairs, beds, transit_days, dict(transit_days)),),
        products=(Product("P", ("S",), manufacturing, qc_days), *extra_products),
        orders=tuple(orders),
        shipping_weekdays=weekdays,
        device_outages=outages,
        weights=ObjectiveWeights(late_per_day=100, unscheduled=50_000),
    )
