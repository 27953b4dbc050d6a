"""Kaplan-Meier and cumulative incidence plots with a numbers-at-risk table, as PNG or SVG bytes.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot, no global state),
so they are safe to render inside a web worker. The at-risk table follows the usual reporting
convention (Pocock SJ, Clayton TC, Altman DG. Lancet 2002;359:1686-1689): numbers still under
observation at each x-axis tick, one row per group, aligned under the curves.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cartflow.errors import InvalidInput
from cartflow.i18n import _, gettext
from cartflow.registry.cif import IncidenceCurve
from cartflow.registry.event_table import FloatArray, IntArray
from cartflow.registry.km import SurvivalCurve, number_at_risk

ImageFormat = Literal["png", "svg"]


@dataclass(frozen=True)
class _Series:
    label: str
    risk_label: str
    timeline: FloatArray
    estimate: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    n_at_risk: IntArray
    start: float
    censored_at: FloatArray
    censored_value: FloatArray


def _check_format(fmt: str) -> ImageFormat:
    if fmt == "png":
        return "png"
    if fmt == "svg":
        return "svg"
    raise InvalidInput(
        _("unknown image format {fmt}: use png or svg", fmt=repr(fmt)), field="format"
    )


def km_plot(
    curves: Sequence[tuple[str, SurvivalCurve]],
    *,
    fmt: ImageFormat | str = "png",
    title: str | None = None,
    time_label: str | None = None,
    at_risk_times: Sequence[float] | None = None,
    show_ci: bool = True,
) -> bytes:
    """Survival curves (step, with censoring marks and CI bands) over an at-risk table; the
    captions are in the current language."""
    series = []
    for name, curve in curves:
        marks = curve.n_censored > 0
        series.append(
            _Series(
                label=gettext(
                    "{name} (n={n}, events={events})", name=name, n=curve.n, events=curve.events
                ),
                risk_label=name,
                timeline=curve.timeline,
                estimate=curve.estimate,
                ci_lower=curve.ci_lower,
                ci_upper=curve.ci_upper,
                n_at_risk=curve.n_at_risk,
                start=1.0,
                censored_at=curve.timeline[marks],
                censored_value=curve.estimate[marks],
            )
        )
    return _render(
        series,
        fmt=_check_format(fmt),
        title=title if title is not None else gettext("Kaplan-Meier estimate"),
        time_label=time_label if time_label is not None else gettext("Time"),
        value_label=gettext("Survival probability"),
        at_risk_times=at_risk_times,
        show_ci=show_ci,
    )


def cif_plot(
    curves: Sequence[tuple[str, IncidenceCurve]],
    *,
    fmt: ImageFormat | str = "png",
    title: str | None = None,
    time_label: str | None = None,
    cause_names: dict[int, str] | None = None,
    at_risk_times: Sequence[float] | None = None,
    show_ci: bool = True,
) -> bytes:
    """Cumulative incidence curves, e.g. relapse and non-relapse mortality, over an at-risk table.

    Each entry is (group name, curve); curves of one group share its row in the at-risk table.
    """
    names = cause_names or {}
    empty = np.empty(0, dtype=np.float64)
    series = [
        _Series(
            label=gettext(
                "{group}: {cause} ({events} events)",
                group=group,
                cause=names.get(curve.cause) or gettext("cause {cause}", cause=curve.cause),
                events=curve.events,
            ),
            risk_label=group,
            timeline=curve.timeline,
            estimate=curve.estimate,
            ci_lower=curve.ci_lower,
            ci_upper=curve.ci_upper,
            n_at_risk=curve.n_at_risk,
            start=0.0,
            censored_at=empty,
            censored_value=empty,
        )
        for group, curve in curves
    ]
    return _render(
        series,
        fmt=_check_format(fmt),
        title=title if title is not None else gettext("Cumulative incidence (Aalen-Johansen)"),
        time_label=time_label if time_label is not None else gettext("Time"),
        value_label=gettext("Cumulative incidence"),
        at_risk_times=at_risk_times,
        show_ci=show_ci,
    )


def _render(
    series: list[_Series],
    *,
    fmt: ImageFormat,
    title: str,
    time_label: str,
    value_label: str,
    at_risk_times: Sequence[float] | None,
    show_ci: bool,
) -> bytes:
    if not series:
        raise InvalidInput(_("nothing to plot: no curves given"), field="curves")
    risk_rows = list(dict.fromkeys(s.risk_label for s in series))
    # Everything at time 0 (e.g. a cohort infused today) still needs an axis of some width.
    t_max = max(max(float(s.timeline[-1]) for s in series), 1.0)
    requested = (
        at_risk_times
        if at_risk_times is not None
        else MaxNLocator(nbins=6, min_n_ticks=3).tick_values(0.0, t_max)
    )
    ticks: FloatArray = np.asarray(requested, dtype=np.float64)
    ticks = ticks[(ticks >= 0) & (ticks <= t_max)]

    table_height = 0.35 * (len(risk_rows) + 1)
    figure = Figure(figsize=(8.0, 4.8 + table_height), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 1, height_ratios=[4.8, table_height])
    axes = figure.add_subplot(grid[0])
    table = figure.add_subplot(grid[1], sharex=axes)
    colors = [f"C{i % 10}" for i in range(len(series))]
    row_color: dict[str, str] = {}
    for s, color in zip(series, colors, strict=True):
        row_color.setdefault(s.risk_label, color)
        x = np.concatenate(([0.0], s.timeline))
        axes.step(
            x,
            np.concatenate(([s.start], s.estimate)),
            where="post",
            color=color,
            label=s.label,
            linewidth=1.6,
        )
        if show_ci:
            axes.fill_between(
                x,
                np.concatenate(([s.start], s.ci_lower)),
                np.concatenate(([s.start], s.ci_upper)),
                step="post",
                color=color,
                alpha=0.15,
                linewidth=0,
            )
        if s.censored_at.shape[0]:
            axes.plot(
                s.censored_at,
                s.censored_value,
                linestyle="none",
                marker="|",
                markersize=6,
                color=color,
            )
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlim(0, t_max * 1.02)
    axes.set_ylabel(value_label)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small", frameon=False)
    axes.tick_params(labelbottom=False)

    first = {s.risk_label: s for s in reversed(series)}
    rows_y = [len(risk_rows) - row for row in range(len(risk_rows))]
    for label, y in zip(risk_rows, rows_y, strict=True):
        s = first[label]
        counts = number_at_risk(s.timeline, s.n_at_risk, ticks)
        for tick, count in zip(ticks, counts, strict=True):
            table.text(
                tick,
                y,
                str(int(count)),
                ha="center",
                va="center",
                fontsize="small",
                color=row_color[label],
            )
    # Row names as y tick labels: the layout engine then reserves room for them.
    table.set_yticks(rows_y, labels=risk_rows, fontsize="small")
    for tick_label, label in zip(table.get_yticklabels(), risk_rows, strict=True):
        tick_label.set_color(row_color[label])
    table.tick_params(axis="y", length=0, pad=14)
    table.set_ylim(0.4, len(risk_rows) + 0.9)
    table.set_xticks(ticks)
    table.set_xlabel(time_label)
    table.set_title(gettext("Number at risk"), fontsize="small", loc="left")
    for side in ("top", "right", "left"):
        table.spines[side].set_visible(False)

    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    # Text stays text in SVG (searchable, smaller, readable by screen readers on the web pages).
    with rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format=fmt, dpi=110, metadata=metadata)
    return buffer.getvalue()
