"""The pages' router (mounted by `cartflow.app`): one sub-router per role or topic, each made by
`cartflow.web.pageauth.page_router` (HTML refusals, CSRF check on every form post)."""

from __future__ import annotations

from fastapi import APIRouter

from cartflow.web.pages import (
    admin,
    admin_users,
    auth,
    booking,
    calendar,
    clinical_results,
    clinical_steps,
    clinician,
    coordinator,
    custody,
    custody_forms,
    disposition,
    episode,
    home,
    manufacturing,
    nurse,
    planner,
    qc_forms,
    registry,
    replan,
    simulation,
)

PAGES = (
    auth,
    home,
    coordinator,
    calendar,
    nurse,
    planner,
    clinician,
    clinical_steps,
    clinical_results,
    custody,
    custody_forms,
    manufacturing,
    disposition,
    qc_forms,
    registry,
    simulation,
    replan,
    admin,
    admin_users,
    booking,
    episode,
)

router = APIRouter(include_in_schema=False)
for _module in PAGES:
    router.include_router(_module.router)
