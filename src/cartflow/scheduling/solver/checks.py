"""Consistency checks of an instance: references resolve and fixed work fits the network.

Work already started (fixed apheresis and fixed batches) is history: no plan can change it, so an
instance whose fixed work already breaks a capacity (two batches on one device at once, a batch
during an outage, more fixed releases on a day than QC can sign) is refused here rather than
reported as a violation of every plan made from it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from cartflow.i18n import Message, _
from cartflow.scheduling.solver.errors import InstanceError
from cartflow.scheduling.solver.model import Instance


def _unique(kind: str, ids: list[str]) -> None:
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        raise InstanceError(_("instance: duplicate {kind} id {id!r}", kind=kind, id=dup[0]))


def check_instance(instance: Instance) -> None:
    """Raise InstanceError naming the first inconsistency; return None when consistent."""
    _unique("site", [s.id for s in instance.sites])
    _unique("center", [c.id for c in instance.centers])
    _unique("product", [p.id for p in instance.products])
    _unique("order", [o.id for o in instance.orders])
    _unique("device", [d for s in instance.sites for d in s.devices])
    if not instance.shipping_weekdays:
        raise InstanceError(_("instance: shipping_weekdays is empty: nothing can ever ship"))
    sites = instance.site_by_id
    for p in instance.products:
        if not p.sites:
            raise InstanceError(_("instance: product {product!r} has no site", product=p.id))
        for s in p.sites:
            if s not in sites:
                raise InstanceError(
                    _(
                        "instance: product {product!r} names unknown site {site!r}",
                        product=p.id,
                        site=s,
                    )
                )
    for o in instance.orders:
        _check_order_refs(instance, o.id)
    for out in instance.device_outages:
        if out.device not in instance.site_of_device:
            raise InstanceError(
                _("instance: outage names unknown device {device!r}", device=out.device)
            )
        if out.last_date < out.first_date:
            raise InstanceError(
                _("instance: outage of {device!r} ends before it starts", device=out.device)
            )
    _check_fixed_work(instance)


def _check_order_refs(instance: Instance, order_id: str) -> None:
    o = instance.order_by_id[order_id]
    center = instance.center_by_id.get(o.center)
    if center is None:
        raise InstanceError(
            _(
                "instance: order {order!r} names unknown center {center!r}",
                order=o.id,
                center=o.center,
            )
        )
    product = instance.product_by_id.get(o.product)
    if product is None:
        raise InstanceError(
            _(
                "instance: order {order!r} names unknown product {product!r}",
                order=o.id,
                product=o.product,
            )
        )
    for s in product.sites:
        if s not in center.transit_days or s not in center.return_transit_days:
            raise InstanceError(
                _(
                    "instance: center {center!r} has no transit_days to site {site!r} "
                    "(needed by order {order!r})",
                    center=center.id,
                    site=s,
                    order=o.id,
                )
            )
    if o.latest_infusion_date < o.ready_date:
        raise InstanceError(
            _("instance: order {order!r} latest_infusion_date is before ready_date", order=o.id)
        )
    fm = o.fixed_manufacturing
    if fm is not None:
        site = instance.site_of_device.get(fm.device)
        if site is None:
            raise InstanceError(
                _(
                    "instance: order {order!r} fixed on unknown device {device!r}",
                    order=o.id,
                    device=fm.device,
                )
            )
        if site not in product.sites:
            raise InstanceError(
                _(
                    "instance: order {order!r} fixed on device {device!r} at site {site!r}, "
                    "which does not make product {product!r}",
                    order=o.id,
                    device=fm.device,
                    site=site,
                    product=product.id,
                )
            )
        if o.fixed_apheresis is None:
            raise InstanceError(
                _("instance: order {order!r} has a fixed batch but no apheresis date", order=o.id)
            )
        arrival = o.fixed_apheresis + timedelta(days=center.transit_days[site])
        if fm.start < arrival:
            raise InstanceError(
                _(
                    "instance: order {order!r} fixed manufacturing starts before its material "
                    "arrives",
                    order=o.id,
                )
            )


def _check_fixed_work(instance: Instance) -> None:
    busy: dict[str, dict[date, Message]] = {}
    for out in instance.device_outages:
        day = out.first_date
        while day <= out.last_date:
            busy.setdefault(out.device, {})[day] = _("an outage")
            day += timedelta(days=1)
    releases: Counter[tuple[str, date]] = Counter()
    chairs: Counter[tuple[str, date]] = Counter()
    for o in instance.orders:
        if o.fixed_apheresis is not None and o.fixed_apheresis >= instance.start_date:
            chairs[(o.center, o.fixed_apheresis)] += 1
        fm = o.fixed_manufacturing
        if fm is None:
            continue
        product = instance.product_by_id[o.product]
        for k in range(product.manufacturing_days):
            day = fm.start + timedelta(days=k)
            holder = busy.setdefault(fm.device, {}).get(day)
            if holder is not None:
                raise InstanceError(
                    _(
                        "instance: fixed batch of {order!r} on {device!r} on {day} "
                        "overlaps {holder}",
                        order=o.id,
                        device=fm.device,
                        day=day,
                        holder=holder,
                    )
                )
            busy[fm.device][day] = _("the fixed batch of {order!r}", order=o.id)
        release = fm.start + timedelta(days=product.manufacturing_days + product.qc_days)
        if release >= instance.start_date:
            releases[(instance.site_of_device[fm.device], release)] += 1
    for (site, day), n in releases.items():
        if n > instance.site_by_id[site].qc_releases_per_day:
            raise InstanceError(
                _(
                    "instance: fixed batches need {n} QC releases at {site} on {day}",
                    n=n,
                    site=site,
                    day=day,
                )
            )
    for (center, day), n in chairs.items():
        if n > instance.center_by_id[center].apheresis_per_day:
            raise InstanceError(
                _(
                    "instance: fixed apheresis needs {n} chairs at {center} on {day}",
                    n=n,
                    center=center,
                    day=day,
                )
            )
