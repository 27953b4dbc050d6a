"""Capacity sweep: the same replications at each device count of one site, and the answer to
"how many devices keep the 90th-percentile wait under N days".

Every point reuses the same seeds, so the same patients meet more or fewer devices (common random
numbers). The curve is then much smoother than independent runs would make it. The answer is the
smallest device count from which every larger count in the sweep also meets the target. The
"point" answer uses the mean over replications. The "95%" answer uses the upper confidence bound,
so a noisy dip below the target does not count.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.simulation.metrics import Estimate
from cartflow.simulation.runner import Progress, RunSpec, run_many

_SWEEP = re.compile(r"^devices(?:@(?P<site>[\w.-]+))?=(?P<lo>\d+):(?P<hi>\d+)(?::(?P<step>\d+))?$")
MAX_POINTS = 60


@dataclass(frozen=True)
class SweepRequest:
    site: str | None  # None: the first site of the scenario
    devices: list[int]


def parse_sweep(text: str) -> SweepRequest:
    """Parse `devices=12:30`, `devices=12:30:2` or `devices@SITE=12:30` (both ends included)."""
    m = _SWEEP.match(text.strip())
    if m is None:
        raise InvalidInput(
            _(
                "--sweep: expected devices=LOW:HIGH[:STEP] or devices@SITE=LOW:HIGH, got {text}",
                text=repr(text),
            ),
            field="sweep",
        )
    lo, hi, step = int(m["lo"]), int(m["hi"]), int(m["step"] or 1)
    if lo < 1 or hi < lo or step < 1:
        raise InvalidInput(_("--sweep: need 1 <= LOW <= HIGH and STEP >= 1"), field="sweep")
    devices = list(range(lo, hi + 1, step))
    if len(devices) > MAX_POINTS:
        raise InvalidInput(_("--sweep: at most {limit} points", limit=MAX_POINTS), field="sweep")
    return SweepRequest(site=m["site"], devices=devices)


@dataclass(frozen=True)
class SweepPoint:
    devices: int
    summary: dict[str, Estimate]


@dataclass(frozen=True)
class SweepResult:
    site: str
    points: list[SweepPoint]


def run_sweep(
    spec: RunSpec, request: SweepRequest, *, jobs: int = 1, progress: Progress | None = None
) -> SweepResult:
    sites = [s.id for s in spec.scenario.sites]
    site = request.site or sites[0]
    if site not in sites:
        raise InvalidInput(
            _(
                "--sweep: unknown site {site} ({choices})",
                site=repr(site),
                choices=", ".join(sites),
            ),
            field="sweep",
        )
    specs = [
        RunSpec(
            scenario=spec.scenario.with_devices(site, c),
            policy=spec.policy,
            years=spec.years,
            warmup_years=spec.warmup_years,
            replications=spec.replications,
            seed=spec.seed,
        )
        for c in request.devices
    ]
    results = run_many(specs, jobs=jobs, progress=progress)
    return SweepResult(
        site=site,
        points=[SweepPoint(c, r.summary) for c, r in zip(request.devices, results, strict=True)],
    )


@dataclass(frozen=True)
class DevicesNeeded:
    metric: str
    target: float
    by_mean: int | None  # None: no device count in the sweep meets the target
    by_upper_ci: int | None


def devices_needed(
    result: SweepResult, target: float, *, metric: str = "wait_p90"
) -> DevicesNeeded:
    """Smallest device count from which the metric stays below `target` for all larger counts."""

    def first_stable(value: str) -> int | None:
        answer: int | None = None
        for point in sorted(result.points, key=lambda p: p.devices, reverse=True):
            est = point.summary.get(metric)
            x = math.nan if est is None else getattr(est, value)
            if math.isnan(x) or x >= target:
                break
            answer = point.devices
        return answer

    return DevicesNeeded(metric, target, first_stable("mean"), first_stable("high"))
