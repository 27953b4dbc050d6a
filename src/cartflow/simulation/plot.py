"""The capacity-sweep chart (PNG): waits against device count, then patients infused and lost;
captions in the current language.

Uses matplotlib's object API with the Agg canvas, so it sets no global state and needs no display.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cartflow.i18n import gettext
from cartflow.simulation.sweep import DevicesNeeded, SweepResult


def _series(result: SweepResult, metric: str) -> tuple[list[float], list[float], list[float]]:
    mean, low, high = [], [], []
    for point in result.points:
        est = point.summary[metric]
        mean.append(est.mean)
        low.append(est.mean - est.low)
        high.append(est.high - est.mean)
    return mean, low, high


def plot_sweep(
    result: SweepResult, path: Path, *, title: str, needed: DevicesNeeded | None = None
) -> Path:
    devices = [p.devices for p in result.points]
    fig = Figure(figsize=(9, 7), dpi=110)
    FigureCanvasAgg(fig)
    ax_wait, ax_flow = fig.subplots(2, 1, sharex=True)
    for metric, label in (
        ("wait_p90", gettext("90th percentile")),
        ("wait_mean", gettext("mean")),
    ):
        mean, lo, hi = _series(result, metric)
        ax_wait.errorbar(devices, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)
    if needed is not None:
        ax_wait.axhline(
            needed.target,
            color="grey",
            linestyle="--",
            label=gettext("target {days} d", days=f"{needed.target:g}"),
        )
    ax_wait.set_ylabel(gettext("wait for a slot (days)"))
    ax_wait.set_yscale("symlog", linthresh=1.0)
    ax_wait.set_ylim(bottom=0.0)
    ax_wait.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_wait.legend()
    ax_wait.grid(alpha=0.3)
    for metric, label in (
        ("infused_per_year", gettext("infused per year")),
        ("dropouts_per_year", gettext("lost before infusion per year")),
    ):
        mean, lo, hi = _series(result, metric)
        ax_flow.errorbar(devices, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)
    ax_flow.set_xlabel(gettext("devices at {site}", site=result.site))
    ax_flow.set_ylabel(gettext("patients per year"))
    ax_flow.legend()
    ax_flow.grid(alpha=0.3)
    fig.suptitle(title + "\n" + gettext("(mean and 95% CI over replications)"))
    fig.tight_layout()
    fig.savefig(path)
    return path
