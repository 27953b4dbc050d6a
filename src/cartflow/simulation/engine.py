"""The fast discrete-event engine: one replication of the network on a heapq event loop.

Pathway of a referral (times in days):
1. Poisson referral, then eligibility and work-up.
2. Waiting list for a manufacturing slot at the product's site.
3. Slot booked: a device is reserved.
4. Apheresis on the first day with a free chair at the referring center, no earlier than
   `apheresis_lead_days` after booking.
5. Transit to the site and the device run.
6. QC, then release on the first day, on or after QC ends, with a free release slot. That day
   is reserved when the slot is booked.
7. A failure (found at the end of the run) or an out-of-specification product (found at release)
   sends the patient back to the front of the list for another attempt.
8. Transit back and a bed for lymphodepletion. Infusion is `lymphodepletion_days` later, and
   the bed is held for `stay_days` after infusion.

Dropout: each patient carries a unit-exponential clock. With hazard h, the patient progresses or
dies when the accumulated hazard reaches the clock, at any time before lymphodepletion starts.
For bridged patients, the hazard is multiplied by the bridging hazard ratio from first apheresis
on. A device stays reserved from booking to the end of its run. A patient lost before apheresis
frees it at once. For a patient lost later, the run finishes and the product is made but not
infused. A run whose patient is lost before it ends reserves no release day.

Invariants checked by the tests: referred = ineligible + infused + dropped + failed + in system.
Utilisations lie in [0, 1]. The same seed gives the same result.

Why a hand-written loop rather than SimPy: the issue asks for ten times the speed of a plain SimPy
model of the same network (`benchmarks/simpy_baseline.py`). This loop gets there in four ways:
- All random numbers are drawn up front with numpy.
- Eligibility and work-up are settled as vectors (`tally.resolve_workup`).
- Everything from booking to the product's arrival back at the center is computed when the slot
  is booked, so a patient usually costs two events: joining the list and arriving for a bed.
- Devices and beds are per-site and per-center heaps of release times. A wake-up event is
  scheduled only when someone is waiting. Patients who drop out while waiting are discarded
  when the queue reaches them, and are counted at their clock time.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np

from cartflow.simulation.calendar import DayCalendar
from cartflow.simulation.network import Network, PatientTable, draw_patients
from cartflow.simulation.policies import Patient, PlanJob, PlanningSnapshot, Policy, SlotQueue
from cartflow.simulation.tally import (
    BED_WAIT,
    BOOKED,
    PRODUCTION,
    WAITING,
    RawResult,
    resolve_workup,
)

DEVICE_CHECK, RUN_FAILED, OOS_REWORK, CHAIR_CANCEL, REPLAN = range(5)
TREATED, DROPPED, FAILED = 10, 11, 12  # states after the dropout clock stops
INF = math.inf
UNLIMITED = 1 << 62


def run_replication(net: Network, policy: Policy, seed: int | np.random.SeedSequence) -> RawResult:
    return simulate_patients(net, policy, draw_patients(net, np.random.default_rng(seed)))


def simulate_patients(net: Network, policy: Policy, tab: PatientTable) -> RawResult:
    horizon, w0 = net.horizon, net.warmup
    res = RawResult.empty(net)
    joins = resolve_workup(net, tab, res)
    heap: list[tuple[float, int, int, Patient]] = []
    hpush, hpop = heapq.heappush, heapq.heappop
    seq = 0
    queues: list[SlotQueue] = [policy.new_queue() for _ in net.site_ids]
    dev_cap = net.site_devices
    dev_ends: list[list[float]] = [[] for _ in net.site_ids]
    dev_check = [INF] * len(net.site_ids)
    chairs = [DayCalendar(c) if c else None for c in net.center_chairs]
    releases = [DayCalendar(r) if r else None for r in net.site_releases]
    bed_cap = [b if b else UNLIMITED for b in net.center_beds]
    bed_ends: list[list[float]] = [[] for _ in net.center_ids]
    # Products on their way to each center: (arrival time, tie-break, patient).
    arrivals: list[list[tuple[float, int, Patient]]] = [[] for _ in net.center_ids]
    site_token = [Patient(-1, 0, 0, 0, s, 0, 0.0) for s in range(len(net.site_ids))]
    lead, transit = net.center_lead, net.transit
    p_site, p_ld, p_stay = net.product_site, net.product_ld, net.product_stay
    p_attempts, p_reaph = net.product_attempts, net.product_reapheresis
    p_remake, bridge_hr = net.product_oos_remake, net.indication_bridge_hr
    att = tab.attempts
    t_dev, t_qc = tab.device_days.ravel().tolist(), tab.qc_days.ravel().tolist()
    t_fail, t_oos = tab.failed.ravel().tolist(), tab.oos.ravel().tolist()
    bridged = tab.bridged.tolist()
    device_days, chair_days, bed_days = res.device_days, res.chair_days, res.bed_days
    waits, v2v, inf_center = res.waits, res.v2v, res.infused_by_center
    drop_stage, drop_ind = res.drop_stage, res.drop_indication
    runs = released = infused = 0

    def overlap(a: float, b: float) -> float:
        lo = a if a > w0 else w0
        hi = b if b < horizon else horizon
        return hi - lo if hi > lo else 0.0

    def drop(p: Patient, stage: int) -> None:
        p.state = DROPPED
        res.dropped += 1
        if w0 <= p.drop_at <= horizon:
            drop_stage.append(stage)
            drop_ind.append(p.indication)

    def book(p: Patient, now: float) -> None:
        """Reserve a device and settle the pathway up to the product's arrival at the center."""
        nonlocal seq, runs, released
        s = p.site
        k = p.attempt
        if k == 0 and now >= w0:
            waits[p.indication].append(now - p.joined)
        apheresis = -1.0
        start = now
        if k == 0 or p_reaph[p.product]:
            c = p.center
            cal = chairs[c]
            if cal is None:
                apheresis = now + lead[c]
            else:
                day = cal.book(int(now) + lead[c])
                apheresis = day if day > now else now
                p.chair_day = day
                if w0 <= day < horizon:
                    chair_days[c] += 1.0
            start = apheresis + transit[c][s]
            if k == 0:
                p.first_apheresis = apheresis
                if bridged[p.pid] and p.drop_at > apheresis:
                    hr = bridge_hr[p.indication]
                    p.drop_at = apheresis + (p.drop_at - apheresis) / hr if hr > 0 else INF
        drop_at = p.drop_at
        if drop_at < apheresis:  # lost before collection: the device is free again then
            p.state = BOOKED
            hpush(dev_ends[s], drop_at)
            device_days[s] += overlap(now, drop_at)
            if p.chair_day >= 0 and chairs[p.center] is not None:
                seq += 1
                hpush(heap, (drop_at, seq, CHAIR_CANCEL, p))
            return
        i = p.pid * att + k
        end = start + t_dev[i]
        hpush(dev_ends[s], end)
        if end > w0 and now < horizon:
            device_days[s] += (end if end < horizon else horizon) - (now if now > w0 else w0)
        if w0 <= end <= horizon:
            runs += 1
        p.state = PRODUCTION
        if drop_at <= end:  # lost during the run: counted at its clock time at the end
            return
        seq += 1
        if t_fail[i]:
            hpush(heap, (end, seq, RUN_FAILED, p))
            return
        ready = end + t_qc[i]
        cal = releases[s]
        if cal is None:
            release = ready
        else:
            day = cal.book(int(ready))
            release = day if day > ready else ready
        if t_oos[i] and p_remake[p.product] and k + 1 < p_attempts[p.product]:
            hpush(heap, (release, seq, OOS_REWORK, p))
            return
        if w0 <= release <= horizon:
            released += 1
        arrivals[p.center].append((release + transit[p.center][s], seq, p))

    def serve_site(s: int, now: float) -> None:
        """Free finished devices, give them to the list in policy order, wake up at the next end."""
        nonlocal seq
        ends, cap, queue = dev_ends[s], dev_cap[s], queues[s]
        while ends and ends[0] <= now:
            hpop(ends)
        while queue and len(ends) < cap:
            p = queue.pop_next()
            if p.drop_at <= now:
                drop(p, WAITING)
            else:
                book(p, now)
        if queue and ends[0] < dev_check[s]:
            dev_check[s] = ends[0]
            seq += 1
            hpush(heap, (ends[0], seq, DEVICE_CHECK, site_token[s]))

    def start_ld(p: Patient, now: float) -> None:
        nonlocal infused
        c = p.center
        p.state = TREATED
        infusion = now + p_ld[p.product]
        end = infusion + p_stay[p.product]
        if bed_cap[c] != UNLIMITED:
            hpush(bed_ends[c], end)
            if end > w0 and now < horizon:
                bed_days[c] += (end if end < horizon else horizon) - (now if now > w0 else w0)
        if infusion <= horizon:
            infused += 1
            if infusion >= w0:
                v2v.append(infusion - p.first_apheresis)
                inf_center[c] += 1
        else:
            res.in_system += 1

    def rejoin(p: Patient, now: float) -> None:
        p.attempt += 1
        p.state = WAITING
        queues[p.site].push_rework(p)
        serve_site(p.site, now)

    if policy.replan_every_days is not None:
        seq += 1
        hpush(heap, (policy.replan_every_days, seq, REPLAN, site_token[0]))

    s_center, s_ind, s_prod = net.stream_center, net.stream_indication, net.stream_product
    priority, hazard = net.indication_priority, net.indication_hazard
    join_time, join_drop, join_row, join_stream = joins.time, joins.drop_at, joins.row, joins.stream
    n_join = len(join_time)
    ji = 0
    next_join = join_time[0] if n_join else INF
    patients: list[Patient] = []
    while True:
        if heap and heap[0][0] <= next_join:
            now, _, kind, p = hpop(heap)
            if now > horizon:
                break
        elif ji < n_join:
            now = next_join
            k = join_stream[ji]
            ind, prod = s_ind[k], s_prod[k]
            site = p_site[prod]
            p = Patient(join_row[ji], s_center[k], ind, prod, site, priority[ind], hazard[ind])
            p.drop_at = join_drop[ji]
            p.joined = now
            p.state = WAITING
            patients.append(p)
            ji += 1
            next_join = join_time[ji] if ji < n_join else INF
            queue = queues[site]
            if not queue:
                ends = dev_ends[site]
                while ends and ends[0] <= now:
                    hpop(ends)
                if len(ends) < dev_cap[site]:
                    book(p, now)
                    continue
            queue.push(p)
            serve_site(site, now)
            continue
        else:
            break

        if kind == DEVICE_CHECK:
            if now >= dev_check[p.site]:
                dev_check[p.site] = INF
            serve_site(p.site, now)
        elif kind == RUN_FAILED:
            if p.attempt + 1 < p_attempts[p.product]:
                rejoin(p, now)
            else:
                p.state = FAILED
                res.failed += 1
                if now >= w0:
                    res.window_failed += 1
        elif kind == OOS_REWORK:
            if p.drop_at <= now:
                drop(p, PRODUCTION)
            else:
                rejoin(p, now)
        elif kind == CHAIR_CANCEL:
            cal = chairs[p.center]
            if cal is not None:
                cal.cancel(p.chair_day)
            if w0 <= p.chair_day < horizon:
                chair_days[p.center] -= 1.0
        elif kind == REPLAN:
            _replan(policy, queues, dev_ends, dev_cap, now, net.product_mean_days)
            seq += 1
            hpush(heap, (now + (policy.replan_every_days or INF), seq, REPLAN, p))

    for c, todo in enumerate(arrivals):
        todo.sort()  # the order in which products reach the center (ties: order of booking)
        _admit(todo, bed_ends[c], bed_cap[c], horizon, start_ld, drop)
    res.runs, res.released, res.infused = runs, released, infused
    for p in patients:
        if p.state <= BED_WAIT:
            if p.drop_at <= horizon:
                drop(p, p.state)
            else:
                res.in_system += 1
    return res


