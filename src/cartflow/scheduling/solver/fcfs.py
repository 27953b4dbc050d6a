"""First come, first served: the dispatcher in order of readiness, blind to clinical priority.

The baseline a network gets without a planner: each episode, in the order its patient became
ready for apheresis (ties by id), takes the option that infuses it soonest among those the
earlier episodes left free (``greedy.dispatch``: same placement and side capacities as the
priority dispatcher, without its priority order and repair rounds). Work already started is
placed first and, when re-planning, previous bookings that still fit are kept as they are. A
failed batch keeps its patient's place in the queue (the original ready date).
"""

from __future__ import annotations

from collections.abc import Mapping

from cartflow.scheduling.solver.greedy import Booking, dispatch, dispatchable
from cartflow.scheduling.solver.model import Assignment
from cartflow.scheduling.solver.network import Network


def arrival_order(net: Network) -> list[int]:
    """Episodes the dispatcher places, earliest ready date first (then by id)."""
    return sorted(
        dispatchable(net), key=lambda k: (net.episodes[k].ready, net.episodes[k].order.id)
    )


def fcfs_bookings(net: Network, keep: Mapping[str, Assignment] | None = None) -> list[Booking]:
    """The first-come-first-served plan as day-index bookings."""
    return dispatch(net, arrival_order(net), keep)
