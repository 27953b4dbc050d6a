"""Slot-allocation policies: who gets the next free manufacturing device at a site.

A policy makes one `SlotQueue` per manufacturing site. The engine pushes a patient when the
work-up is complete (`push`) or when a product failed and must be made again (`push_rework`:
every policy serves re-manufacture first, because that patient has already been collected and
bridged), and pops when a device is free. Popped patients who have already dropped out are
discarded by the engine, so queues never need to delete from the middle.

Policies:
- `fcfs`: first come, first served (Kourelis 2023: 12 of 17 centres used time on the list).
- `priority`: clinical urgency rank of the indication, then time on the list.
- `rolling-wspt`, `optimiser`, `optimiser-greedy`: a rolling-horizon re-planner. Every
  `replan_every_days` the engine hands a `Planner` a `PlanningSnapshot`: the waiting patients,
  with their weights and expected device days, and when each device becomes free. The planner
  returns the order in which to serve them. Patients who arrive between re-plans follow in
  priority order.
  - `rolling-wspt` plugs in the weighted-shortest-processing-time dispatcher, which the
    scheduling notes (section 5) name as the baseline to beat.
  - `optimiser` plugs in the scheduling solver's exact method (HiGHS MILP).
  - `optimiser-greedy` plugs in the solver's greedy dispatcher (see `optimiser.py`).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cartflow.errors import InvalidInput
from cartflow.i18n import _

if TYPE_CHECKING:
    from cartflow.simulation.network import Network


class Patient:
    """One eligible patient's mutable state inside a replication (engine-private fields)."""

    __slots__ = (
        "attempt",
        "center",
        "chair_day",
        "drop_at",
        "first_apheresis",
        "indication",
        "joined",
        "pid",
        "planned_end",
        "priority",
        "product",
        "site",
        "state",
        "weight",
    )

    def __init__(
        self,
        pid: int,
        center: int,
        indication: int,
        product: int,
        site: int,
        priority: int,
        weight: float,
    ) -> None:
        self.pid = pid
        self.center = center
        self.indication = indication
        self.product = product
        self.site = site
        self.priority = priority
        self.weight = weight
        self.drop_at = math.inf
        self.joined = 0.0
        self.attempt = 0
        self.state = 0
        self.first_apheresis = -1.0
        self.planned_end = 0.0
        self.chair_day = -1


class SlotQueue(Protocol):
    """A site's waiting list. `len()` counts entries, including patients already dropped out."""

    def __len__(self) -> int: ...

    def push(self, patient: Patient, /) -> None: ...

    def push_rework(self, patient: Patient, /) -> None: ...

    def pop_next(self) -> Patient: ...

    def waiting(self) -> list[Patient]: ...


@dataclass(frozen=True)
class PlanJob:
    pid: int
    release: float  # when the patient joined the list
    weight: float  # harm per day of waiting (the indication's dropout hazard)
    processing_days: float  # expected device days of the product
    priority: int  # clinical rank, 1 first
    center: int
    product: int


@dataclass(frozen=True)
class PlanningSnapshot:
    now: float
    site: int
    device_free_at: list[float]  # one entry per device; `now` for an idle device
    jobs: list[PlanJob]


Planner = Callable[[PlanningSnapshot], Sequence[int]]


class Policy(Protocol):
    name: str
    replan_every_days: float | None

    def new_queue(self) -> SlotQueue: ...

    def replan(self, queue: SlotQueue, snapshot: PlanningSnapshot) -> None: ...


class _FifoQueue(deque[Patient]):
    # Bound C methods of deque: the engine calls these once per patient.
    push = deque.append
    push_rework = deque.appendleft
    pop_next = deque.popleft

    def waiting(self) -> list[Patient]:
        return list(self)


class _RankQueue(list[tuple[int, int, float, int, Patient]]):
    """Heap on (rework first, urgency rank, time joined, id): ties never compare patients."""

    def push(self, patient: Patient, /) -> None:
        heapq.heappush(self, (1, patient.priority, patient.joined, patient.pid, patient))

    def push_rework(self, patient: Patient, /) -> None:
        heapq.heappush(self, (0, 0, patient.joined, patient.pid, patient))

    def pop_next(self) -> Patient:
        return heapq.heappop(self)[4]

    def waiting(self) -> list[Patient]:
        return [entry[4] for entry in self]


