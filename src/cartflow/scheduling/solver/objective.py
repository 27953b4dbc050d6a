"""The planning objective (docs/scheduling.md, "Objective"), in integer priority-days.

For a scheduled episode j with priority p_j, ready date r_j, latest useful infusion date l_j and
infusion date i_j:

    cost_j = p_j * (i_j - r_j) + L * p_j * max(0, i_j - l_j)

and an unscheduled episode costs U * p_j. L (``late_per_day``) and U (``unscheduled``) are the
instance's weights. Both penalties scale with priority so that, when capacity runs out, the planner
leaves out or delays the least urgent patients first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cartflow.scheduling.solver.model import Instance, ObjectiveWeights, Order


def episode_cost(order: Order, infusion_date: date, weights: ObjectiveWeights) -> int:
    """Cost of infusing ``order`` on ``infusion_date``."""
    wait = (infusion_date - order.ready_date).days
    late = max(0, (infusion_date - order.latest_infusion_date).days)
    return order.priority * wait + weights.late_per_day * order.priority * late


def unscheduled_cost(order: Order, weights: ObjectiveWeights) -> int:
    return weights.unscheduled * order.priority


def objective_of(
    instance: Instance, infusions: Iterable[tuple[str, date]], unscheduled: Iterable[str]
) -> int:
    """Objective of a plan given (order id, infusion date) pairs and the unscheduled ids."""
    orders = instance.order_by_id
    total = sum(episode_cost(orders[o], day, instance.weights) for o, day in infusions)
    return total + sum(unscheduled_cost(orders[o], instance.weights) for o in unscheduled)
