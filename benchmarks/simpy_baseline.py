"""A plain SimPy model of the same network: the benchmark baseline and an independent cross-check.

One SimPy process per patient walks the pathway described in `engine.py` and waits on it the
idiomatic SimPy way. Devices are a `PriorityResource` per site, and a patient reneges with
`request | timeout(time to dropout)`. Beds are a `Resource` per center, and every delay is a
`timeout`. Only the day-capacity calendars (chairs, QC releases) are shared with the fast engine,
because SimPy has no whole-day booking primitive. The patients come from the same pre-drawn
`PatientTable`, so a difference between the two engines can only come from how they process events.
Policies: `fcfs` and `priority`. The rolling-horizon planners need the fast engine's snapshot hook.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from cartflow.errors import InvalidInput
from cartflow.simulation.calendar import DayCalendar
from cartflow.simulation.network import Network, PatientTable, draw_patients
from cartflow.simulation.tally import BED_WAIT, BOOKED, PRODUCTION, WAITING, WORKUP, RawResult


def run_replication_simpy(
    net: Network, policy: str, seed: int | np.random.SeedSequence
) -> RawResult:
    if policy not in ("fcfs", "priority"):
        raise InvalidInput(f"the SimPy baseline runs fcfs or priority, not {policy!r}")
    return _Model(net, policy, draw_patients(net, np.random.default_rng(seed))).run()


class _Lists:
    """The patient table as Python lists, attempt arrays flattened (row * attempts + attempt)."""

    def __init__(self, tab: PatientTable) -> None:
        self.attempts = tab.attempts
        self.stream: list[int] = tab.stream.tolist()
        self.eligible: list[bool] = tab.eligible.tolist()
        self.workup: list[float] = tab.workup.tolist()
        self.drop_delay: list[float] = tab.drop_delay.tolist()
        self.bridged: list[bool] = tab.bridged.tolist()
        self.device_days: list[float] = tab.device_days.ravel().tolist()
        self.qc_days: list[float] = tab.qc_days.ravel().tolist()
        self.failed: list[bool] = tab.failed.ravel().tolist()
        self.oos: list[bool] = tab.oos.ravel().tolist()


class _Model:
    def __init__(self, net: Network, policy: str, tab: PatientTable) -> None:
        self.net, self.by_rank = net, policy == "priority"
        self.tab = _Lists(tab)
        self.arrival: list[float] = tab.arrival.tolist()
        self.env = simpy.Environment()
        self.devices = [simpy.PriorityResource(self.env, capacity=c) for c in net.site_devices]
        self.beds = [
            simpy.Resource(self.env, capacity=b if b else 1 << 30) for b in net.center_beds
        ]
        self.chairs = [DayCalendar(c) if c else None for c in net.center_chairs]
        self.releases = [DayCalendar(r) if r else None for r in net.site_releases]
        self.res = RawResult.empty(net)
        # pid -> (stage, drop time, indication) for every patient not yet resolved
        self.open: dict[int, tuple[int, float, int]] = {}

    def overlap(self, a: float, b: float) -> float:
        lo, hi = max(a, self.net.warmup), min(b, self.net.horizon)
        return max(0.0, hi - lo)

    def run(self) -> RawResult:
        self.env.process(self.source())
        self.env.run(until=self.net.horizon)
        for stage, drop_at, indication in self.open.values():
            if drop_at <= self.net.horizon:
                self.dropped(drop_at, stage, indication)
            else:
                self.res.in_system += 1
        return self.res

    def source(self) -> Generator[simpy.Event, Any, None]:
        tab, env = self.tab, self.env
        for i, t in enumerate(self.arrival):
            yield env.timeout(t - env.now)
            self.res.referred += 1
            if not tab.eligible[i]:
                self.res.ineligible += 1
                continue
            env.process(self.patient(i))

    def dropped(self, when: float, stage: int, indication: int) -> None:
        self.res.dropped += 1
        if self.net.warmup <= when <= self.net.horizon:
            self.res.drop_stage.append(stage)
            self.res.drop_indication.append(indication)

    def lose(self, pid: int, when: float, stage: int, indication: int) -> None:
        del self.open[pid]
        self.dropped(when, stage, indication)

    def patient(self, i: int) -> Generator[simpy.Event, Any, None]:
        net, tab, env, res = self.net, self.tab, self.env, self.res
        k = tab.stream[i]
        ind, prod, center = net.stream_indication[k], net.stream_product[k], net.stream_center[k]
        site = net.product_site[prod]
        drop_at = env.now + tab.drop_delay[i]
        self.open[i] = (WORKUP, drop_at, ind)
        yield env.timeout(tab.workup[i])
        if drop_at <= env.now:
            return self.lose(i, drop_at, WORKUP, ind)
        joined, attempt, first_apheresis = env.now, 0, -1.0
        while True:
            self.open[i] = (WAITING, drop_at, ind)
            rank = 0 if attempt else (net.indication_priority[ind] if self.by_rank else 1)
            req = self.devices[site].request(priority=rank)
            got = yield req | env.timeout(max(0.0, drop_at - env.now))
            if req not in got:
                req.cancel()
                return self.lose(i, drop_at, WAITING, ind)
            now = env.now
            if attempt == 0 and now >= net.warmup:
                res.waits[ind].append(now - joined)
            start, apheresis, chair_day, cal = now, -1.0, -1, None
            if attempt == 0 or net.product_reapheresis[prod]:
                cal = self.chairs[center]
                if cal is None:
                    apheresis = now + net.center_lead[center]
                else:
                    chair_day = cal.book(int(now) + net.center_lead[center])
                    apheresis = max(float(chair_day), now)
                    if net.warmup <= chair_day < net.horizon:
                        res.chair_days[center] += 1.0
                start = apheresis + net.transit[center][site]
                if attempt == 0:
                    first_apheresis = apheresis
                    hr = net.indication_bridge_hr[ind]
                    if tab.bridged[i] and drop_at > apheresis:
                        drop_at = apheresis + (drop_at - apheresis) / hr if hr > 0 else np.inf
            end = start + tab.device_days[i * tab.attempts + attempt]
            res.device_days[site] += self.overlap(now, end)
            if drop_at < apheresis:
                self.open[i] = (BOOKED, drop_at, ind)
                yield env.timeout(drop_at - now)
                res.device_days[site] -= self.overlap(drop_at, end)
                if cal is not None and chair_day >= 0:
                    cal.cancel(chair_day)
                    if net.warmup <= chair_day < net.horizon:
                        res.chair_days[center] -= 1.0
                self.devices[site].release(req)
                return self.lose(i, drop_at, BOOKED, ind)
            self.open[i] = (PRODUCTION, drop_at, ind)
            j = i * tab.attempts + attempt
            # The release day is reserved at booking, for runs that will have a product to release.
            release = end
            if not tab.failed[j] and drop_at > end:
                release = end + tab.qc_days[j]
                rel = self.releases[site]
                if rel is not None:
                    release = max(float(rel.book(int(release))), release)
            yield env.timeout(end - now)
            self.devices[site].release(req)
            if env.now >= net.warmup:
                res.runs += 1
            if drop_at <= env.now:
                return self.lose(i, drop_at, PRODUCTION, ind)
            last = attempt + 1 >= net.product_attempts[prod]
            if tab.failed[j]:
                if last:
                    del self.open[i]
                    res.failed += 1
                    if env.now >= net.warmup:
                        res.window_failed += 1
                    return None
                attempt += 1
                continue
            yield env.timeout(release - env.now)
            if tab.oos[j] and net.product_oos_remake[prod] and not last:
                if drop_at <= env.now:
                    return self.lose(i, drop_at, PRODUCTION, ind)
                attempt += 1
                continue
            if net.warmup <= env.now <= net.horizon:
                res.released += 1
            break
        yield env.timeout(net.transit[center][site])
        if drop_at <= env.now:
            return self.lose(i, drop_at, PRODUCTION, ind)
        self.open[i] = (BED_WAIT, drop_at, ind)
        bed = self.beds[center].request()
        got = yield bed | env.timeout(max(0.0, drop_at - env.now))
        if bed not in got:
            bed.cancel()
            return self.lose(i, drop_at, BED_WAIT, ind)
        del self.open[i]
        now = env.now
        infusion = now + net.product_ld[prod]
        end = infusion + net.product_stay[prod]
        res.bed_days[center] += self.overlap(now, end)
        if infusion <= net.horizon:
            res.infused += 1
            if infusion >= net.warmup:
                res.v2v.append(infusion - first_apheresis)
                res.infused_by_center[center] += 1
        else:
            res.in_system += 1
        yield env.timeout(end - now)
        self.beds[center].release(bed)
        return None
