"""The JSON file formats: instance (``cartflow-instance`` v1) and plan (``cartflow-plan`` v1).

Pydantic models parse and type-check the files (strict: no silent coercion, unknown keys refused so
that a misspelt optional key is not silently ignored); ``checks.check_instance`` then checks the
references and the fixed work. The formats are documented field by field in docs/scheduling.md.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cartflow.i18n import _
from cartflow.i18n.validation import validation_message
from cartflow.scheduling.solver.checks import check_instance
from cartflow.scheduling.solver.errors import InstanceError, PlanFormatError
from cartflow.scheduling.solver.model import (
    ALL_WEEKDAYS,
    Assignment,
    Center,
    DeviceOutage,
    FixedManufacturing,
    Instance,
    ObjectiveWeights,
    Order,
    Plan,
    Product,
    Site,
)

INSTANCE_FORMAT = "cartflow-instance"
PLAN_FORMAT = "cartflow-plan"
FORMAT_VERSION = 1

NonNeg = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SiteIn(_Strict):
    id: str
    devices: Annotated[int, Field(ge=0)] | list[str]
    qc_releases_per_day: NonNeg


class CenterIn(_Strict):
    id: str
    apheresis_per_day: NonNeg
    infusions_per_day: NonNeg
    transit_days: dict[str, NonNeg]
    return_transit_days: dict[str, NonNeg] | None = None


class ProductIn(_Strict):
    id: str
    site: str | None = None
    sites: list[str] | None = None
    manufacturing_days: Positive
    qc_days: NonNeg

    @model_validator(mode="after")
    def _one_site_key(self) -> ProductIn:
        if (self.site is None) == (self.sites is None):
            raise ValueError(_("give exactly one of 'site' or 'sites'"))
        return self


class FixedIn(_Strict):
    apheresis_date: date
    device: str | None = None
    manufacturing_start: date | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> FixedIn:
        if (self.device is None) != (self.manufacturing_start is None):
            raise ValueError(_("give both 'device' and 'manufacturing_start' or neither"))
        return self


class OrderIn(_Strict):
    id: str
    center: str
    product: str
    ready_date: date
    latest_infusion_date: date
    priority: Annotated[int, Field(ge=1, le=10)]
    apheresis_not_before: date | None = None
    fixed: FixedIn | None = None


class OutageIn(_Strict):
    device: str
    first_date: date
    last_date: date


class WeightsIn(_Strict):
    late_per_day: NonNeg = 100
    unscheduled: NonNeg = 50_000


class InstanceIn(_Strict):
    format: Literal["cartflow-instance"] = "cartflow-instance"
    version: Literal[1] = 1
    start_date: date
    horizon_days: Annotated[int, Field(ge=1, le=3660)]
    sites: list[SiteIn]
    centers: list[CenterIn]
    products: list[ProductIn]
    orders: list[OrderIn]
    shipping_weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = None
    device_outages: list[OutageIn] = []
    objective: WeightsIn = WeightsIn()


class AssignmentIn(_Strict):
    order: str
    apheresis_date: date
    site: str | None = None
    device: str
    manufacturing_start: date
    release_date: date
    infusion_date: date


class PlanIn(_Strict):
    format: Literal["cartflow-plan"] = "cartflow-plan"
    version: Literal[1] = 1
    method: str = "unknown"
    status: str = "unknown"
    objective: int | None = None
    lower_bound: int | None = None
    gap: float | None = None
    seconds: float = 0.0
    seed: int | None = None
    message: str = ""
    assignments: list[AssignmentIn]
    unscheduled: list[str]


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "file"
    return f"{where}: {validation_message(err)}"


def _site(s: SiteIn) -> Site:
    devices = (
        tuple(f"{s.id}-{k}" for k in range(1, s.devices + 1))
        if isinstance(s.devices, int)
        else tuple(s.devices)
    )
    return Site(s.id, devices, s.qc_releases_per_day)


def _order(o: OrderIn) -> Order:
    fixed_m = None
    if o.fixed is not None and o.fixed.device is not None and o.fixed.manufacturing_start:
        fixed_m = FixedManufacturing(o.fixed.device, o.fixed.manufacturing_start)
    return Order(
        id=o.id,
        center=o.center,
        product=o.product,
        ready_date=o.ready_date,
        latest_infusion_date=o.latest_infusion_date,
        priority=o.priority,
        apheresis_not_before=o.apheresis_not_before,
        fixed_apheresis=o.fixed.apheresis_date if o.fixed is not None else None,
        fixed_manufacturing=fixed_m,
    )


def instance_from_dict(data: Any) -> Instance:
    """Parse and check an instance; raises InstanceError with the first problem found."""
    try:
        text = json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise InstanceError(_("instance: not JSON-serialisable: {error}", error=exc)) from exc
    return instance_from_json(text)


def instance_from_json(text: str | bytes) -> Instance:
    """Parse and check an instance file's text; raises InstanceError with the first problem."""
    try:
        raw = InstanceIn.model_validate_json(text)
    except ValidationError as exc:
        raise InstanceError(_("instance: {problem}", problem=_first_error(exc))) from exc
    return _instance(raw)


