"""Network scheduling solver on plain dataclasses: no database, no web (docs/scheduling.md).

Public API:
- ``Instance``/``Plan`` and their parts (model.py); JSON files: ``instance_from_json``,
  ``instance_to_json``, ``plan_from_json``, ``plan_to_json`` (formats.py);
- ``solve(instance, method="greedy"|"exact", time_limit=, seed=) -> Plan``;
- ``validate(instance, plan) -> ValidationReport`` (violations and the recomputed objective);
- ``replan(instance, plan, BatchFailed(...) | DeviceDown(...)) -> ReplanResult``;
- ``generate_instance(episodes, seed)`` for synthetic instances.
"""

from cartflow.scheduling.solver.errors import EventError, InstanceError, PlanFormatError
from cartflow.scheduling.solver.formats import (
    instance_from_dict,
    instance_from_json,
    instance_to_dict,
    instance_to_json,
    plan_from_json,
    plan_to_dict,
    plan_to_json,
)
from cartflow.scheduling.solver.generate import generate_instance
from cartflow.scheduling.solver.model import (
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
from cartflow.scheduling.solver.objective import episode_cost, objective_of, unscheduled_cost
from cartflow.scheduling.solver.replan import (
    BatchFailed,
    DeviceDown,
    Event,
    Move,
    ReplanResult,
    replan,
    replan_instance,
)
from cartflow.scheduling.solver.solve import METHODS, Method, solve
from cartflow.scheduling.solver.validate import ValidationReport, Violation, validate

__all__ = [
    "METHODS",
    "Assignment",
    "BatchFailed",
    "Center",
    "DeviceDown",
    "DeviceOutage",
    "Event",
    "EventError",
    "FixedManufacturing",
    "Instance",
    "InstanceError",
    "Method",
    "Move",
    "ObjectiveWeights",
    "Order",
    "Plan",
    "PlanFormatError",
    "Product",
    "ReplanResult",
    "Site",
    "ValidationReport",
    "Violation",
    "episode_cost",
    "generate_instance",
    "instance_from_dict",
    "instance_from_json",
    "instance_to_dict",
    "instance_to_json",
    "objective_of",
    "plan_from_json",
    "plan_to_dict",
    "plan_to_json",
    "replan",
    "replan_instance",
    "solve",
    "unscheduled_cost",
    "validate",
]
