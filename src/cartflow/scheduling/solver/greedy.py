"""Greedy dispatcher: the baseline, the fallback and the exact method's starting point.

Episodes are placed one at a time, highest clinical priority first, then the most urgent (earliest
latest-infusion date), then the earliest ready; each takes the option that infuses it soonest
(serial schedule generation: a later episode may fill a gap before an earlier one). Work already
started goes first, then, when re-planning, the previous bookings that still fit, unchanged.
Hand-written because it is a few dozen lines of bookkeeping on the ``Network`` tables; no library
offers this dispatch rule with these side capacities.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cartflow.scheduling.solver.model import Assignment, Plan
from cartflow.scheduling.solver.network import EpisodeOptions, IntArray, Network, SiteOption
from cartflow.scheduling.solver.objective import objective_of


@dataclass(frozen=True)
class Booking:
    """One episode's choice in day indices (device is an index into ``Network.devices``)."""

    episode: int
    apheresis: int
    site: int
    device: int
    start: int
    infusion: int


def dispatch_key(e: EpisodeOptions) -> tuple[int, int, int, str]:
    """Priority first, then urgency (latest useful infusion), then readiness, then id."""
    return (-e.order.priority, e.latest, e.ready, e.order.id)


class _State:
    def __init__(self, net: Network) -> None:
        self.net = net
        self.free = net.device_free.copy()
        self.chairs = net.chairs.copy()
        self.qc = net.qc.copy()
        self.beds = net.beds.copy()
        self.run = np.zeros((len(net.devices), net.horizon + 1), dtype=np.int64)
        for d in range(len(net.devices)):
            self._refresh(d)

    def _refresh(self, d: int) -> None:
        # run[d, t]: consecutive free days on device d from day t on (the next busy day - t).
        h = self.net.horizon
        days = np.arange(h, dtype=np.int64)
        busy = np.where(self.free[d], h, days)
        self.run[d, :h] = np.minimum.accumulate(busy[::-1])[::-1] - days

    def first_bed(self, center: int, day: int) -> int | None:
        if day >= self.net.horizon:
            return None
        open_days = np.flatnonzero(self.beds[center, max(0, day) :] > 0)
        return int(open_days[0]) + max(0, day) if open_days.size else None

    def book(self, b: Booking, e: EpisodeOptions, so: SiteOption) -> None:
        if e.fixed_start is None:
            if e.fixed_apheresis is None:
                self.chairs[e.center, b.apheresis] -= 1
            self.free[b.device, b.start : b.start + so.manufacturing_days] = False
            self._refresh(b.device)
            self.qc[so.site, b.start + so.manufacturing_days + so.qc_days] -= 1
        self.beds[e.center, b.infusion] -= 1

    def fits(self, b: Booking, e: EpisodeOptions, so: SiteOption) -> bool:
        """Whether a previous booking can be kept as it is."""
        h = self.net.horizon
        if not (0 <= b.infusion < h and self.beds[e.center, b.infusion] > 0):
            return False
        if b.infusion < self.net.earliest_infusion(so, b.start):
            return False
        if e.fixed_start is not None:
            return b.start == e.fixed_start and b.device == e.fixed_device
        if not (so.start_lo <= b.start <= so.start_hi and b.start >= b.apheresis + so.transit_in):
            return False
        if self.net.device_site[b.device] != so.site or self.run[b.device, b.start] < (
            so.manufacturing_days
        ):
            return False
        if self.qc[so.site, b.start + so.manufacturing_days + so.qc_days] <= 0:
            return False
        if e.fixed_apheresis is not None:
            return b.apheresis == e.fixed_apheresis
        return b.apheresis in e.apheresis_days and self.chairs[e.center, b.apheresis] > 0

    def _device(self, cands: IntArray, m: int, length: int) -> int:
        """The device that leaves the least unusable idle time around the run.

        An idle stretch shorter than the shortest run (before or after) can never be used again;
        prefer devices where the run closes such a gap, then the tightest fit.
        """
        shortest = self.net.shortest_run
        lo = max(0, m - shortest)
        # Free days just before m on each candidate (up to ``shortest``): the trailing run of
        # free days in [lo, m).
        blocked = ~self.free[cands, lo:m][:, ::-1]
        before = np.zeros(len(cands), dtype=np.int64)
        if m > lo:
            before = np.where(blocked.any(axis=1), blocked.argmax(axis=1), m - lo)
        run = self.run[cands, m]
        after = run - length
        lost = np.where((before > 0) & (before < shortest), before, 0)
        lost += np.where((after > 0) & (after < shortest), after, 0)
        return int(cands[np.lexsort((cands, run, lost))[0]])

    CHUNK = 32

    def _first_start(self, devs: IntArray, so: SiteOption, lo: int) -> tuple[int, IntArray] | None:
        """The first start day from ``lo`` with a free device and a QC release, and the devices
        free for the whole run then (searched a few weeks at a time: most fit early)."""
        length, release = so.manufacturing_days, so.manufacturing_days + so.qc_days
        for first in range(lo, so.start_hi + 1, self.CHUNK):
            starts = np.arange(first, min(so.start_hi, first + self.CHUNK - 1) + 1)
            fits = self.run[np.ix_(devs, starts)] >= length
            ok = np.flatnonzero(fits.any(axis=0) & (self.qc[so.site, starts + release] > 0))
            if ok.size:
                return int(starts[ok[0]]), devs[fits[:, ok[0]]]
        return None

    def place(self, k: int, e: EpisodeOptions) -> Booking | None:
        """The booking that infuses episode ``k`` soonest, or None when nothing fits."""
        if e.fixed_start is not None:
            so = e.sites[0]
            day = self.first_bed(e.center, self.net.earliest_infusion(so, e.fixed_start))
            if day is None or e.fixed_device is None:
                return None
            return Booking(k, int(e.apheresis_days[0]), so.site, e.fixed_device, e.fixed_start, day)
        a_days: IntArray = e.apheresis_days
        if e.fixed_apheresis is None:
            a_days = a_days[self.chairs[e.center, a_days] > 0]
        if a_days.size == 0:
            return None
        best: Booking | None = None
        for so in e.sites:
            lo = max(so.start_lo, int(a_days[0]) + so.transit_in)
            if lo > so.start_hi:
                continue
            devs = np.flatnonzero(self.net.device_site == so.site)
            found = self._first_start(devs, so, lo)
            if found is None:
                continue
            m, fitting = found
            earliest = self.net.earliest_infusion(so, m)
            if best is not None and earliest >= best.infusion:
                continue
            day = self.first_bed(e.center, earliest)
            if day is None:
                continue
            if best is None or day < best.infusion:
                dev = self._device(fitting, m, so.manufacturing_days)
                # Book the chair as late as the start allows: fresh material, and earlier
                # chairs stay open for episodes that are ready sooner.
                a = int(a_days[a_days <= m - so.transit_in][-1])
                best = Booking(k, a, so.site, dev, m, day)
        return best


