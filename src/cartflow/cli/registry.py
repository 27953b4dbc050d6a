"""`cartflow registry km|cif FILE.csv ...`: survival and cumulative incidence from a CSV file.

Stable contract: with `--json` both commands print `{"groups": [...]}` (see
`cartflow.registry.summaries`); without it, a table. Bad input (missing file or column, a
non-numeric value, a negative time, an event code out of range) is one line on stderr naming the
column and row, exit code 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cartflow.cli.common import fail
from cartflow.errors import CartflowError
from cartflow.i18n import _, gettext

# The estimators pull in scipy and matplotlib; import them only when a registry command runs so
# that every other `cartflow` command starts quickly.
if TYPE_CHECKING:
    from cartflow.registry.cif import IncidenceCurve
    from cartflow.registry.csv_input import SurvivalColumns
    from cartflow.registry.km import SurvivalCurve

app = typer.Typer(no_args_is_help=True, help="Outcome statistics from files.")

FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row.")]
TimeOpt = Annotated[str, typer.Option("--time", help="Column with follow-up time (>= 0).")]
GroupOpt = Annotated[
    str | None, typer.Option("--group", help="Column whose values define the groups.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the JSON contract instead of a table.")
]
LevelOpt = Annotated[float, typer.Option("--conf-level", help="Confidence level.")]
PlotOpt = Annotated[
    Path | None, typer.Option("--plot", help="Also write the curves to this .png or .svg file.")
]


def _fmt(value: float | None) -> str:
    return "NR" if value is None or math.isnan(value) else f"{value:g}"


def _interval(low: float | None, high: float | None) -> str:
    return f"{_fmt(low)} - {_fmt(high)}"


def _plot_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("png", "svg"):
        fail(_("--plot {path}: the file name must end in .png or .svg", path=str(path)))
    return suffix


def _write_plot(path: Path, image: bytes) -> None:
    try:
        path.write_bytes(image)
    except OSError as exc:
        fail(
            _(
                "--plot {path}: cannot write the file ({reason})",
                path=str(path),
                reason=exc.strerror or "",
            )
        )


def _read(
    file: Path, time: str, event: str, group: str | None, *, competing: bool
) -> SurvivalColumns:
    from cartflow.registry.csv_input import read_survival_csv

    return read_survival_csv(
        file, time_column=time, event_column=event, group_column=group, competing=competing
    )


def _km_table(curves: list[tuple[str, SurvivalCurve]], columns: SurvivalColumns) -> None:
    from cartflow.registry.logrank import logrank_test

    console = Console()
    first = curves[0][1]
    level = f"{first.conf_level:.0%}"
    table = Table(
        title=gettext("Kaplan-Meier ({ci} CI, {level})", ci=first.ci_type, level=level),
        show_lines=False,
    )
    table.add_column(gettext("group"))
    for header in (
        "n",
        gettext("events"),
        gettext("median"),
        gettext("{level} CI", level=level),
    ):
        table.add_column(header, justify="right")
    for name, curve in curves:
        table.add_row(
            name, str(curve.n), str(curve.events), _fmt(curve.median), _interval(*curve.median_ci)
        )
    console.print(table)
    if columns.group is not None and len(curves) > 1:
        test = logrank_test(columns.time, columns.event, columns.group)
        console.print(
            gettext(
                "Log-rank: chi-square {chisq} on {df} df, p = {p}",
                chisq=f"{test.chisq:.2f}",
                df=test.df,
                p=f"{test.p_value:.3g}",
            )
        )


def _cif_table(curves: list[tuple[str, tuple[IncidenceCurve, ...]]], conf_level: float) -> None:
    table = Table(title=gettext("Cumulative incidence (Aalen-Johansen, log-log CI)"))
    table.add_column(gettext("group"))
    for header in (
        gettext("cause"),
        "n",
        gettext("events"),
        gettext("at last time"),
        gettext("{level} CI", level=f"{conf_level:.0%}"),
        gettext("median"),
    ):
        table.add_column(header, justify="right")
    for name, per_cause in curves:
        for curve in per_cause:
            table.add_row(
                name,
                str(curve.cause),
                str(curve.n),
                str(curve.events),
                f"{curve.estimate[-1]:.3f}",
                f"{curve.ci_lower[-1]:.3f} - {curve.ci_upper[-1]:.3f}",
                _fmt(curve.median),
            )
    Console().print(table)


@app.command("km")
def km(
    file: FileArg,
    time: TimeOpt,
    event: Annotated[str, typer.Option("--event", help="Column: 1 event, 0 censored.")],
    group: GroupOpt = None,
    ci: Annotated[
        str, typer.Option("--ci", help="CI transform: log (R default), log-log, plain.")
    ] = "log",
    conf_level: LevelOpt = 0.95,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Kaplan-Meier survival with CIs, medians and (with --group) a log-rank test."""
    from cartflow.registry.km import check_ci_type
    from cartflow.registry.plots import km_plot
    from cartflow.registry.summaries import km_by_group, km_report

    try:
        transform = check_ci_type(ci)
        columns = _read(file, time, event, group, competing=False)
        curves = km_by_group(
            columns.time, columns.event, columns.group, ci=transform, conf_level=conf_level
        )
        if plot is not None:
            _write_plot(plot, km_plot(curves, fmt=_plot_format(plot), time_label=time))
    except CartflowError as exc:
        fail(exc.message)
    if as_json:
        typer.echo(json.dumps(km_report(curves), allow_nan=False))
    else:
        _km_table(curves, columns)


@app.command("cif")
def cif(
    file: FileArg,
    time: TimeOpt,
    event: Annotated[
        str, typer.Option("--event", help="Column: 0 censored, 1 event of interest, 2+ competing.")
    ],
    group: GroupOpt = None,
    conf_level: LevelOpt = 0.95,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Cumulative incidence of each cause with competing risks (exact Aalen-Johansen)."""
    from cartflow.registry.plots import cif_plot
    from cartflow.registry.summaries import cif_by_group, cif_report

    try:
        columns = _read(file, time, event, group, competing=True)
        curves = cif_by_group(columns.time, columns.event, columns.group, conf_level=conf_level)
        if plot is not None:
            flat = [(name, curve) for name, per_cause in curves for curve in per_cause]
            _write_plot(plot, cif_plot(flat, fmt=_plot_format(plot), time_label=time))
    except CartflowError as exc:
        fail(exc.message)
    if as_json:
        typer.echo(json.dumps(cif_report(curves), allow_nan=False))
    else:
        _cif_table(curves, conf_level)
