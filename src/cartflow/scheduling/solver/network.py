"""Day-indexed tables of an instance shared by the solvers (not by the validator).

Day ``t`` is ``start_date + t``. For each episode this precomputes what it may do: its apheresis
days (courier weekdays with a chair), per licensed site the earliest and latest manufacturing start
such that the product still reaches the patient inside the horizon, and its cost for every
infusion day. Remaining capacity tables already subtract work that started before planning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cartflow.scheduling.solver.model import Instance, Order
from cartflow.scheduling.solver.objective import unscheduled_cost

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SiteOption:
    """Making the episode's product at one site: durations and the window of start days."""

    site: int
    transit_in: int
    transit_out: int
    manufacturing_days: int
    qc_days: int
    start_lo: int
    start_hi: int


@dataclass(frozen=True)
class EpisodeOptions:
    """What one episode may do; ``sites`` is empty when nothing fits in the horizon."""

    order: Order
    center: int
    ready: int
    latest: int
    fixed_apheresis: int | None
    fixed_device: int | None
    fixed_start: int | None
    apheresis_days: IntArray
    sites: tuple[SiteOption, ...]
    infusion_lo: int
    costs: IntArray
    unscheduled_cost: int

    @property
    def fixed_release(self) -> int | None:
        if self.fixed_start is None:
            return None
        so = self.sites[0]
        return self.fixed_start + so.manufacturing_days + so.qc_days

    @property
    def schedulable(self) -> bool:
        return self.infusion_lo < len(self.costs)


