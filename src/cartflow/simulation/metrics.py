"""Per-replication measures and their 95% confidence intervals across replications.

Each replication yields one value per measure (its mean wait, its 90th-percentile wait, ...), and
the interval is the Student t interval over those independent values (the method of independent
replications, Law, Simulation Modeling and Analysis, 5th ed., section 9.4.1), with its lower end
clipped at zero because no measure here can be negative. Percentiles within
a replication use numpy's default linear interpolation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cartflow.simulation.network import Network
from cartflow.simulation.tally import STAGES, RawResult

COUNTS = ("referred", "ineligible", "infused", "dropped", "failed", "in_system")


def replication_metrics(net: Network, raw: RawResult) -> dict[str, float]:
    """The measures of one replication, keyed by a stable name (see docs/simulation.md)."""
    years = net.window_years
    days = net.horizon - net.warmup
    waits = np.concatenate([np.asarray(w, dtype=np.float64) for w in raw.waits])
    v2v = np.asarray(raw.v2v)
    nan = math.nan
    n_drop = len(raw.drop_stage)
    outcomes = n_drop + len(raw.v2v) + raw.window_failed
    m: dict[str, float] = {
        "products_per_year": raw.released / years,
        "runs_per_year": raw.runs / years,
        "infused_per_year": len(raw.v2v) / years,
        "dropouts_per_year": n_drop / years,
        "dropout_share": n_drop / outcomes if outcomes else nan,
        "failed_per_year": raw.window_failed / years,
        "wait_mean": float(waits.mean()) if waits.size else nan,
        "wait_p90": float(np.percentile(waits, 90)) if waits.size else nan,
        "v2v_median": float(np.median(v2v)) if v2v.size else nan,
    }
    stage_counts = np.bincount(np.asarray(raw.drop_stage, dtype=np.int64), minlength=len(STAGES))
    for i, stage in enumerate(STAGES):
        m[f"dropouts_per_year[{stage}]"] = float(stage_counts[i]) / years
    drop_ind = np.asarray(raw.drop_indication, dtype=np.int64)
    for i, ind in enumerate(net.indication_ids):
        mine = raw.waits[i]
        m[f"wait_mean[{ind}]"] = float(np.mean(mine)) if mine else nan
        m[f"dropouts_per_year[{ind}]"] = float(np.count_nonzero(drop_ind == i)) / years
    for s, site in enumerate(net.site_ids):
        m[f"utilisation.devices[{site}]"] = raw.device_days[s] / (net.site_devices[s] * days)
    for c, center in enumerate(net.center_ids):
        m[f"infused_per_year[{center}]"] = raw.infused_by_center[c] / years
        chairs = net.center_chairs[c]
        if chairs:
            m[f"utilisation.chairs[{center}]"] = raw.chair_days[c] / (chairs * days)
        beds = net.center_beds[c]
        if beds:
            m[f"utilisation.beds[{center}]"] = raw.bed_days[c] / (beds * days)
    for name in COUNTS:
        m[f"count.{name}"] = float(getattr(raw, name))
    return m


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, float | int | None]:
        def clean(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 6)

        return {
            "mean": clean(self.mean),
            "ci95_low": clean(self.low),
            "ci95_high": clean(self.high),
            "n": self.n,
        }


SHARES = ("utilisation.", "dropout_share")


def estimate(values: list[float], *, share: bool = False) -> Estimate:
    """Mean and 95% Student t interval of replication values, NaNs (no observation) left out.

    A share (utilisation, dropout share) also has its interval clipped at 1.
    """
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    # Every measure here is a count, a rate, a duration or a share, so none can be negative.
    high = min(1.0, mean + half) if share else mean + half
    return Estimate(mean, max(0.0, mean - half), high, int(x.size))


def summarise(per_replication: list[dict[str, float]]) -> dict[str, Estimate]:
    names: list[str] = []
    for rep in per_replication:
        names.extend(k for k in rep if k not in names)
    return {
        k: estimate([rep.get(k, math.nan) for rep in per_replication], share=k.startswith(SHARES))
        for k in names
    }
