"""The planner's page: per site, a device Gantt of the plan for the booked and collected episodes
(planned by the scheduling solver), the episodes it cannot fit, those not yet booked, and the
batches in progress."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from cartflow.db.session import DbSession
from cartflow.models import ManufacturingSite, Role
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.planning import HORIZON_DAYS, site_plan
from cartflow.web.templating import render

router = page_router(prefix="/planner")


@router.get("")
def plan_page(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.PLANNER)
    sites = [session.get(ManufacturingSite, s) for s in actor.site_ids(Role.PLANNER)]
    plans = [
        site_plan(session, actor=actor, site=site)
        for site in sorted((s for s in sites if s is not None), key=lambda s: s.code)
    ]
    return render(request, "planner.html", {"plans": plans, "horizon": HORIZON_DAYS}, actor=actor)