def to_plan(
    net: Network,
    bookings: list[Booking],
    *,
    method: str,
    status: str,
    lower_bound: int | None,
    started: float,
    seed: int | None = None,
    message: str = "",
) -> Plan:
    """Turn day-index bookings into a dated Plan with its objective."""
    inst = net.instance
    assignments = []
    for b in bookings:
        e = net.episodes[b.episode]
        so = next(s for s in e.sites if s.site == b.site)
        assignments.append(
            Assignment(
                order=e.order.id,
                apheresis_date=inst.date_of(b.apheresis),
                site=net.site_ids[b.site],
                device=net.devices[b.device],
                manufacturing_start=inst.date_of(b.start),
                release_date=inst.date_of(b.start + so.manufacturing_days + so.qc_days),
                infusion_date=inst.date_of(b.infusion),
            )
        )
    placed = {a.order for a in assignments}
    unscheduled = tuple(e.order.id for e in net.episodes if e.order.id not in placed)
    objective = objective_of(inst, [(a.order, a.infusion_date) for a in assignments], unscheduled)
    return Plan(
        method=method,
        status=status,
        objective=objective,
        lower_bound=lower_bound,
        assignments=tuple(sorted(assignments, key=lambda a: a.order)),
        unscheduled=tuple(sorted(unscheduled)),
        seconds=time.perf_counter() - started,
        seed=seed,
        message=message,
    )


