"""CAR-HEMATOTOX (Rejeski, Blood 2021, Fig. 1): the score card's bands, every cut-off and its
boundary, the risk split, and monotonicity. The cut-offs and boundary rule are those of the Rejeski
group's `calculate_hematotox()` (see the module docstring); the worked examples are the derived
ones of clinical.md 1.6 (the paper prints none with numbers)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cartflow.clinical.hematotox import (
    HematotoxInput,
    HematotoxRisk,
    anc_points,
    car_hematotox,
    crp_points,
    ferritin_points,
    hemoglobin_points,
    platelet_points,
)

NORMAL = {"plt": 250.0, "anc": 3000.0, "hb": 13.0, "crp": 0.5, "ferritin": 300.0}


def labs(plt: float, anc: float, hb: float, crp: float, ferritin: float) -> HematotoxInput:
    return HematotoxInput(
        platelets_10e9_per_l=plt,
        anc_per_ul=anc,
        hemoglobin_g_per_dl=hb,
        crp_mg_per_dl=crp,
        ferritin_ng_per_ml=ferritin,
    )


def normal_but(**changed: float) -> HematotoxInput:
    return labs(**{**NORMAL, **changed})


@pytest.mark.parametrize(
    ("values", "score", "risk"),
    [
        ((60, 1000, 8.5, 1.0, 700), 5, HematotoxRisk.HIGH),  # 2+1+1+0+1
        ((200, 3000, 12, 0.5, 300), 0, HematotoxRisk.LOW),
        ((150, 2000, 11, 0.8, 500), 1, HematotoxRisk.LOW),
    ],
)
def test_worked_examples(
    values: tuple[float, float, float, float, float], score: int, risk: HematotoxRisk
) -> None:
    result = car_hematotox(labs(*values))
    assert (result.score, result.risk) == (score, risk)


def test_normal_labs_score_0_and_the_worst_score_7() -> None:
    assert car_hematotox(normal_but()).points == dict.fromkeys(
        ("platelets", "anc", "hemoglobin", "crp", "ferritin"), 0
    )
    worst = car_hematotox(labs(10, 100, 6.0, 20.0, 5000))
    assert worst.score == 7
    assert worst.points == {"platelets": 2, "anc": 1, "hemoglobin": 1, "crp": 1, "ferritin": 2}


def test_two_points_is_the_high_risk_threshold() -> None:
    assert car_hematotox(normal_but(plt=150, anc=1000)).risk is HematotoxRisk.HIGH  # 1 + 1
    assert car_hematotox(normal_but(plt=150)).risk is HematotoxRisk.LOW  # 1
    assert car_hematotox(normal_but(plt=50)).risk is HematotoxRisk.HIGH  # 2 from one marker
    assert car_hematotox(normal_but(ferritin=2500)).risk is HematotoxRisk.HIGH


@pytest.mark.parametrize(
    ("plt", "points"), [(400, 0), (175.1, 0), (175, 1), (120, 1), (75, 1), (74.9, 2), (0, 2)]
)
def test_platelet_bands_include_their_edges_in_the_middle_band(plt: float, points: int) -> None:
    assert platelet_points(plt) == points
    assert car_hematotox(normal_but(plt=plt)).points["platelets"] == points


@pytest.mark.parametrize(
    ("ferritin", "points"),
    [(0, 0), (649.9, 0), (650, 1), (1200, 1), (2000, 1), (2000.1, 2), (40_000, 2)],
)
def test_ferritin_bands_include_their_edges_in_the_middle_band(
    ferritin: float, points: int
) -> None:
    assert ferritin_points(ferritin) == points
    assert car_hematotox(normal_but(ferritin=ferritin)).points["ferritin"] == points


@pytest.mark.parametrize(("anc", "points"), [(1200.1, 0), (1200, 1), (1199, 1), (0, 1)])
def test_anc_on_the_cutoff_scores(anc: float, points: int) -> None:
    # Rejeski group's code: `if (anc > 1.2) 0 else 1` (ANC in 10^9/L).
    assert anc_points(anc) == points
    assert car_hematotox(normal_but(anc=anc)).points["anc"] == points


@pytest.mark.parametrize(("hb", "points"), [(9.1, 0), (9.0, 1), (8.9, 1)])
def test_hemoglobin_on_the_cutoff_scores(hb: float, points: int) -> None:
    assert hemoglobin_points(hb) == points
    assert car_hematotox(normal_but(hb=hb)).points["hemoglobin"] == points


@pytest.mark.parametrize(("crp", "points"), [(2.99, 0), (3.0, 1), (3.01, 1), (25, 1)])
def test_crp_on_the_cutoff_scores(crp: float, points: int) -> None:
    assert crp_points(crp) == points
    assert car_hematotox(normal_but(crp=crp)).points["crp"] == points


def test_every_single_cutoff_value_together_is_high_risk() -> None:
    on_the_lines = car_hematotox(normal_but(anc=1200, hb=9.0, crp=3.0))
    assert on_the_lines.points["anc"] + on_the_lines.points["hemoglobin"] == 2
    assert (on_the_lines.score, on_the_lines.risk) == (3, HematotoxRisk.HIGH)


@pytest.mark.parametrize(
    "bad",
    [
        {"platelets_10e9_per_l": -1.0},
        {"anc_per_ul": math.nan},
        {"ferritin_ng_per_ml": math.inf},
        {"crp_mg_per_l": 1.0},  # unknown field: CRP is taken in mg/dL only
    ],
)
def test_malformed_labs_are_refused(bad: dict[str, float]) -> None:
    fields = {
        "platelets_10e9_per_l": 200.0,
        "anc_per_ul": 3000.0,
        "hemoglobin_g_per_dl": 12.0,
        "crp_mg_per_dl": 0.5,
        "ferritin_ng_per_ml": 300.0,
    }
    with pytest.raises(ValidationError):
        HematotoxInput.model_validate({**fields, **bad})


_COUNT = st.floats(0, 1e5, allow_nan=False)


@given(_COUNT, _COUNT, _COUNT, _COUNT, _COUNT, _COUNT, _COUNT, _COUNT, _COUNT, _COUNT)
def test_worse_labs_never_lower_the_score(
    plt: float,
    plt2: float,
    anc: float,
    anc2: float,
    hb: float,
    hb2: float,
    crp: float,
    crp2: float,
    ferritin: float,
    ferritin2: float,
) -> None:
    # Worse = lower platelets, ANC and haemoglobin; higher CRP and ferritin; each independently.
    base = labs(
        max(plt, plt2), max(anc, anc2), max(hb, hb2), min(crp, crp2), min(ferritin, ferritin2)
    )
    worse = labs(
        min(plt, plt2), min(anc, anc2), min(hb, hb2), max(crp, crp2), max(ferritin, ferritin2)
    )
    base_result, worse_result = car_hematotox(base), car_hematotox(worse)
    assert worse_result.score >= base_result.score
    assert all(worse_result.points[k] >= v for k, v in base_result.points.items())
    assert base_result.risk is HematotoxRisk.LOW or worse_result.risk is HematotoxRisk.HIGH