class Network:
    """Day-indexed view of an instance: calendars, capacities left and episode options."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.horizon = h = instance.horizon_days
        self.site_ids = [s.id for s in instance.sites]
        self.center_ids = [c.id for c in instance.centers]
        site_ix = {s: k for k, s in enumerate(self.site_ids)}
        center_ix = {c: k for k, c in enumerate(self.center_ids)}
        self.devices = [d for s in instance.sites for d in s.devices]
        self.device_ix = {d: k for k, d in enumerate(self.devices)}
        self.device_site = np.array(
            [site_ix[instance.site_of_device[d]] for d in self.devices], dtype=np.int64
        )
        w0 = instance.start_date.weekday()
        # _ship_offset[w]: days from a day with weekday w to the next courier weekday.
        self._w0 = w0
        self._ship_offset = [
            next(k for k in range(7) if (w + k) % 7 in instance.shipping_weekdays) for w in range(7)
        ]
        self.is_ship_day = np.array([self.next_ship(t) == t for t in range(h)], dtype=np.bool_)
        self.device_free: BoolArray = np.ones((len(self.devices), h), dtype=np.bool_)
        for out in instance.device_outages:
            lo, hi = max(0, instance.day(out.first_date)), min(h - 1, instance.day(out.last_date))
            if lo <= hi:
                self.device_free[self.device_ix[out.device], lo : hi + 1] = False
        self.chairs: IntArray = np.array(
            [[c.apheresis_per_day] * h for c in instance.centers], dtype=np.int64
        ).reshape(len(instance.centers), h)
        self.beds: IntArray = np.array(
            [[c.infusions_per_day] * h for c in instance.centers], dtype=np.int64
        ).reshape(len(instance.centers), h)
        self.qc: IntArray = np.array(
            [[s.qc_releases_per_day] * h for s in instance.sites], dtype=np.int64
        ).reshape(len(instance.sites), h)
        for o in instance.orders:
            if o.fixed_apheresis is not None and 0 <= instance.day(o.fixed_apheresis) < h:
                self.chairs[center_ix[o.center], instance.day(o.fixed_apheresis)] -= 1
            fm = o.fixed_manufacturing
            if fm is not None:
                p = instance.product_by_id[o.product]
                d, m = self.device_ix[fm.device], instance.day(fm.start)
                self.device_free[d, max(0, m) : max(0, m + p.manufacturing_days)] = False
                r = m + p.manufacturing_days + p.qc_days
                if 0 <= r < h:
                    self.qc[self.device_site[d], r] -= 1
        self.episodes = [self._options(o, site_ix, center_ix) for o in instance.orders]
        self.shortest_run = min((p.manufacturing_days for p in instance.products), default=1)

    def next_ship(self, t: int) -> int:
        """First courier day on or after day ``t`` (``t`` may be negative)."""
        return t + self._ship_offset[(self._w0 + t) % 7]

    def earliest_infusion(self, so: SiteOption, start: int) -> int:
        return self.next_ship(start + so.manufacturing_days + so.qc_days) + so.transit_out

    def _options(
        self, o: Order, site_ix: dict[str, int], center_ix: dict[str, int]
    ) -> EpisodeOptions:
        inst, h = self.instance, self.horizon
        c = inst.center_by_id[o.center]
        p = inst.product_by_id[o.product]
        days = np.arange(h, dtype=np.int64)
        ready, latest = inst.day(o.ready_date), inst.day(o.latest_infusion_date)
        costs = o.priority * (days - ready) + inst.weights.late_per_day * o.priority * np.maximum(
            0, days - latest
        )
        fixed_a = inst.day(o.fixed_apheresis) if o.fixed_apheresis is not None else None
        fm = o.fixed_manufacturing
        candidate_sites = (inst.site_of_device[fm.device],) if fm is not None else p.sites
        options: list[SiteOption] = []
        for s in candidate_sites:
            so = SiteOption(
                site_ix[s],
                c.transit_days[s],
                c.return_transit_days[s],
                p.manufacturing_days,
                p.qc_days,
                0,
                -1,
            )
            hi = h - 1 - (p.manufacturing_days + p.qc_days + so.transit_out)
            while hi >= 0 and self.earliest_infusion(so, hi) > h - 1:
                hi -= 1
            options.append(
                SiteOption(
                    so.site,
                    so.transit_in,
                    so.transit_out,
                    so.manufacturing_days,
                    so.qc_days,
                    0,
                    hi,
                )
            )
        ci = center_ix[o.center]
        if fixed_a is not None:
            a_days = np.array([fixed_a], dtype=np.int64)
        else:
            a_lo = max(0, inst.day(o.earliest_apheresis))
            a_hi = max((so.start_hi - so.transit_in for so in options), default=-1)
            window = np.arange(a_lo, min(a_hi, h - 1) + 1, dtype=np.int64)
            keep = self.is_ship_day[window] & (self.chairs[ci, window] > 0) if len(window) else []
            a_days = window[keep] if len(window) else window
        sites: list[SiteOption] = []
        infusion_lo = h
        if fm is not None:
            m = inst.day(fm.start)
            so = options[0]
            infusion_lo = max(0, self.earliest_infusion(so, m))
            sites.append(
                SiteOption(
                    so.site, so.transit_in, so.transit_out, so.manufacturing_days, so.qc_days, m, m
                )
            )
        elif len(a_days):
            for so in options:
                lo = max(0, int(a_days[0]) + so.transit_in)
                if lo <= so.start_hi:
                    sites.append(
                        SiteOption(
                            so.site,
                            so.transit_in,
                            so.transit_out,
                            so.manufacturing_days,
                            so.qc_days,
                            lo,
                            so.start_hi,
                        )
                    )
                    infusion_lo = min(infusion_lo, self.earliest_infusion(so, lo))
        return EpisodeOptions(
            order=o,
            center=ci,
            ready=ready,
            latest=latest,
            fixed_apheresis=fixed_a,
            fixed_device=self.device_ix[fm.device] if fm is not None else None,
            fixed_start=inst.day(fm.start) if fm is not None else None,
            apheresis_days=a_days,
            sites=tuple(sites),
            infusion_lo=infusion_lo if sites else h,
            costs=costs.astype(np.int64),
            unscheduled_cost=unscheduled_cost(o, inst.weights),
        )

    def load(self) -> float:
        """Device-days asked by episodes still to make / free device-days usable for them."""
        todo = [e for e in self.episodes if e.schedulable and e.fixed_start is None]
        asked = sum(e.sites[0].manufacturing_days for e in todo)
        last = max((so.start_hi + so.manufacturing_days for e in todo for so in e.sites), default=0)
        return asked / max(1, int(self.device_free[:, :last].sum()))

    def trivial_bound(self) -> int:
        """Each episode alone on the network: earliest infusion or unscheduled (a valid bound)."""
        total = 0
        for e in self.episodes:
            best = e.unscheduled_cost
            if e.schedulable:
                best = min(best, int(e.costs[e.infusion_lo :].min()))
            total += best
        return total
