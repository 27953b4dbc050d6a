"""Typed builders for small synthetic scenarios used across the simulation tests."""

from __future__ import annotations

from typing import Any

from cartflow.simulation.scenario import Scenario, parse_scenario


def single_queue(
    *,
    devices: int,
    per_year: float,
    device_days: Any,
    hazard: float = 0.0,
    years: float = 20,
    warmup_years: float = 1,
    replications: int = 10,
    seed: int = 1,
    classes: list[tuple[str, int, float]] | None = None,
) -> Scenario:
    """One center, one site, one product: an M/G/c queue in front of the devices.

    With `classes` (id, priority rank, share of referrals), the demand is split into indications
    that differ only in clinical rank.
    """
    classes = classes or [("any", 1, 1.0)]
    return parse_scenario(
        {
            "name": "single queue",
            "years": years,
            "warmup_years": warmup_years,
            "replications": replications,
            "seed": seed,
            "indications": [
                {"id": cid, "priority": rank, "dropout_hazard_per_day": hazard}
                for cid, rank, _ in classes
            ],
            "products": [
                {
                    "id": "product",
                    "site": "site",
                    "device_days": device_days,
                    "lymphodepletion_days": 0,
                    "stay_days": 0,
                }
            ],
            "sites": [{"id": "site", "devices": devices}],
            "centers": [{"id": "center", "apheresis_lead_days": 0, "transit_days": {"site": 0}}],
            "referrals": [
                {
                    "center": "center",
                    "indication": cid,
                    "product": "product",
                    "per_year": per_year * share,
                }
                for cid, _, share in classes
            ],
        }
    )


def demo_dict() -> dict[str, Any]:
    """The bundled demo scenario as a plain mapping, for tests that break one field."""
    import yaml

    from cartflow.simulation.scenario import bundled_scenarios

    data = yaml.safe_load(bundled_scenarios()["demo_network"].read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
