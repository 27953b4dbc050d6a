"""The scheduling solver as a rolling-horizon planner for the simulation.

At each re-plan, the waiting list of one site becomes a `cartflow.scheduling.solver.Instance`:
- The horizon is `PLAN_DAYS` days from today. Devices still busy are outages until they are
  free.
- Every waiting patient is an order that is ready today. Apheresis may not start before the
  center's lead days. The latest infusion date is the end of the window, so the plan carries no
  lateness penalty.
- Each order's weight ("priority" 1-10) is proportional to its indication's dropout hazard.
  The solver's objective, sum of priority x (infusion - ready), then approximates the expected
  number of patients lost to waiting: under a constant hazard h, a short wait w loses h*w.
- Chairs, QC releases and transit days come from the scenario. Durations are rounded to whole
  days. Infusion beds are left unconstrained, because the solver counts infusions per day, not
  bed occupancy.

The order of the plan's manufacturing starts becomes the dispatch order until the next re-plan.
Patients the solver leaves unscheduled follow by clinical rank. `greedy` is the solver's
dispatcher. `exact` is its HiGHS MILP, warm-started from the greedy plan, under a time limit.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Literal

from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.simulation.network import Network
from cartflow.simulation.policies import Planner, PlanningSnapshot

PLAN_DAYS = 120  # the 60-120 day rolling window recommended in sched §5
BASE_DATE = date(2026, 1, 5)  # any date works: every weekday is a courier day here
MANY = 10_000  # stands in for "no daily limit"


def solver_planner(
    net: Network, *, method: Literal["greedy", "exact"] = "greedy", time_limit: float = 2.0
) -> Planner:
    """A `Planner` that calls `cartflow.scheduling.solver.solve` on each snapshot."""
    try:
        from cartflow.scheduling import solver as sched
    except ImportError as exc:  # pragma: no cover - the solver ships with the package
        raise InvalidInput(
            _("the optimiser policy needs cartflow.scheduling.solver ({reason})", reason=str(exc)),
            field="policy",
        ) from exc
    sc = net.scenario
    hazard_max = max(net.indication_hazard) or 1.0
    qc_mean = [round(p.qc_days.mean) for p in sc.products]
    centers = tuple(
        sched.Center(
            id=c.id,
            apheresis_per_day=c.apheresis_chairs or MANY,
            infusions_per_day=MANY,
            transit_days={s: math.ceil(d) for s, d in c.transit_days.items()},
            return_transit_days={s: math.ceil(d) for s, d in c.transit_days.items()},
        )
        for c in sc.centers
    )

    def plan(snapshot: PlanningSnapshot) -> list[int]:
        s = snapshot.site
        site_id = net.site_ids[s]
        today = BASE_DATE + timedelta(days=int(snapshot.now))
        devices = tuple(f"{site_id}-{i}" for i in range(len(snapshot.device_free_at)))
        outages = tuple(
            sched.DeviceOutage(
                device=devices[i],
                first_date=today,
                last_date=today + timedelta(days=math.ceil(free_at - snapshot.now) - 1),
            )
            for i, free_at in enumerate(snapshot.device_free_at)
            if math.ceil(free_at - snapshot.now) >= 1
        )
        products = tuple(
            sched.Product(
                id=pid,
                sites=(site_id,),
                manufacturing_days=max(1, round(net.product_mean_days[j])),
                qc_days=qc_mean[j],
            )
            for j, pid in enumerate(net.product_ids)
            if net.product_site[j] == s
        )
        end = today + timedelta(days=PLAN_DAYS - 1)
        orders = tuple(
            sched.Order(
                id=str(job.pid),
                center=net.center_ids[job.center],
                product=net.product_ids[job.product],
                ready_date=today,
                latest_infusion_date=end,
                priority=max(1, min(10, round(10 * job.weight / hazard_max))),
                apheresis_not_before=today + timedelta(days=net.center_lead[job.center]),
            )
            for job in snapshot.jobs
        )
        instance = sched.Instance(
            start_date=today,
            horizon_days=PLAN_DAYS,
            sites=(
                sched.Site(
                    id=site_id,
                    devices=devices,
                    qc_releases_per_day=net.site_releases[s] or MANY,
                ),
            ),
            centers=centers,
            products=products,
            orders=orders,
            device_outages=outages,
        )
        result = sched.solve(instance, method=method, time_limit=time_limit, seed=0)
        starts = sorted(
            (a.manufacturing_start, a.apheresis_date, a.order) for a in result.assignments
        )
        return [int(order) for _, _, order in starts]

    return plan
