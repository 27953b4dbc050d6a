"""The scheduling problem and its plans as plain frozen dataclasses (no database, no JSON).

Day semantics (the contract every method and the validator share; see docs/scheduling.md):

- Days are calendar dates. The planning horizon is ``start_date`` .. ``end_date`` inclusive
  (``horizon_days`` days). Every date that a plan chooses lies in the horizon; dates fixed by work
  already started may lie before ``start_date`` (they are history and use no capacity).
- Apheresis on day ``a`` (``a >= ready_date``, ``a >= apheresis_not_before``) on a courier
  weekday: the material is shipped that day and reaches the site on
  ``a + transit_days[center][site]``.
- A device is busy from ``manufacturing_start`` for ``manufacturing_days`` days, one batch at a
  time, never during an outage; ``manufacturing_start >= arrival``.
- ``release_date = manufacturing_start + manufacturing_days + qc_days``.
- The product leaves the site on the first courier weekday on or after release and reaches the
  center ``return_transit_days[center][site]`` days later; ``infusion_date`` is no earlier.
- Daily capacities: apheresis chairs per center, QC releases per site, infusions per center.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

ALL_WEEKDAYS = frozenset(range(7))


@dataclass(frozen=True)
class Site:
    """A manufacturing site: its named devices and how many batches QC can release a day."""

    id: str
    devices: tuple[str, ...]
    qc_releases_per_day: int


@dataclass(frozen=True)
class Center:
    """A treating center: chairs and infusion beds per day, and transit to each site (days)."""

    id: str
    apheresis_per_day: int
    infusions_per_day: int
    transit_days: Mapping[str, int]
    return_transit_days: Mapping[str, int]


@dataclass(frozen=True)
class Product:
    """A product: the sites licensed to make it and its manufacturing and QC durations (days)."""

    id: str
    sites: tuple[str, ...]
    manufacturing_days: int
    qc_days: int


@dataclass(frozen=True)
class FixedManufacturing:
    """A batch already started: its device and start date cannot move."""

    device: str
    start: date


@dataclass(frozen=True)
class Order:
    """One open episode (a patient waiting for a product)."""

    id: str
    center: str
    product: str
    ready_date: date
    latest_infusion_date: date
    priority: int
    apheresis_not_before: date | None = None
    fixed_apheresis: date | None = None
    fixed_manufacturing: FixedManufacturing | None = None

    @property
    def earliest_apheresis(self) -> date:
        if self.apheresis_not_before is None:
            return self.ready_date
        return max(self.ready_date, self.apheresis_not_before)


@dataclass(frozen=True)
class DeviceOutage:
    """A device cannot run any batch from ``first_date`` to ``last_date`` inclusive."""

    device: str
    first_date: date
    last_date: date


@dataclass(frozen=True)
class ObjectiveWeights:
    """Penalty weights; both are multiplied by the episode's clinical priority."""

    late_per_day: int = 100
    unscheduled: int = 50_000


@dataclass(frozen=True)
class Instance:
    """The whole network and its open episodes for one planning run."""

    start_date: date
    horizon_days: int
    sites: tuple[Site, ...]
    centers: tuple[Center, ...]
    products: tuple[Product, ...]
    orders: tuple[Order, ...]
    shipping_weekdays: frozenset[int] = ALL_WEEKDAYS
    device_outages: tuple[DeviceOutage, ...] = ()
    weights: ObjectiveWeights = field(default_factory=ObjectiveWeights)

    @property
    def end_date(self) -> date:
        return self.start_date + timedelta(days=self.horizon_days - 1)

    def day(self, when: date) -> int:
        """Index of ``when`` in the horizon (0 is ``start_date``; negative is history)."""
        return (when - self.start_date).days

    def date_of(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites}

    @cached_property
    def center_by_id(self) -> dict[str, Center]:
        return {c.id: c for c in self.centers}

    @cached_property
    def product_by_id(self) -> dict[str, Product]:
        return {p.id: p for p in self.products}

    @cached_property
    def order_by_id(self) -> dict[str, Order]:
        return {o.id: o for o in self.orders}

    @cached_property
    def site_of_device(self) -> dict[str, str]:
        return {d: s.id for s in self.sites for d in s.devices}


@dataclass(frozen=True)
class Assignment:
    """One scheduled episode: every booking date, the site and the device."""

    order: str
    apheresis_date: date
    site: str
    device: str
    manufacturing_start: date
    release_date: date
    infusion_date: date


@dataclass(frozen=True)
class Plan:
    """A plan: assignments plus the episodes left unscheduled, with how it was obtained.

    ``lower_bound`` is a proven bound on the optimal objective (None when unknown); ``status`` is
    ``optimal`` (proven), ``feasible`` (time limit hit), ``heuristic`` (greedy) or ``fallback``
    (the exact method failed and the greedy plan is returned).
    """

    method: str
    status: str
    objective: int
    lower_bound: int | None
    assignments: tuple[Assignment, ...]
    unscheduled: tuple[str, ...]
    seconds: float = 0.0
    seed: int | None = None
    message: str = ""

    @property
    def gap(self) -> float | None:
        """Proven relative gap (objective - bound) / objective, or None without a bound."""
        if self.lower_bound is None:
            return None
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / self.objective)

    @cached_property
    def by_order(self) -> dict[str, Assignment]:
        return {a.order: a for a in self.assignments}
