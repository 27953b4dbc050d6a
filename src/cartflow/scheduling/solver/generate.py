"""Synthetic instances on a demo network (22 devices at three sites, eight centers).

Durations follow the research notes (docs/scheduling.md, shared reference section 2): 10-14
device-days of manufacturing (CliniMACS Prodigy TCT about 13 days), 5-8 days of QC, 1-3 days of
transit, couriers Monday to Friday. Ready dates spread over the first 60 % of the horizon; about a
tenth of the episodes have a batch already running on the first day (fixed work). Seeded with
``random.Random`` so one seed gives one instance on every machine.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from cartflow.scheduling.solver.checks import check_instance
from cartflow.scheduling.solver.model import (
    Center,
    DeviceOutage,
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


YEAR_DAYS = 365


@dataclass(frozen=True)
class NetworkShape:
    """A one-site network to scale with demand (the benchmark's networks; docs/scheduling.md).

    ``centers`` (their transit to ``site``), ``products`` (made at ``site``) and
    ``qc_releases_per_day`` describe the network at ``orders_per_year``; ``generate_year`` copies
    the centers cyclically and scales QC in proportion to the demand it is asked for, and sizes
    the device park to the asked load. Devices are named ``<device_prefix>-01``...
    """

    site: str
    device_prefix: str
    centers: tuple[Center, ...]
    products: tuple[Product, ...]
    qc_releases_per_day: int
    orders_per_year: int
    shipping_weekdays: frozenset[int] = WEEKDAYS


def _scaled_centers(shape: NetworkShape, orders_per_year: int) -> tuple[Center, ...]:
    count = max(1, round(len(shape.centers) * orders_per_year / shape.orders_per_year))
    out = []
    for k in range(count):
        c = shape.centers[k % len(shape.centers)]
        cycle = k // len(shape.centers)
        out.append(replace(c, id=c.id if cycle == 0 else f"{c.id}-{cycle + 1}"))
    return tuple(out)


def _device_park(
    shape: NetworkShape, capacity_days: float, start_date: date
) -> tuple[Site, tuple[DeviceOutage, ...]]:
    """Whole devices for the year, plus one commissioned part-way through for the remainder."""
    whole = int(capacity_days // YEAR_DAYS)
    rest = capacity_days - whole * YEAR_DAYS
    count = whole + (1 if rest >= 1 else 0)
    devices = tuple(f"{shape.device_prefix}-{n:02d}" for n in range(1, max(1, count) + 1))
    outages: tuple[DeviceOutage, ...] = ()
    if whole >= 1 and rest >= 1:
        # The last device arrives late so that the year's device-days match the load exactly.
        idle = YEAR_DAYS - round(rest)
        if idle > 0:
            last = start_date + timedelta(days=idle - 1)
            outages = (DeviceOutage(devices[-1], start_date, last),)
    qc = shape.qc_releases_per_day
    return Site(shape.site, devices, qc), outages


def generate_year(
    orders_per_year: int,
    load: float,
    seed: int,
    *,
    shape: NetworkShape,
    tail_days: int = 70,
    start_date: date = DEMO_START,
    in_progress: bool = True,
) -> Instance:
    """A year of referrals on ``shape`` with its devices sized to an offered ``load``.

    ``orders_per_year`` episodes get ready on days drawn uniformly over the first 365 days (a
    Poisson stream conditioned on its count); the horizon adds ``tail_days`` so that the last
    referrals can still be infused. The offered load is device-days asked over device-days of
    the year: the park gets ``orders x mean manufacturing days / load`` device-days (whole
    devices, plus one commissioned part-way through the year for the remainder). With
    ``in_progress`` the year starts in steady state: about ``min(load, 1)`` of the devices run a
    batch started in the previous days (extra episodes, fixed work). Seeded with
    ``random.Random``; priorities 1-10 and latest useful infusion 35-70 days after readiness as in
    ``generate_instance``.
    """
    if orders_per_year < 1 or load <= 0:
        raise ValueError("orders_per_year and load must be positive")
    rng = random.Random(seed)
    products = shape.products
    mean_days = sum(p.manufacturing_days for p in products) / len(products)
    scale = orders_per_year / shape.orders_per_year
    shape = replace(shape, qc_releases_per_day=max(1, math.ceil(shape.qc_releases_per_day * scale)))
    site, outages = _device_park(shape, orders_per_year * mean_days / load, start_date)
    centers = _scaled_centers(shape, orders_per_year)
    orders: list[Order] = []
    if in_progress:
        orders += _running(rng, shape, site, centers, round(min(load, 1.0) * len(site.devices)),
                           start_date, outages)  # fmt: skip
    ready_days = sorted(rng.randrange(YEAR_DAYS) for _ in range(orders_per_year))
    for k, day in enumerate(ready_days):
        ready = start_date + timedelta(days=day)
        orders.append(
            Order(
                id=f"R{k + 1:04d}",
                center=rng.choice(centers).id,
                product=rng.choice(products).id,
                ready_date=ready,
                latest_infusion_date=ready + timedelta(days=rng.randint(35, 70)),
                priority=rng.randint(1, 10),
            )
        )
    instance = Instance(
        start_date=start_date,
        horizon_days=YEAR_DAYS + tail_days,
        sites=(site,),
        centers=centers,
        products=products,
        orders=tuple(orders),
        shipping_weekdays=shape.shipping_weekdays,
        device_outages=outages,
    )
    check_instance(instance)
    return instance


def _running(
    rng: random.Random,
    shape: NetworkShape,
    site: Site,
    centers: tuple[Center, ...],
    count: int,
    start_date: date,
    outages: tuple[DeviceOutage, ...],
) -> list[Order]:
    """Batches already running on the first day, on distinct available devices."""
    down = {o.device for o in outages}
    devices = [d for d in site.devices if d not in down][:count]
    releases: dict[date, int] = {}
    out = []
    for k, device in enumerate(devices):
        product = rng.choice(shape.products)
        center = rng.choice(centers)
        offsets = list(range(1, product.manufacturing_days))
        rng.shuffle(offsets)
        start = next(
            (
                start_date - timedelta(days=off)
                for off in offsets
                if releases.get(_release(start_date, off, product), 0) < site.qc_releases_per_day
            ),
            None,
        )
        if start is None:
            continue
        key = start + timedelta(days=product.manufacturing_days + product.qc_days)
        releases[key] = releases.get(key, 0) + 1
        apheresis = start - timedelta(days=center.transit_days[site.id])
        while apheresis.weekday() not in shape.shipping_weekdays:
            apheresis -= timedelta(days=1)
        ready = apheresis - timedelta(days=rng.randint(0, 10))
        out.append(
            Order(
                id=f"W{k + 1:03d}",
                center=center.id,
                product=product.id,
                ready_date=ready,
                latest_infusion_date=ready + timedelta(days=rng.randint(35, 70)),
                priority=rng.randint(1, 10),
                fixed_apheresis=apheresis,
                fixed_manufacturing=FixedManufacturing(device, start),
            )
        )
    return out


def offered_load(instance: Instance, days: int = YEAR_DAYS) -> float:
    """Device-days asked by episodes not yet started / device-days of the first ``days``.

    The arrival-rate utilisation of queueing theory (rho) when the episodes are a year of
    referrals. Outages count against the supply; batches already running do not (in steady
    state they stand for the year's last referrals, which run past its end).
    """
    asked = sum(
        instance.product_by_id[o.product].manufacturing_days
        for o in instance.orders
        if o.fixed_manufacturing is None
    )
    end = instance.start_date + timedelta(days=days - 1)
    down = 0
    for out in instance.device_outages:
        first, last = max(out.first_date, instance.start_date), min(out.last_date, end)
        down += max(0, (last - first).days + 1)
    devices = sum(len(s.devices) for s in instance.sites)
    return asked / max(1, devices * days - down)
