"""CAR-HEMATOTOX against the worked examples of clinical.md 1.6 and the score card's bands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.clinical.hematotox import HematotoxInput, HematotoxRisk, car_hematotox


def labs(plt: float, anc: float, hb: float, crp: float, ferritin: float) -> HematotoxInput:
    return HematotoxInput(
        platelets_10e9_per_l=plt,
        anc_per_ul=anc,
        hemoglobin_g_per_dl=hb,
        crp_mg_per_dl=crp,
        ferritin_ng_per_ml=ferritin,
    )


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


def test_maximum_score_is_7() -> None:
    result = car_hematotox(labs(10, 100, 6.0, 20.0, 5000))
    assert result.score == 7
    assert result.points == {"platelets": 2, "anc": 1, "hemoglobin": 1, "crp": 1, "ferritin": 2}


def test_two_points_is_the_high_risk_threshold() -> None:
    assert car_hematotox(labs(150, 1000, 11, 0.5, 300)).risk is HematotoxRisk.HIGH  # 1 + 1
    assert car_hematotox(labs(150, 3000, 11, 0.5, 300)).risk is HematotoxRisk.LOW  # 1


@pytest.mark.parametrize(("plt", "points"), [(176, 0), (175, 1), (75, 1), (74.9, 2)])
def test_platelet_band_edges_belong_to_the_closed_middle_band(plt: float, points: int) -> None:
    assert car_hematotox(labs(plt, 3000, 12, 0.5, 300)).points["platelets"] == points


@pytest.mark.parametrize(("ferritin", "points"), [(649, 0), (650, 1), (2000, 1), (2001, 2)])
def test_ferritin_band_edges(ferritin: float, points: int) -> None:
    assert car_hematotox(labs(200, 3000, 12, 0.5, ferritin)).points["ferritin"] == points


def test_single_cutoffs_score_only_strictly_beyond() -> None:
    on_the_line = car_hematotox(labs(200, 1200, 9.0, 3.0, 300))
    assert on_the_line.score == 0


@given(
    st.floats(0, 500),
    st.floats(0, 10_000),
    st.floats(3, 18),
    st.floats(0, 40),
    st.floats(0, 1e4),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_worse_labs_never_lower_the_score(
    plt: float, anc: float, hb: float, crp: float, ferritin: float, drop: float, rise: float
) -> None:
    base = car_hematotox(labs(plt, anc, hb, crp, ferritin)).score
    worse = car_hematotox(
        labs(plt * drop, anc * drop, hb * drop, crp * (1 + rise), ferritin * (1 + rise))
    ).score
    assert worse >= base
