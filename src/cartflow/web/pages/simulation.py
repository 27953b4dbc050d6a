"""The program manager's capacity page: edit a scenario (YAML), run the simulation, read the
results with their 95% confidence intervals. The model and its rules are `cartflow.simulation`'s;
this page only parses the form and shows the run. Runs are kept short (few years, few
replications) so the page answers in seconds; long studies belong to `cartflow simulate`."""

from __future__ import annotations

import math
from typing import Annotated

import yaml
from fastapi import Form, Request
from fastapi.responses import Response

from cartflow.errors import InvalidInput
from cartflow.i18n import _, gettext
from cartflow.models import Role
from cartflow.simulation.metrics import Estimate
from cartflow.simulation.policies import POLICIES
from cartflow.simulation.runner import run, spec_from
from cartflow.simulation.scenario import bundled_scenarios, parse_scenario
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/simulation")

MANAGERS = (Role.ADMIN, Role.REGISTRY_ANALYST, Role.PLANNER)
MAX_YEARS = 5
# The optimiser policies re-solve a MILP weekly: too slow for a page.
POLICY_NAMES_SHOWN = tuple(p for p in POLICIES if not p.startswith("optimiser"))
MAX_REPLICATIONS = 10
ROWS = (
    ("infused_per_year", _("Patients infused per year"), 1),
    ("products_per_year", _("Products released per year"), 1),
    ("wait_mean", _("Wait for a slot, mean (days)"), 2),
    ("wait_p90", _("Wait for a slot, 90th percentile (days)"), 2),
    ("v2v_median", _("Vein-to-vein time, median (days)"), 1),
    ("dropouts_per_year", _("Lost before infusion per year"), 1),
    ("dropout_share", _("Share of outcomes that were dropouts"), 3),
)


def _cell(estimate: Estimate | None, digits: int) -> tuple[str, str]:
    if estimate is None or estimate.n == 0 or math.isnan(estimate.mean):
        return "-", ""
    interval = (
        ""
        if math.isnan(estimate.low)
        else gettext(
            "{low} to {high}", low=f"{estimate.low:.{digits}f}", high=f"{estimate.high:.{digits}f}"
        )
    )
    return f"{estimate.mean:.{digits}f}", interval


def _default_yaml() -> str:
    return bundled_scenarios()["demo_network"].read_text(encoding="utf-8")


@router.get("")
def simulation_page(request: Request, actor: PageActor) -> Response:
    require_page_role(actor, *MANAGERS)
    return render(
        request,
        "simulation.html",
        {
            "scenario": _default_yaml(),
            "years": 2,
            "replications": 4,
            "seed": 1,
            "policy": "fcfs",
            "policies": POLICY_NAMES_SHOWN,
            "rows": None,
            "error": None,
        },
        actor=actor,
    )


@router.post("")
def simulation_run(
    request: Request,
    actor: PageActor,
    scenario: Annotated[str, Form(max_length=100_000)],
    years: Annotated[int, Form(ge=1, le=MAX_YEARS)] = 2,
    replications: Annotated[int, Form(ge=2, le=MAX_REPLICATIONS)] = 4,
    seed: Annotated[int, Form(ge=0, le=2**31)] = 1,
    policy: Annotated[str, Form(max_length=32)] = "fcfs",
) -> Response:
    require_page_role(actor, *MANAGERS)
    context: dict[str, object] = {
        "scenario": scenario,
        "years": years,
        "replications": replications,
        "seed": seed,
        "policy": policy,
        "policies": POLICY_NAMES_SHOWN,
        "rows": None,
        "error": None,
    }
    try:
        if policy not in POLICY_NAMES_SHOWN:
            raise InvalidInput(_("unknown policy {policy}", policy=repr(policy)), field="policy")
        try:
            data = yaml.safe_load(scenario)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InvalidInput(
                _("the scenario is not valid YAML at line {line}", line=mark.line + 1)
                if mark is not None
                else _("the scenario is not valid YAML"),
                field="scenario",
            ) from None
        parsed = parse_scenario(data, source="scenario")
        result = run(
            spec_from(parsed, policy=policy, years=years, replications=replications, seed=seed)
        )
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "simulation.html", context, actor=actor, status_code=422)
    context["rows"] = [(label, *_cell(result.summary.get(key), d)) for key, label, d in ROWS]
    return render(request, "simulation.html", context, actor=actor)