REPAIR_ROUNDS = 8


def plan_cost(net: Network, bookings: list[Booking]) -> int:
    placed = {b.episode: b.infusion for b in bookings}
    return sum(
        int(e.costs[placed[k]]) if k in placed else e.unscheduled_cost
        for k, e in enumerate(net.episodes)
    )


def dispatch(net: Network, todo: list[int], keep: Mapping[str, Assignment] | None) -> list[Booking]:
    """One pass: started work, then the ``keep`` bookings that still fit, then ``todo`` in order.

    Each episode of ``todo`` takes the option that infuses it soonest (``_State.place``).
    """
    state = _State(net)
    inst = net.instance
    bookings: list[Booking] = []
    for k, e in enumerate(net.episodes):
        if e.fixed_start is not None:
            b = state.place(k, e)
            if b is not None:
                state.book(b, e, e.sites[0])
                bookings.append(b)
    retry: list[int] = []
    kept = [k for k in todo if keep and net.episodes[k].order.id in keep]
    for k in sorted(kept, key=lambda k: keep[net.episodes[k].order.id].manufacturing_start):  # type: ignore[index]
        e = net.episodes[k]
        assert keep is not None
        prev = keep[e.order.id]
        so = next((s for s in e.sites if net.site_ids[s.site] == prev.site), None)
        if so is not None and prev.device in net.device_ix:
            b = Booking(
                k,
                inst.day(prev.apheresis_date),
                so.site,
                net.device_ix[prev.device],
                inst.day(prev.manufacturing_start),
                inst.day(prev.infusion_date),
            )
            if state.fits(b, e, so):
                state.book(b, e, so)
                bookings.append(b)
                continue
        retry.append(k)
    rest = [k for k in todo if not (keep and net.episodes[k].order.id in keep)]
    for k in sorted(retry, key=lambda k: dispatch_key(net.episodes[k])) + rest:
        e = net.episodes[k]
        b = state.place(k, e)
        if b is not None:
            state.book(b, e, next(s for s in e.sites if s.site == b.site))
            bookings.append(b)
    return bookings


def greedy_bookings(
    net: Network,
    keep: Mapping[str, Assignment] | None = None,
    order: list[int] | None = None,
) -> list[Booking]:
    """Dispatch by priority then urgency, then repair: episodes left out or late go first.

    Previous bookings in ``keep`` are placed first, unchanged, wherever they still fit. ``order``
    replaces the priority order (the LP-guided dispatch). The repair rounds (at most
    REPAIR_ROUNDS, each kept only if it lowers the objective) stop the dispatcher starving
    low-priority episodes when a slight shift of others would serve everyone in time; they are
    deterministic.
    """
    if order is None:
        order = sorted(dispatchable(net), key=lambda k: dispatch_key(net.episodes[k]))
    best = dispatch(net, order, keep)
    best_cost = plan_cost(net, best)
    for _ in range(REPAIR_ROUNDS):
        infusion = {b.episode: b.infusion for b in best}
        # Episodes left out or infused after their latest useful date go first next round.
        behind = [k for k in order if infusion.get(k, net.horizon) > net.episodes[k].latest]
        if not behind:
            break
        first = set(behind)
        order = behind + [k for k in order if k not in first]
        trial = dispatch(net, order, keep)
        cost = plan_cost(net, trial)
        if cost < best_cost:
            best, best_cost = trial, cost
    return best


def dispatchable(net: Network) -> list[int]:
    """Episodes the dispatcher orders (not started, able to fit in the horizon)."""
    return [k for k, e in enumerate(net.episodes) if e.fixed_start is None and e.schedulable]
