"""Capacity sweep: parsing, the monotone curve, and "how many devices" answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartflow.errors import InvalidInput
from cartflow.simulation.metrics import Estimate
from cartflow.simulation.plot import plot_sweep
from cartflow.simulation.runner import spec_from
from cartflow.simulation.scenario import load_scenario
from cartflow.simulation.sweep import (
    SweepPoint,
    SweepResult,
    devices_needed,
    parse_sweep,
    run_sweep,
)


def test_parse_sweep_forms() -> None:
    assert parse_sweep("devices=12:15").devices == [12, 13, 14, 15]
    assert parse_sweep("devices=12:30:6").devices == [12, 18, 24, 30]
    request = parse_sweep("devices@novartis-abroad=2:4")
    assert (request.site, request.devices) == ("novartis-abroad", [2, 3, 4])
    for bad in ("chairs=1:3", "devices=9:3", "devices=0:3", "devices=1:500", "devices=a:b"):
        with pytest.raises(InvalidInput, match="--sweep"):
            parse_sweep(bad)


def _point(devices: int, mean: float, half: float) -> SweepPoint:
    return SweepPoint(devices, {"wait_p90": Estimate(mean, mean - half, mean + half, 5)})


def test_devices_needed_uses_the_first_count_that_stays_under_target() -> None:
    # A noisy dip at 20 must not count: 21 is above target again.
    result = SweepResult(
        "site",
        [
            _point(19, 30.0, 3.0),
            _point(20, 6.0, 2.0),
            _point(21, 8.0, 2.0),
            _point(22, 5.0, 2.5),
            _point(23, 3.0, 1.0),
            _point(24, 1.0, 0.5),
        ],
    )
    needed = devices_needed(result, 7.0)
    assert (needed.by_mean, needed.by_upper_ci) == (22, 23)
    none = devices_needed(result, 0.5)
    assert (none.by_mean, none.by_upper_ci) == (None, None)


def test_sweep_on_the_reference_queue_matches_the_published_table(tmp_path: Path) -> None:
    # sched §4: simulated mean wait 3.68 d at c=21, 1.47 at c=22, 0.74 at c=23, 0.42 at c=24.
    spec = spec_from(load_scenario("mgc_reference"), years=10, replications=6)
    result = run_sweep(spec, parse_sweep("devices=21:24"))
    published = {21: 3.68, 22: 1.47, 23: 0.74, 24: 0.42}
    for point in result.points:
        est = point.summary["wait_mean"]
        assert est.low <= published[point.devices] <= est.high, point.devices
    means = [p.summary["wait_mean"].mean for p in result.points]
    assert means == sorted(means, reverse=True)
    # Published P90: 10.1 d at c=21, 4.6 d at c=22, so a 7-day target needs 22 devices.
    needed = devices_needed(result, 7.0)
    assert needed.by_mean == 22
    png = plot_sweep(result, tmp_path / "sweep.png", title="reference", needed=needed)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_sweep_site_is_refused() -> None:
    spec = spec_from(load_scenario("mmc_validation"), years=1, replications=2)
    with pytest.raises(InvalidInput, match="unknown site 'nowhere'"):
        run_sweep(spec, parse_sweep("devices@nowhere=2:3"))
