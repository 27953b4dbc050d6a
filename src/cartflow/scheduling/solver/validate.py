"""Check any plan against every window and capacity of its instance, and price it.

Written from the day semantics in ``model`` alone, with plain date arithmetic and counters, and
sharing no code with the solvers (which work on day indices and precomputed tables): a solver bug
cannot hide behind a validator bug that shares it. Work already started (fixed in the instance)
uses its device, chair and QC release whether or not the plan lists the episode.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from cartflow.i18n import Message, _
from cartflow.scheduling.solver.model import Assignment, Instance, Plan
from cartflow.scheduling.solver.objective import objective_of


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable ``code``, the episode (if one is to blame) and a sentence."""

    code: str
    message: Message
    order: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    violations: tuple[Violation, ...]
    objective: int

    @property
    def feasible(self) -> bool:
        return not self.violations


def first_shipping_day(instance: Instance, day: date) -> date:
    """The first courier weekday on or after ``day``."""
    while day.weekday() not in instance.shipping_weekdays:
        day += timedelta(days=1)
    return day


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=k) for k in range(count)]


class _Checker:
    def __init__(self, instance: Instance) -> None:
        self.inst = instance
        self.found: list[Violation] = []
        self.device_days: dict[tuple[str, date], list[str]] = {}
        self.chairs: Counter[tuple[str, date]] = Counter()
        self.qc: Counter[tuple[str, date]] = Counter()
        self.beds: Counter[tuple[str, date]] = Counter()

    def add(self, code: str, message: Message, order: str | None = None) -> None:
        self.found.append(Violation(code, message, order))

    def in_horizon(self, day: date) -> bool:
        return self.inst.start_date <= day <= self.inst.end_date

    def use_device(self, device: str, start: date, days: int, order: str) -> None:
        for day in _days(start, days):
            if self.in_horizon(day):
                self.device_days.setdefault((device, day), []).append(order)

    def fixed_usage(self) -> None:
        inst = self.inst
        for o in inst.orders:
            if o.fixed_apheresis is not None and self.in_horizon(o.fixed_apheresis):
                self.chairs[(o.center, o.fixed_apheresis)] += 1
            fm = o.fixed_manufacturing
            if fm is not None:
                p = inst.product_by_id[o.product]
                self.use_device(fm.device, fm.start, p.manufacturing_days, o.id)
                release = fm.start + timedelta(days=p.manufacturing_days + p.qc_days)
                if self.in_horizon(release):
                    self.qc[(inst.site_of_device[fm.device], release)] += 1

    def assignment(self, a: Assignment) -> None:
        inst = self.inst
        o = inst.order_by_id[a.order]
        p = inst.product_by_id[o.product]
        c = inst.center_by_id[o.center]
        if a.site not in p.sites:
            self.add(
                "SITE",
                _(
                    "{order}: site {site!r} does not make {product!r}",
                    order=o.id,
                    site=a.site,
                    product=p.id,
                ),
                o.id,
            )
            return
        if inst.site_of_device.get(a.device) != a.site:
            self.add(
                "DEVICE",
                _(
                    "{order}: device {device!r} is not at site {site!r}",
                    order=o.id,
                    device=a.device,
                    site=a.site,
                ),
                o.id,
            )
            return
        if o.fixed_apheresis is not None:
            if a.apheresis_date != o.fixed_apheresis:
                self.add(
                    "FIXED",
                    _("{order}: apheresis moved from {day}", order=o.id, day=o.fixed_apheresis),
                    o.id,
                )
        else:
            self.check_apheresis(a)
        fm = o.fixed_manufacturing
        if fm is not None:
            if (a.device, a.manufacturing_start) != (fm.device, fm.start):
                self.add(
                    "FIXED",
                    _(
                        "{order}: started batch moved from {device} {day}",
                        order=o.id,
                        device=fm.device,
                        day=fm.start,
                    ),
                    o.id,
                )
        else:
            arrival = a.apheresis_date + timedelta(days=c.transit_days[a.site])
            if a.manufacturing_start < arrival:
                self.add(
                    "TRANSIT-IN",
                    _(
                        "{order}: manufacturing starts {start}, before the material arrives on "
                        "{arrival}",
                        order=o.id,
                        start=a.manufacturing_start,
                        arrival=arrival,
                    ),
                    o.id,
                )
            if not self.in_horizon(a.manufacturing_start):
                self.add(
                    "HORIZON",
                    _("{order}: manufacturing start outside the horizon", order=o.id),
                    o.id,
                )
            self.use_device(a.device, a.manufacturing_start, p.manufacturing_days, o.id)
            self.qc[(a.site, a.release_date)] += 1
        release = a.manufacturing_start + timedelta(days=p.manufacturing_days + p.qc_days)
        if a.release_date != release:
            self.add(
                "RELEASE",
                _(
                    "{order}: release {day}, expected {expected}",
                    order=o.id,
                    day=a.release_date,
                    expected=release,
                ),
                o.id,
            )
        if fm is None and not self.in_horizon(a.release_date):
            self.add(
                "HORIZON",
                _("{order}: release {day} outside the horizon", order=o.id, day=a.release_date),
                o.id,
            )
        earliest = first_shipping_day(inst, release) + timedelta(days=c.return_transit_days[a.site])
        if a.infusion_date < earliest:
            self.add(
                "TRANSIT-OUT",
                _(
                    "{order}: infusion {day} before the product can arrive ({earliest})",
                    order=o.id,
                    day=a.infusion_date,
                    earliest=earliest,
                ),
                o.id,
            )
        if not self.in_horizon(a.infusion_date):
            self.add(
                "HORIZON",
                _("{order}: infusion {day} outside the horizon", order=o.id, day=a.infusion_date),
                o.id,
            )
        self.beds[(o.center, a.infusion_date)] += 1

    def check_apheresis(self, a: Assignment) -> None:
        o = self.inst.order_by_id[a.order]
        if a.apheresis_date < o.earliest_apheresis:
            self.add(
                "READY",
                _(
                    "{order}: apheresis {day} before {earliest}",
                    order=o.id,
                    day=a.apheresis_date,
                    earliest=o.earliest_apheresis,
                ),
                o.id,
            )
        if not self.in_horizon(a.apheresis_date):
            self.add(
                "HORIZON",
                _("{order}: apheresis {day} outside the horizon", order=o.id, day=a.apheresis_date),
                o.id,
            )
        if a.apheresis_date.weekday() not in self.inst.shipping_weekdays:
            self.add("COURIER", _("{order}: apheresis on a day without courier", order=o.id), o.id)
        self.chairs[(o.center, a.apheresis_date)] += 1

    def capacities(self) -> None:
        inst = self.inst
        outages = {
            (out.device, day)
            for out in inst.device_outages
            for day in _days(out.first_date, (out.last_date - out.first_date).days + 1)
        }
        for (device, day), users in sorted(self.device_days.items()):
            if len(users) > 1:
                self.add(
                    "CAP-DEVICE",
                    _(
                        "{device} on {day} runs {orders}",
                        device=device,
                        day=day,
                        orders=", ".join(sorted(users)),
                    ),
                )
            if (device, day) in outages:
                self.add(
                    "OUTAGE",
                    _(
                        "{device} is down on {day} but runs {orders}",
                        device=device,
                        day=day,
                        orders=", ".join(users),
                    ),
                )
        for (center, day), n in sorted(self.chairs.items()):
            if n > inst.center_by_id[center].apheresis_per_day:
                self.add(
                    "CAP-APHERESIS",
                    _("{center} on {day}: {n} apheresis", center=center, day=day, n=n),
                )
        for (site, day), n in sorted(self.qc.items()):
            if n > inst.site_by_id[site].qc_releases_per_day:
                self.add("CAP-QC", _("{site} on {day}: {n} QC releases", site=site, day=day, n=n))
        for (center, day), n in sorted(self.beds.items()):
            if n > inst.center_by_id[center].infusions_per_day:
                self.add(
                    "CAP-INFUSION",
                    _("{center} on {day}: {n} infusions", center=center, day=day, n=n),
                )


def validate(instance: Instance, plan: Plan) -> ValidationReport:
    """Every violated rule of ``plan`` (empty when feasible) and its objective, recomputed."""
    check = _Checker(instance)
    known = instance.order_by_id
    seen: Counter[str] = Counter(a.order for a in plan.assignments)
    seen.update(plan.unscheduled)
    for oid, n in sorted(seen.items()):
        if oid not in known:
            check.add("UNKNOWN", _("{order}: not an episode of the instance", order=oid), oid)
        elif n > 1:
            check.add("DUPLICATE", _("{order}: listed {n} times", order=oid, n=n), oid)
    for oid in known:
        if oid not in seen:
            check.add("MISSING", _("{order}: neither scheduled nor unscheduled", order=oid), oid)
    check.fixed_usage()
    for a in plan.assignments:
        if a.order in known:
            check.assignment(a)
    check.capacities()
    infusions = [(a.order, a.infusion_date) for a in plan.assignments if a.order in known]
    scheduled = {o for o, _ in infusions}
    left = [o for o in known if o not in scheduled]
    return ValidationReport(tuple(check.found), objective_of(instance, infusions, left))