def _admit(
    todo: list[tuple[float, int, Patient]],
    ends: list[float],
    cap: int,
    horizon: float,
    start_ld: Callable[[Patient, float], None],
    drop: Callable[[Patient, int], None],
) -> None:
    """Beds of one center, first come first served, after the device stage has run.

    Beds feed nothing back to devices, chairs or QC, so admissions can be settled after the
    event loop, in arrival order. A patient takes the earliest free bed (`ends` holds the
    occupied beds' release times) unless the dropout clock runs out first. Patients who are
    still on their way, or still waiting, at the horizon are left for the final count.
    """
    for arrival, _, p in todo:
        if arrival > horizon:
            break
        if p.drop_at <= arrival:
            drop(p, PRODUCTION)
            continue
        start = arrival
        if cap != UNLIMITED:
            while ends and ends[0] <= arrival:
                heapq.heappop(ends)
            if len(ends) >= cap:
                start = heapq.heappop(ends)
        if start > horizon or p.drop_at <= start:
            if start != arrival:
                heapq.heappush(ends, start)  # that bed goes to the next patient instead
            if start > horizon:
                p.state = BED_WAIT  # still waiting at the horizon: counted at the end
            else:
                drop(p, BED_WAIT)
        else:
            start_ld(p, start)


def _replan(
    policy: Policy,
    queues: list[SlotQueue],
    dev_ends: list[list[float]],
    dev_cap: list[int],
    now: float,
    mean_days: list[float],
) -> None:
    for s, queue in enumerate(queues):
        jobs = [
            PlanJob(
                p.pid, p.joined, p.weight, mean_days[p.product], p.priority, p.center, p.product
            )
            for p in queue.waiting()
            if p.drop_at > now
        ]
        busy = sorted(end for end in dev_ends[s] if end > now)
        free = [now] * (dev_cap[s] - len(busy))
        policy.replan(
            queue, PlanningSnapshot(now=now, site=s, device_free_at=free + busy, jobs=jobs)
        )
