"""``cartflow schedule``: solve, validate, generate and re-plan manufacturing slot plans (files).

The file contract is stable (docs/scheduling.md): exit 0 on success, 1 when a plan is infeasible
(validate) and 2 with one line on stderr when a file or an option is malformed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cartflow.cli.common import fail
from cartflow.errors import CartflowError
from cartflow.i18n import _, gettext, ngettext
from cartflow.scheduling.solver import (
    Assignment,
    BatchFailed,
    DeviceDown,
    Event,
    Instance,
    Method,
    Plan,
    generate_instance,
    instance_from_json,
    instance_to_json,
    plan_from_json,
    plan_to_json,
    replan,
    solve,
    validate,
)

app = typer.Typer(no_args_is_help=True, help="Manufacturing slot plans: solve, validate, generate.")

InstanceArg = Annotated[Path, typer.Argument(help="instance JSON file")]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="file to write")]
TimeLimit = Annotated[float, typer.Option("--time-limit", min=0.1, help="seconds for HiGHS")]
Seed = Annotated[int, typer.Option("--seed", help="solver random seed")]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("cannot read {path}: {error}", path=path, error=exc))


def _load_instance(path: Path) -> Instance:
    try:
        return instance_from_json(_read(path))
    except CartflowError as exc:
        fail(f"{path}: {exc.message}")


def _load_plan(path: Path, instance: Instance) -> Plan:
    try:
        return plan_from_json(_read(path), instance)
    except CartflowError as exc:
        fail(f"{path}: {exc.message}")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(_("cannot write {path}: {error}", path=path, error=exc))


def _method(name: str) -> Method:
    if name == "greedy":
        return "greedy"
    if name == "exact":
        return "exact"
    if name == "cpsat":
        return "cpsat"
    if name == "fcfs":
        return "fcfs"
    fail(_("--method must be greedy, fcfs, exact or cpsat, not {method!r}", method=name))


def _summary(plan: Plan, total: int) -> None:
    bound = "unknown" if plan.lower_bound is None else str(plan.lower_bound)
    gap = "unknown" if plan.gap is None else f"{100 * plan.gap:.2f}%"
    typer.echo(f"method: {plan.method} ({plan.status})")
    typer.echo(f"objective: {plan.objective}")
    typer.echo(f"lower bound: {bound}")
    typer.echo(f"gap: {gap}")
    typer.echo(f"scheduled: {len(plan.assignments)} of {total}")
    typer.echo(f"seconds: {plan.seconds:.2f}")


@app.command("solve")
def solve_cmd(
    instance_file: InstanceArg,
    output: OutOpt,
    method: Annotated[
        str, typer.Option("--method", help="greedy, exact (HiGHS MILP) or cpsat (CP-SAT)")
    ] = "exact",
    time_limit: TimeLimit = 30.0,
    seed: Seed = 0,
) -> None:
    """Plan an instance and write the plan; print objective, lower bound and gap."""
    chosen = _method(method)
    instance = _load_instance(instance_file)
    plan = solve(instance, method=chosen, time_limit=time_limit, seed=seed)
    _write(output, plan_to_json(plan))
    _summary(plan, len(instance.orders))


@app.command("validate")
def validate_cmd(instance_file: InstanceArg, plan_file: Annotated[Path, typer.Argument()]) -> None:
    """Exit 0 and print the objective if the plan is feasible; exit 1 listing violations."""
    instance = _load_instance(instance_file)
    report = validate(instance, _load_plan(plan_file, instance))
    if report.feasible:
        typer.echo(gettext("feasible; objective: {objective}", objective=report.objective))
        return
    typer.echo(
        ngettext(
            "infeasible: {n} violation",
            "infeasible: {n} violations",
            len(report.violations),
        )
    )
    for v in report.violations:
        typer.echo(str(v))
    raise typer.Exit(1)


@app.command("generate")
def generate_cmd(
    output: OutOpt,
    episodes: Annotated[int, typer.Option("--episodes", min=0, help="open episodes")] = 150,
    seed: Seed = 0,
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=30, max=3660)] = 120,
) -> None:
    """Write a synthetic instance on the demo network (22 devices, 3 sites, 8 centers)."""
    instance = generate_instance(episodes, seed, horizon_days=horizon_days)
    _write(output, instance_to_json(instance))
    typer.echo(
        ngettext(
            "wrote {n} episode to {path}",
            "wrote {n} episodes to {path}",
            len(instance.orders),
            path=output,
        )
    )


def _parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(_("{option} must be a date YYYY-MM-DD, not {text!r}", option=option, text=text))


@app.command("replan")
def replan_cmd(
    instance_file: InstanceArg,
    plan_file: Annotated[Path, typer.Argument(help="the current plan")],
    output: OutOpt,
    on: Annotated[str, typer.Option("--on", help="day the event is known (YYYY-MM-DD)")],
    failed_batch: Annotated[str | None, typer.Option("--failed-batch", help="episode")] = None,
    device_down: Annotated[str | None, typer.Option("--device-down", help="device id")] = None,
    down_from: Annotated[str | None, typer.Option("--from", help="first day down")] = None,
    down_to: Annotated[str | None, typer.Option("--to", help="last day down")] = None,
    method: Annotated[str, typer.Option("--method", help="greedy or exact")] = "exact",
    time_limit: TimeLimit = 5.0,
    seed: Seed = 0,
    instance_output: Annotated[
        Path | None, typer.Option("--instance-output", help="write the re-planning instance")
    ] = None,
) -> None:
    """Re-plan from --on after a failed batch or a device outage; print what moved."""
    when = _parse_date(on, "--on")
    assert when is not None
    event: Event
    if (failed_batch is None) == (device_down is None):
        fail(_("give exactly one of --failed-batch or --device-down"))
    if failed_batch is not None:
        event = BatchFailed(failed_batch, when)
    else:
        first, last = _parse_date(down_from, "--from"), _parse_date(down_to, "--to")
        if first is None or last is None or device_down is None:
            fail(_("--device-down needs --from and --to"))
        event = DeviceDown(device_down, first, last, when)
    if method not in ("greedy", "exact"):
        fail(_("re-planning --method must be greedy or exact, not {method!r}", method=method))
    instance = _load_instance(instance_file)
    previous = _load_plan(plan_file, instance)
    try:
        result = replan(
            instance,
            previous,
            event,
            method="greedy" if method == "greedy" else "exact",
            time_limit=time_limit,
            seed=seed,
        )
    except CartflowError as exc:
        fail(exc.message)
    _write(output, plan_to_json(result.plan))
    if instance_output is not None:
        _write(instance_output, instance_to_json(result.instance))
    _summary(result.plan, len(result.instance.orders))
    typer.echo(f"failed: {', '.join(result.failed) or 'none'}")
    typer.echo(f"moved: {len(result.moved)}")
    for m in result.moves:
        old = _dates_text(m.old)
        new = _dates_text(m.new)
        typer.echo(f"{m.order}: {old} -> {new}")


def _dates_text(a: Assignment | None) -> str:
    if a is None:
        return "unscheduled"
    return (
        f"apheresis {a.apheresis_date} start {a.manufacturing_start} {a.device} "
        f"infusion {a.infusion_date}"
    )


@app.command("export-instance")
def export_instance_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write INSTANCE.json")],
    user: Annotated[str, typer.Option("--user", help="a planner or admin username")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    start: Annotated[str | None, typer.Option(help="first planning day, YYYY-MM-DD")] = None,
    horizon_days: Annotated[int, typer.Option(min=7, max=730)] = 120,
) -> None:
    """Write the current network and its open episodes as a planning instance."""
    import datetime as dt

    from cartflow.cli.common import cli_actor, read_password
    from cartflow.config import get_settings
    from cartflow.db.engine import make_engine
    from cartflow.db.session import make_sessionmaker, session_scope
    from cartflow.errors import CartflowError
    from cartflow.scheduling.export import export_instance
    from cartflow.scheduling.solver.formats import instance_to_json

    first = _parse_date(start, "--start") or dt.datetime.now(dt.UTC).date()
    password = read_password(password_stdin)
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            actor = cli_actor(session, username=user, password=password)
            instance = export_instance(
                session, actor=actor, start_date=first, horizon_days=horizon_days
            )
    except CartflowError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
    finally:
        engine.dispose()
    _write(output, instance_to_json(instance))
    typer.echo(
        ngettext(
            "wrote {n} open episode to {path}",
            "wrote {n} open episodes to {path}",
            len(instance.orders),
            path=output,
        )
    )