def _instance(raw: InstanceIn) -> Instance:
    centers = tuple(
        Center(
            c.id,
            c.apheresis_per_day,
            c.infusions_per_day,
            dict(c.transit_days),
            dict(c.return_transit_days if c.return_transit_days is not None else c.transit_days),
        )
        for c in raw.centers
    )
    products = tuple(
        Product(
            p.id,
            (p.site,) if p.site is not None else tuple(p.sites or ()),
            p.manufacturing_days,
            p.qc_days,
        )
        for p in raw.products
    )
    instance = Instance(
        start_date=raw.start_date,
        horizon_days=raw.horizon_days,
        sites=tuple(_site(s) for s in raw.sites),
        centers=centers,
        products=products,
        orders=tuple(_order(o) for o in raw.orders),
        shipping_weekdays=(
            frozenset(raw.shipping_weekdays) if raw.shipping_weekdays is not None else ALL_WEEKDAYS
        ),
        device_outages=tuple(
            DeviceOutage(o.device, o.first_date, o.last_date) for o in raw.device_outages
        ),
        weights=ObjectiveWeights(raw.objective.late_per_day, raw.objective.unscheduled),
    )
    check_instance(instance)
    return instance


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The instance as a JSON-ready dict (devices always written by name)."""
    orders: list[dict[str, Any]] = []
    for o in instance.orders:
        row: dict[str, Any] = {
            "id": o.id,
            "center": o.center,
            "product": o.product,
            "ready_date": o.ready_date.isoformat(),
            "latest_infusion_date": o.latest_infusion_date.isoformat(),
            "priority": o.priority,
        }
        if o.apheresis_not_before is not None:
            row["apheresis_not_before"] = o.apheresis_not_before.isoformat()
        if o.fixed_apheresis is not None:
            fixed: dict[str, str] = {"apheresis_date": o.fixed_apheresis.isoformat()}
            if o.fixed_manufacturing is not None:
                fixed["device"] = o.fixed_manufacturing.device
                fixed["manufacturing_start"] = o.fixed_manufacturing.start.isoformat()
            row["fixed"] = fixed
        orders.append(row)
    return {
        "format": INSTANCE_FORMAT,
        "version": FORMAT_VERSION,
        "start_date": instance.start_date.isoformat(),
        "horizon_days": instance.horizon_days,
        "shipping_weekdays": sorted(instance.shipping_weekdays),
        "objective": {
            "late_per_day": instance.weights.late_per_day,
            "unscheduled": instance.weights.unscheduled,
        },
        "sites": [
            {"id": s.id, "devices": list(s.devices), "qc_releases_per_day": s.qc_releases_per_day}
            for s in instance.sites
        ],
        "centers": [
            {
                "id": c.id,
                "apheresis_per_day": c.apheresis_per_day,
                "infusions_per_day": c.infusions_per_day,
                "transit_days": dict(c.transit_days),
                "return_transit_days": dict(c.return_transit_days),
            }
            for c in instance.centers
        ],
        "products": [
            {
                "id": p.id,
                "sites": list(p.sites),
                "manufacturing_days": p.manufacturing_days,
                "qc_days": p.qc_days,
            }
            for p in instance.products
        ],
        "orders": orders,
        "device_outages": [
            {
                "device": d.device,
                "first_date": d.first_date.isoformat(),
                "last_date": d.last_date.isoformat(),
            }
            for d in instance.device_outages
        ],
    }


def instance_to_json(instance: Instance) -> str:
    return json.dumps(instance_to_dict(instance), indent=2) + "\n"


def plan_from_json(text: str | bytes, instance: Instance | None = None) -> Plan:
    """Parse a plan file; a missing ``site`` is taken from the device's site in ``instance``."""
    try:
        raw = PlanIn.model_validate_json(text)
    except ValidationError as exc:
        raise PlanFormatError(_("plan: {problem}", problem=_first_error(exc))) from exc
    site_of = instance.site_of_device if instance is not None else {}
    assignments = tuple(
        Assignment(
            order=a.order,
            apheresis_date=a.apheresis_date,
            site=a.site if a.site is not None else site_of.get(a.device, ""),
            device=a.device,
            manufacturing_start=a.manufacturing_start,
            release_date=a.release_date,
            infusion_date=a.infusion_date,
        )
        for a in raw.assignments
    )
    return Plan(
        method=raw.method,
        status=raw.status,
        objective=raw.objective if raw.objective is not None else 0,
        lower_bound=raw.lower_bound,
        assignments=assignments,
        unscheduled=tuple(raw.unscheduled),
        seconds=raw.seconds,
        seed=raw.seed,
        message=raw.message,
    )


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format": PLAN_FORMAT,
        "version": FORMAT_VERSION,
        "method": plan.method,
        "status": plan.status,
        "objective": plan.objective,
        "lower_bound": plan.lower_bound,
        "gap": plan.gap,
        "seconds": round(plan.seconds, 3),
        "seed": plan.seed,
        "message": plan.message,
        "assignments": [
            {
                "order": a.order,
                "apheresis_date": a.apheresis_date.isoformat(),
                "site": a.site,
                "device": a.device,
                "manufacturing_start": a.manufacturing_start.isoformat(),
                "release_date": a.release_date.isoformat(),
                "infusion_date": a.infusion_date.isoformat(),
            }
            for a in sorted(plan.assignments, key=lambda a: a.order)
        ],
        "unscheduled": sorted(plan.unscheduled),
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2) + "\n"
