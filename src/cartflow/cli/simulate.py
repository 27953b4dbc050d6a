"""`cartflow simulate SCENARIO`: capacity simulation of a CAR-T network (docs/simulation.md).

SCENARIO is a YAML file, or the name of a bundled scenario (`demo_network`, `mmc_validation`,
`mgc_reference`). The command prints a table of results with 95% confidence intervals over
replications. `--json` prints the same results as JSON on stdout instead. `--sweep
devices=12:30` runs every device count at one site, prints a table, writes a PNG chart, and
answers "how many devices keep the 90th-percentile wait under --target-p90 days".

Exit codes: 0 on success; 2 with one line on stderr for a malformed scenario or option.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cartflow.cli.common import fail
from cartflow.errors import CartflowError
from cartflow.i18n import _, gettext
from cartflow.simulation.metrics import Estimate
from cartflow.simulation.policies import POLICIES
from cartflow.simulation.runner import RunResult, RunSpec, default_jobs, run, spec_from
from cartflow.simulation.scenario import Scenario, load_scenario
from cartflow.simulation.sweep import (
    DevicesNeeded,
    SweepResult,
    devices_needed,
    parse_sweep,
    run_sweep,
)

MAIN_ROWS = (
    ("products_per_year", _("Products released per year"), 1),
    ("runs_per_year", _("Manufacturing runs per year"), 1),
    ("infused_per_year", _("Patients infused per year"), 1),
    ("wait_mean", _("Wait for a slot, mean (days)"), 2),
    ("wait_p90", _("Wait for a slot, 90th percentile (days)"), 2),
    ("v2v_median", _("Vein-to-vein time, median (days)"), 1),
    ("dropouts_per_year", _("Lost before infusion per year"), 1),
    ("dropouts_per_year[waiting_slot]", _("of whom while waiting for a slot"), 1),
    ("dropouts_per_year[production]", _("of whom during manufacturing and transport"), 1),
    ("dropouts_per_year[workup]", _("of whom during work-up"), 1),
    ("dropout_share", _("Share of outcomes that were dropouts"), 3),
    ("failed_per_year", _("Manufacturing failures (no attempt left) per year"), 2),
)


def _fmt(est: Estimate | None, digits: int) -> str:
    if est is None or est.n == 0 or math.isnan(est.mean):
        return "-"
    if math.isnan(est.low):
        return f"{est.mean:.{digits}f}"
    return f"{est.mean:.{digits}f} [{est.low:.{digits}f}, {est.high:.{digits}f}]"


def _progress(console: Console, total: int, label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal or total < 2,
    )


def _results_tables(console: Console, result: RunResult) -> None:
    spec, s = result.spec, result.summary
    title = gettext(
        "{scenario}: policy {policy}, {replications} replications x {years} years after "
        "{warmup} warm-up, seed {seed}",
        scenario=spec.scenario.name,
        policy=spec.policy,
        replications=spec.replications,
        years=f"{spec.years:g}",
        warmup=f"{spec.warmup_years:g}",
        seed=spec.seed,
    )
    table = Table(title=title, caption=gettext("mean [95% confidence interval] over replications"))
    table.add_column(gettext("measure"))
    table.add_column(gettext("value"), justify="right")
    for key, label, digits in MAIN_ROWS:
        # Breakdown rows ("of whom ...") are indented under their total.
        indent = "  " if "[" in key else ""
        table.add_row(indent + str(label), _fmt(s.get(key), digits))
    console.print(table)

    use = Table(title=gettext("Utilisation (share of capacity in use)"))
    use.add_column(gettext("resource"))
    use.add_column(gettext("where"))
    use.add_column(gettext("value"), justify="right")
    for key, est in s.items():
        if key.startswith("utilisation."):
            kind, where = key.removeprefix("utilisation.").rstrip("]").split("[", 1)
            use.add_row(kind, where, _fmt(est, 3))
    console.print(use)

    by = Table(title=gettext("By indication"))
    by.add_column(gettext("indication"))
    by.add_column(gettext("wait for a slot, mean (days)"), justify="right")
    by.add_column(gettext("lost before infusion per year"), justify="right")
    for ind in spec.scenario.indications:
        by.add_row(
            ind.id,
            _fmt(s.get(f"wait_mean[{ind.id}]"), 2),
            _fmt(s.get(f"dropouts_per_year[{ind.id}]"), 1),
        )
    console.print(by)
    counts = {
        k: sum(rep[f"count.{k}"] for rep in result.per_replication)
        for k in ("referred", "ineligible", "infused", "dropped", "failed", "in_system")
    }
    console.print(
        gettext(
            "Conservation over all replications: referred {referred} = ineligible {ineligible} "
            "+ infused {infused} + lost {dropped} + failed {failed} + still in the system "
            "{in_system}",
            **{k: f"{v:.0f}" for k, v in counts.items()},
        )
    )


def _sweep_table(console: Console, sweep: SweepResult, needed: DevicesNeeded, png: Path) -> None:
    table = Table(
        title=gettext("Capacity sweep: devices at {site}", site=sweep.site),
        caption=gettext("mean [95% confidence interval] over replications"),
    )
    for col in (
        gettext("devices"),
        gettext("wait mean (d)"),
        gettext("wait P90 (d)"),
        gettext("infused/yr"),
        gettext("lost/yr"),
        gettext("device use"),
    ):
        table.add_column(col, justify="right")
    for p in sweep.points:
        s = p.summary
        table.add_row(
            str(p.devices),
            _fmt(s["wait_mean"], 2),
            _fmt(s["wait_p90"], 1),
            _fmt(s["infused_per_year"], 0),
            _fmt(s["dropouts_per_year"], 1),
            _fmt(s[f"utilisation.devices[{sweep.site}]"], 3),
        )
    console.print(table)
    console.print(_needed_sentence(needed, sweep))
    console.print(gettext("Chart written to {path}", path=str(png)))


def _needed_sentence(needed: DevicesNeeded, sweep: SweepResult) -> str:
    top = max(p.devices for p in sweep.points)
    target = f"{needed.target:g}"
    if needed.by_mean is None:
        return gettext(
            "No device count up to {top} keeps the 90th-percentile wait under {target} days.",
            top=top,
            target=target,
        )
    safe = (
        str(needed.by_upper_ci)
        if needed.by_upper_ci is not None
        else gettext("more than {top}", top=top)
    )
    return gettext(
        "Devices needed to keep the 90th-percentile wait under {target} days: {by_mean} (mean "
        "over replications); {safe} (upper 95% confidence bound).",
        target=target,
        by_mean=needed.by_mean,
        safe=safe,
    )


def _estimates_json(summary: dict[str, Estimate]) -> dict[str, Any]:
    return {k: v.to_dict() for k, v in summary.items() if not k.startswith("count.")}


def _spec_json(spec: RunSpec) -> dict[str, Any]:
    return {
        "scenario": spec.scenario.name,
        "policy": spec.policy,
        "years": spec.years,
        "warmup_years": spec.warmup_years,
        "replications": spec.replications,
        "seed": spec.seed,
    }


def _load(scenario: str) -> Scenario:
    try:
        return load_scenario(scenario)
    except CartflowError as exc:
        fail(exc.message)


def simulate(
    scenario: Annotated[str, typer.Argument(help="scenario YAML file or bundled name")],
    years: Annotated[float | None, typer.Option(help="years measured after warm-up")] = None,
    warmup_years: Annotated[float | None, typer.Option(help="years discarded first")] = None,
    replications: Annotated[int | None, typer.Option(help="independent replications")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (same seed, same results)")] = None,
    policy: Annotated[str | None, typer.Option(help=f"one of: {', '.join(POLICIES)}")] = None,
    sweep: Annotated[
        str | None, typer.Option(help="e.g. devices=12:30 or devices@SITE=12:30:2")
    ] = None,
    target_p90: Annotated[float, typer.Option(help="sweep: P90 wait target in days")] = 7.0,
    plot: Annotated[Path | None, typer.Option(help="sweep: PNG file for the chart")] = None,
    jobs: Annotated[int | None, typer.Option(help="worker processes (default: all cores)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON on stdout")] = False,
) -> None:
    """Simulate a CAR-T network's capacity: waits, dropouts, throughput and utilisation."""
    sc = _load(scenario)
    if years is not None and not years > 0:
        fail(_("--years must be positive"))
    if warmup_years is not None and warmup_years < 0:
        fail(_("--warmup-years must not be negative"))
    if replications is not None and replications < 2:
        fail(_("--replications must be at least 2 (confidence intervals need two)"))
    if seed is not None and seed < 0:
        fail(_("--seed must not be negative"))
    if jobs is not None and jobs < 1:
        fail(_("--jobs must be at least 1"))
    if not target_p90 > 0:
        fail(_("--target-p90 must be positive"))
    if policy is not None and policy not in POLICIES:
        fail(
            _(
                "--policy must be one of {choices}, not {policy}",
                choices=", ".join(POLICIES),
                policy=repr(policy),
            )
        )
    spec = spec_from(
        sc,
        policy=policy,
        years=years,
        warmup_years=warmup_years,
        replications=replications,
        seed=seed,
    )
    workers = jobs or default_jobs()
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # pipes and logs: no wrapping inside table cells
    err = Console(stderr=True)
    try:
        if sweep is None:
            with _progress(err, spec.replications, "replications") as bar:
                task = bar.add_task("run", total=spec.replications)
                result = run(spec, jobs=workers, progress=lambda n: bar.advance(task, n))
            if as_json:
                body = {**_spec_json(spec), "results": _estimates_json(result.summary)}
                typer.echo(json.dumps(body, indent=2))
            else:
                _results_tables(console, result)
            return
        request = parse_sweep(sweep)
        total = len(request.devices) * spec.replications
        with _progress(err, total, "sweep") as bar:
            task = bar.add_task("sweep", total=total)
            swept = run_sweep(spec, request, jobs=workers, progress=lambda n: bar.advance(task, n))
    except CartflowError as exc:
        fail(exc.message)
    needed = devices_needed(swept, target_p90)
    png = plot or Path(f"{Path(scenario).stem}-sweep-devices.png")
    from cartflow.simulation.plot import plot_sweep

    try:
        plot_sweep(
            swept,
            png,
            title=gettext("{scenario}, policy {policy}", scenario=sc.name, policy=spec.policy),
            needed=needed,
        )
    except OSError as exc:
        fail(_("cannot write {path}: {reason}", path=str(png), reason=str(exc)))
    if as_json:
        body = {
            **_spec_json(spec),
            "sweep": {
                "site": swept.site,
                "points": [
                    {"devices": p.devices, "results": _estimates_json(p.summary)}
                    for p in swept.points
                ],
                "target_p90_days": target_p90,
                "devices_needed": {"by_mean": needed.by_mean, "by_upper_ci95": needed.by_upper_ci},
                "plot": str(png),
            },
        }
        typer.echo(json.dumps(body, indent=2))
    else:
        _sweep_table(console, swept, needed, png)
