"""Scenario files: the bundled ones load, and a malformed one is refused naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cartflow.simulation.distributions import Fixed, Gamma, Triangular, UniformInt
from cartflow.simulation.scenario import (
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
)
from tests.simulation.builders import demo_dict


def test_bundled_scenarios_load() -> None:
    assert {"demo_network", "mmc_validation", "mgc_reference"} <= set(bundled_scenarios())
    for name in bundled_scenarios():
        load_scenario(name)


def test_demo_network_is_the_brief() -> None:
    sc = load_scenario("demo_network")
    names = " ".join(c.name for c in sc.centers)
    for center in ("NMRC of Hematology", "Morozov", "Rogachev", "Blokhin", "Radiology", "Petrov"):
        assert center in names
    assert {p.id for p in sc.products} == {
        "gemagenleycleucel",
        "tisagenlecleucel",
        "anti-bcma-academic",
    }
    petrov = next(c for c in sc.centers if c.id == "petrov")
    assert petrov.transit_days["nmrc-hem-gmp"] == 1
    academic = {"gemagenleycleucel", "anti-bcma-academic"}
    eligible = sum(r.per_year * r.eligible_fraction for r in sc.referrals if r.product in academic)
    assert 550 <= eligible <= 650  # about 600 a year at NMRC of Hematology


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="s.yaml")
    return info.value.message


def test_unknown_key_is_named() -> None:
    data = demo_dict()
    data["sites"][0]["devcies"] = 3
    assert _refusal(data) == "s.yaml: sites.0.devcies: Extra inputs are not permitted"


def test_bad_value_is_named() -> None:
    data = demo_dict()
    data["products"][1]["failure_probability"] = 1.5
    assert _refusal(data).startswith("s.yaml: products.1.failure_probability: ")
    data = demo_dict()
    data["products"][0]["device_days"] = {"kind": "uniform_int", "low": 14, "high": 10}
    assert "products.0.device_days.uniform_int" in _refusal(data)


def test_dangling_references_and_duplicates_are_named() -> None:
    data = demo_dict()
    data["referrals"][2]["product"] = "axi-cel"
    assert _refusal(data) == "s.yaml: referrals.2.product: unknown product 'axi-cel'"
    data = demo_dict()
    data["centers"][1]["id"] = data["centers"][0]["id"]
    assert _refusal(data) == "s.yaml: centers.1.id: duplicate id 'nmrc-hematology'"
    data = demo_dict()
    del data["centers"][5]["transit_days"]["nmrc-hem-gmp"]
    assert "centers.petrov.transit_days: no transit days to site 'nmrc-hem-gmp'" in _refusal(data)


def test_unreadable_files_are_refused_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsites: [\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken.yaml: not valid YAML at line \d+"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(scalar)


def test_a_plain_number_is_a_fixed_duration() -> None:
    data = demo_dict()
    data["products"][0]["device_days"] = 12
    sc = parse_scenario(data)
    assert sc.products[0].device_days == Fixed(value=12)


def test_with_devices_changes_one_site_only() -> None:
    sc = load_scenario("demo_network")
    changed = sc.with_devices("nmrc-hem-gmp", 30)
    assert [s.devices for s in changed.sites] == [30, sc.sites[1].devices]


@pytest.mark.parametrize(
    "dist",
    [UniformInt(low=10, high=14), Triangular(low=2, mode=3, high=7), Gamma(mean_days=12, cv=0.3)],
)
def test_distribution_moments_match_their_samples(dist: Any) -> None:
    x = dist.sample(np.random.default_rng(0), 200_000)
    assert x.mean() == pytest.approx(dist.mean, rel=0.01)
    assert x.var() == pytest.approx(dist.variance, rel=0.03)