class FirstComeFirstServed:
    name = "fcfs"
    replan_every_days: float | None = None

    def new_queue(self) -> SlotQueue:
        return _FifoQueue()

    def replan(self, queue: SlotQueue, snapshot: PlanningSnapshot) -> None:
        return None


class ClinicalPriority:
    name = "priority"
    replan_every_days: float | None = None

    def new_queue(self) -> SlotQueue:
        return _RankQueue()

    def replan(self, queue: SlotQueue, snapshot: PlanningSnapshot) -> None:
        return None


class _PlannedQueue:
    """Serves rework, then the last plan's order, then newcomers by urgency rank."""

    __slots__ = ("_plan", "_rest", "_rework")

    def __init__(self) -> None:
        self._rework: deque[Patient] = deque()
        self._plan: deque[Patient] = deque()
        self._rest = _RankQueue()

    def __len__(self) -> int:
        return len(self._rework) + len(self._plan) + len(self._rest)

    def push(self, patient: Patient, /) -> None:
        self._rest.push(patient)

    def push_rework(self, patient: Patient, /) -> None:
        self._rework.append(patient)

    def pop_next(self) -> Patient:
        if self._rework:
            return self._rework.popleft()
        if self._plan:
            return self._plan.popleft()
        return self._rest.pop_next()

    def waiting(self) -> list[Patient]:
        return list(self._plan) + self._rest.waiting()

    def adopt(self, order: Sequence[int], now: float) -> None:
        live = {p.pid: p for p in self.waiting() if p.drop_at > now}
        planned = [live.pop(pid) for pid in order if pid in live]
        # A planner that leaves someone out must not lose them: they follow by rank.
        self._plan = deque(planned)
        self._rest = _RankQueue()
        for patient in sorted(live.values(), key=lambda p: (p.priority, p.joined, p.pid)):
            self._rest.push(patient)


class RollingHorizon:
    """Re-plan the waiting list every `replan_every_days` with a pluggable planner."""

    def __init__(self, planner: Planner, *, name: str, replan_every_days: float) -> None:
        if replan_every_days <= 0:
            raise InvalidInput(_("replan_every_days must be positive"), field="replan_every_days")
        self.planner = planner
        self.name = name
        self.replan_every_days: float | None = replan_every_days

    def new_queue(self) -> SlotQueue:
        return _PlannedQueue()

    def replan(self, queue: SlotQueue, snapshot: PlanningSnapshot) -> None:
        if not isinstance(queue, _PlannedQueue) or not snapshot.jobs:
            return
        queue.adopt(self.planner(snapshot), snapshot.now)


def wspt_planner(snapshot: PlanningSnapshot) -> list[int]:
    """Weighted shortest processing time first (Smith's rule), ties by time on the list.

    Smith (1956) ordering is optimal for total weighted completion time on one machine and the
    list-scheduling baseline the scheduling notes (section 4, table "clairvoyant limit") compare
    the exact MILP against.
    """
    jobs = sorted(
        snapshot.jobs,
        key=lambda j: (-j.weight / j.processing_days if j.processing_days > 0 else 0.0, j.release),
    )
    return [j.pid for j in jobs]


POLICIES = ("fcfs", "priority", "rolling-wspt", "optimiser", "optimiser-greedy")


def make_policy(name: str, *, replan_every_days: float = 7.0, net: Network | None = None) -> Policy:
    """Build a policy by name; the solver-backed ones need the compiled network."""
    if name == "fcfs":
        return FirstComeFirstServed()
    if name == "priority":
        return ClinicalPriority()
    if name == "rolling-wspt":
        return RollingHorizon(wspt_planner, name=name, replan_every_days=replan_every_days)
    if name in ("optimiser", "optimiser-greedy"):
        if net is None:
            raise InvalidInput(
                _("policy {name} needs the scenario's network", name=repr(name)), field="policy"
            )
        from cartflow.simulation.optimiser import solver_planner

        planner = solver_planner(net, method="exact" if name == "optimiser" else "greedy")
        return RollingHorizon(planner, name=name, replan_every_days=replan_every_days)
    raise InvalidInput(
        _("unknown policy {name} ({choices})", name=repr(name), choices=", ".join(POLICIES)),
        field="policy",
    )
