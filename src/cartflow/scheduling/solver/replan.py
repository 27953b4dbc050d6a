"""Re-planning after a failed batch or a device outage, keeping started work and moving few others.

The new plan starts on the day the event becomes known (``event.on``) and ends where the old
horizon ended. Relative to that day, each episode of the previous plan is:
- done (infused before ``on``): dropped from the new instance;
- started (manufacturing began before ``on``): apheresis, device and start are fixed;
- collected (apheresis before ``on``): the apheresis date is fixed, manufacturing may move;
- otherwise free, but every date changed from the previous plan costs ``move_penalty``
  (per changed date: apheresis, manufacturing start or site, infusion) and the greedy keeps every
  previous booking that still fits before it dispatches the rest.
A failed batch needs a new collection and a new run: the episode loses its fixed work and may be
collected again from ``on`` (its waiting still counts from its original ready date). A batch
running on a device when it goes down is lost the same way (a CAR-T run cannot pause).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from cartflow.i18n import _
from cartflow.scheduling.solver.checks import check_instance
from cartflow.scheduling.solver.errors import EventError
from cartflow.scheduling.solver.model import (
    Assignment,
    DeviceOutage,
    FixedManufacturing,
    Instance,
    Order,
    Plan,
)
from cartflow.scheduling.solver.solve import Method, solve


@dataclass(frozen=True)
class BatchFailed:
    """The batch of ``order`` failed (manufacturing or QC); known on ``on``."""

    order: str
    on: date


@dataclass(frozen=True)
class DeviceDown:
    """``device`` is unavailable from ``first_date`` to ``last_date``; known on ``on``."""

    device: str
    first_date: date
    last_date: date
    on: date


Event = BatchFailed | DeviceDown


@dataclass(frozen=True)
class Move:
    """One episode whose booking changed: ``old``/``new`` are None when (un)scheduled."""

    order: str
    old: Assignment | None
    new: Assignment | None

    @property
    def dates_changed(self) -> bool:
        if self.old is None or self.new is None:
            return True
        return _dates(self.old) != _dates(self.new)


@dataclass(frozen=True)
class ReplanResult:
    instance: Instance
    plan: Plan
    moves: tuple[Move, ...]
    failed: tuple[str, ...]
    done: tuple[str, ...]

    @property
    def moved(self) -> tuple[str, ...]:
        """Previously scheduled episodes, other than the failed ones, whose dates changed."""
        lost = set(self.failed)
        return tuple(
            m.order
            for m in self.moves
            if m.old is not None and m.order not in lost and m.dates_changed
        )


def _dates(a: Assignment) -> tuple[date, str, date, date]:
    return (a.apheresis_date, a.site, a.manufacturing_start, a.infusion_date)


def _run_days(instance: Instance, order: Order, start: date) -> tuple[date, date]:
    length = instance.product_by_id[order.product].manufacturing_days
    return start, start + timedelta(days=length - 1)


def _failed_orders(instance: Instance, previous: Plan, event: Event) -> set[str]:
    if isinstance(event, BatchFailed):
        o = instance.order_by_id.get(event.order)
        if o is None:
            raise EventError(_("event: unknown episode {episode!r}", episode=event.order))
        a = previous.by_order.get(o.id)
        started = o.fixed_manufacturing is not None or (
            a is not None and a.manufacturing_start <= event.on
        )
        if not started:
            raise EventError(
                _(
                    "event: episode {episode!r} has no batch started by {day}",
                    episode=o.id,
                    day=event.on,
                )
            )
        return {o.id}
    if event.device not in instance.site_of_device:
        raise EventError(_("event: unknown device {device!r}", device=event.device))
    if event.last_date < event.first_date:
        raise EventError(_("event: the outage ends before it starts"))
    lost = set()
    for o in instance.orders:
        a = previous.by_order.get(o.id)
        fm = o.fixed_manufacturing
        run = (fm.device, fm.start) if fm else (a.device, a.manufacturing_start) if a else None
        if run is None or run[0] != event.device or run[1] >= event.on:
            continue
        first, last = _run_days(instance, o, run[1])
        if first <= event.last_date and event.first_date <= last:
            lost.add(o.id)
    return lost


def replan_instance(
    instance: Instance, previous: Plan, event: Event
) -> tuple[Instance, set[str], set[str]]:
    """The instance to re-plan from ``event.on``, the failed and the done episodes."""
    on = event.on
    if not instance.start_date <= on <= instance.end_date:
        raise EventError(_("event: {day} is outside the plan's horizon", day=on))
    failed = _failed_orders(instance, previous, event)
    done: set[str] = set()
    orders: list[Order] = []
    for o in instance.orders:
        a = previous.by_order.get(o.id)
        if o.id in failed:
            orders.append(
                replace(o, apheresis_not_before=on, fixed_apheresis=None, fixed_manufacturing=None)
            )
        elif a is not None and a.infusion_date < on:
            done.add(o.id)
        elif o.fixed_manufacturing is not None:
            orders.append(o)
        elif a is not None and a.manufacturing_start < on:
            fm = FixedManufacturing(a.device, a.manufacturing_start)
            orders.append(replace(o, fixed_apheresis=a.apheresis_date, fixed_manufacturing=fm))
        elif a is not None and a.apheresis_date < on:
            orders.append(replace(o, fixed_apheresis=a.apheresis_date))
        else:
            orders.append(o)
    outages = instance.device_outages
    if isinstance(event, DeviceDown):
        outages = (*outages, DeviceOutage(event.device, event.first_date, event.last_date))
    new = replace(
        instance,
        start_date=on,
        horizon_days=(instance.end_date - on).days + 1,
        orders=tuple(orders),
        device_outages=outages,
    )
    check_instance(new)
    return new, failed, done


def replan(
    instance: Instance,
    previous: Plan,
    event: Event,
    *,
    method: Method = "exact",
    time_limit: float = 5.0,
    seed: int = 0,
    move_penalty: int = 10,
) -> ReplanResult:
    """Re-plan after ``event`` and report what moved (see the module docstring)."""
    new, failed, done = replan_instance(instance, previous, event)
    keep = {
        a.order: a for a in previous.assignments if a.order not in failed and a.order not in done
    }
    plan = solve(
        new,
        method=method,
        time_limit=time_limit,
        seed=seed,
        previous=keep,
        move_penalty=move_penalty,
    )
    moves: list[Move] = []
    for o in new.orders:
        old, cur = previous.by_order.get(o.id), plan.by_order.get(o.id)
        if old != cur:
            moves.append(Move(o.id, old, cur))
    return ReplanResult(new, plan, tuple(moves), tuple(sorted(failed)), tuple(sorted(done)))
