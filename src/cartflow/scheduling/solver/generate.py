"""Synthetic instances on a demo network (22 devices at three sites, eight centers).

Durations follow the research notes (docs/scheduling.md, shared reference section 2): 10-14
device-days of manufacturing (CliniMACS Prodigy TCT about 13 days), 5-8 days of QC, 1-3 days of
transit, couriers Monday to Friday. Ready dates spread over the first 60 % of the horizon; about a
tenth of the episodes have a batch already running on the first day (fixed work). Seeded with
``random.Random`` so one seed gives one instance on every machine.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from cartflow.scheduling.solver.checks import check_instance
from cartflow.scheduling.solver.model import (
    Center,
    FixedManufacturing,
    Instance,
    Order,
    Product,
    Site,
)

DEMO_START = date(2027, 1, 4)  # a Monday
WEEKDAYS = frozenset(range(5))


def demo_network(
    rng: random.Random,
) -> tuple[tuple[Site, ...], tuple[Center, ...], tuple[Product, ...]]:
    sites = (
        Site("MFG-A", tuple(f"MFG-A-{k}" for k in range(1, 11)), 2),
        Site("MFG-B", tuple(f"MFG-B-{k}" for k in range(1, 9)), 2),
        Site("MFG-C", tuple(f"MFG-C-{k}" for k in range(1, 5)), 1),
    )
    centers = []
    for k in range(1, 9):
        out = {s.id: rng.randint(1, 3) for s in sites}
        back = {s: max(1, d + rng.choice((-1, 0, 0, 1))) for s, d in out.items()}
        centers.append(Center(f"C{k:02d}", rng.choice((1, 1, 2)), rng.choice((1, 2)), out, back))
    products = (
        Product("P1", ("MFG-A", "MFG-B"), 10, 7),
        Product("P2", ("MFG-A",), 12, 8),
        Product("P3", ("MFG-B", "MFG-C"), 11, 5),
        Product("P4", ("MFG-C", "MFG-A"), 13, 6),
        Product("P5", ("MFG-B",), 14, 7),
    )
    return sites, tuple(centers), products


def _release(start_date: date, offset: int, product: Product) -> date:
    return start_date + timedelta(days=product.manufacturing_days + product.qc_days - offset)


def generate_instance(
    episodes: int,
    seed: int,
    *,
    horizon_days: int = 120,
    start_date: date = DEMO_START,
    started_fraction: float = 0.1,
) -> Instance:
    """A reproducible synthetic instance with ``episodes`` open episodes."""
    rng = random.Random(seed)
    sites, centers, products = demo_network(rng)
    spread = max(1, int(0.6 * horizon_days))
    devices = [d for s in sites for d in s.devices]
    rng.shuffle(devices)
    n_started = min(round(started_fraction * episodes), len(devices))
    site_of = {d: s.id for s in sites for d in s.devices}
    orders: list[Order] = []
    releases: dict[tuple[str, date], int] = {}
    for k in range(episodes):
        center = rng.choice(centers)
        priority = rng.randint(1, 10)
        if k < n_started:
            device = devices[k]
            product = rng.choice([p for p in products if site_of[device] in p.sites])
            site = next(s for s in sites if s.id == site_of[device])
            offsets = list(range(1, product.manufacturing_days))
            rng.shuffle(offsets)
            # Started batches must not need more QC releases on one day than the site signs.
            start = next(
                (
                    start_date - timedelta(days=off)
                    for off in offsets
                    if releases.get((site.id, _release(start_date, off, product)), 0)
                    < site.qc_releases_per_day
                ),
                None,
            )
            if start is None:
                continue
            key = (site.id, start + timedelta(days=product.manufacturing_days + product.qc_days))
            releases[key] = releases.get(key, 0) + 1
            apheresis = start - timedelta(days=center.transit_days[site_of[device]])
            while apheresis.weekday() not in WEEKDAYS:
                apheresis -= timedelta(days=1)
            ready = apheresis - timedelta(days=rng.randint(0, 10))
            orders.append(
                Order(
                    id=f"E{k + 1:04d}",
                    center=center.id,
                    product=product.id,
                    ready_date=ready,
                    latest_infusion_date=ready + timedelta(days=rng.randint(35, 70)),
                    priority=priority,
                    fixed_apheresis=apheresis,
                    fixed_manufacturing=FixedManufacturing(device, start),
                )
            )
            continue
        product = rng.choice(products)
        ready = start_date + timedelta(days=rng.randint(0, spread))
        orders.append(
            Order(
                id=f"E{k + 1:04d}",
                center=center.id,
                product=product.id,
                ready_date=ready,
                latest_infusion_date=ready + timedelta(days=rng.randint(35, 70)),
                priority=priority,
            )
        )
    instance = Instance(
        start_date=start_date,
        horizon_days=horizon_days,
        sites=sites,
        centers=centers,
        products=products,
        orders=tuple(orders),
        shipping_weekdays=WEEKDAYS,
    )
    check_instance(instance)
    return instance
