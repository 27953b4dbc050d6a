"""Response helpers against the definitions of Lugano 2014, IMWG 2016 and B-ALL (clinical.md 2)."""

from __future__ import annotations

from typing import Any

import pytest

from cartflow.clinical.response import (
    BallResponse,
    DeathCause,
    ImwgResponse,
    LuganoResponse,
    MyelomaAssessment,
    ResponseRuleNotEncoded,
    UptakeChange,
    ball_relapsed,
    ball_response,
    imwg_response,
    is_non_relapse_mortality,
    lugano_ct_response,
    lugano_lesion_progressed,
    lugano_pet_response,
    mrd_negative_by_flow,
)


@pytest.mark.parametrize(
    ("deauville", "uptake", "expected"),
    [
        (1, UptakeChange.REDUCED, LuganoResponse.COMPLETE),
        (3, UptakeChange.UNCHANGED, LuganoResponse.COMPLETE),  # <= liver, residual mass allowed
        (4, UptakeChange.REDUCED, LuganoResponse.PARTIAL),
        (5, UptakeChange.UNCHANGED, LuganoResponse.STABLE),
        (4, UptakeChange.INCREASED, LuganoResponse.PROGRESSIVE),
    ],
)
def test_lugano_pet(deauville: int, uptake: UptakeChange, expected: LuganoResponse) -> None:
    result = lugano_pet_response(
        deauville=deauville, uptake_vs_baseline=uptake, new_fdg_avid_lesions=False
    )
    assert result is expected


def test_lugano_pet_new_lesion_or_marrow_is_progression_whatever_the_score() -> None:
    assert (
        lugano_pet_response(
            deauville=2, uptake_vs_baseline=UptakeChange.REDUCED, new_fdg_avid_lesions=True
        )
        is LuganoResponse.PROGRESSIVE
    )
    assert (
        lugano_pet_response(
            deauville=2,
            uptake_vs_baseline=UptakeChange.REDUCED,
            new_fdg_avid_lesions=False,
            new_or_recurrent_marrow_involvement=True,
        )
        is LuganoResponse.PROGRESSIVE
    )


def test_lugano_pet_residual_avid_marrow_is_not_complete() -> None:
    result = lugano_pet_response(
        deauville=2,
        uptake_vs_baseline=UptakeChange.REDUCED,
        new_fdg_avid_lesions=False,
        residual_fdg_avid_marrow=True,
    )
    assert result is LuganoResponse.PARTIAL


@pytest.mark.parametrize(
    ("now", "nadir", "progressed"),
    [
        ((2.0, 1.5), (1.2, 1.0), True),  # <= 2 cm lesion: +0.8 cm LDi, PPD 1.2 -> 3.0
        ((1.5, 1.5), (1.0, 1.0), False),  # LDi not > 1.5 cm
        ((3.4, 2.0), (3.0, 1.5), False),  # > 2 cm lesion: +0.4/+0.5 cm is below the 1.0 cm step
        ((4.0, 2.5), (3.0, 1.5), True),  # +1.0 cm and PPD 4.5 -> 10.0
    ],
)
def test_lugano_single_lesion_progression(
    now: tuple[float, float], nadir: tuple[float, float], progressed: bool
) -> None:
    assert (
        lugano_lesion_progressed(
            ldi_cm=now[0], sdi_cm=now[1], nadir_ldi_cm=nadir[0], nadir_sdi_cm=nadir[1]
        )
        is progressed
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"target_nodes_all_le_1_5_cm": True}, LuganoResponse.COMPLETE),
        ({"current_spd_cm2": 10.0}, LuganoResponse.PARTIAL),  # -50%
        ({"current_spd_cm2": 10.1}, LuganoResponse.STABLE),
        ({"new_lesions": True, "target_nodes_all_le_1_5_cm": True}, LuganoResponse.PROGRESSIVE),
    ],
)
def test_lugano_ct(changes: dict[str, Any], expected: LuganoResponse) -> None:
    fields: dict[str, Any] = {
        "baseline_spd_cm2": 20.0,
        "current_spd_cm2": 18.0,
        "target_nodes_all_le_1_5_cm": False,
        "extralymphatic_disease_absent": True,
        "marrow_normal": True,
        "new_lesions": False,
        "any_lesion_progressed": False,
    }
    assert lugano_ct_response(**(fields | changes)) is expected


def mm(**fields: Any) -> MyelomaAssessment:
    base: dict[str, Any] = {"serum_m_baseline": 3.0, "serum_m_nadir": 3.0, "serum_m_current": 3.0}
    return MyelomaAssessment.model_validate(base | fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "serum_m_current": 0.0,
                "immunofixation_negative": True,
                "marrow_plasma_cells_pct": 2.0,
                "flc_ratio_normal": True,
                "clonal_marrow_plasma_cells_absent": True,
            },
            ImwgResponse.STRINGENT_COMPLETE,
        ),
        (
            {"serum_m_current": 0.0, "immunofixation_negative": True, "marrow_plasma_cells_pct": 3},
            ImwgResponse.COMPLETE,
        ),
        ({"serum_m_current": 0.0, "immunofixation_negative": True}, ImwgResponse.VERY_GOOD_PARTIAL),
        ({"serum_m_current": 0.3}, ImwgResponse.VERY_GOOD_PARTIAL),  # -90%
        ({"serum_m_current": 1.5}, ImwgResponse.PARTIAL),  # -50%
        ({"serum_m_current": 2.25}, ImwgResponse.MINIMAL),  # -25%
        ({"serum_m_current": 2.4}, ImwgResponse.STABLE),  # -20%
        ({"serum_m_nadir": 1.0, "serum_m_current": 1.5}, ImwgResponse.PROGRESSIVE),  # +50%, +0.5
        ({"serum_m_nadir": 1.0, "serum_m_current": 1.4}, ImwgResponse.PARTIAL),  # +0.4 g/dL only
        ({"serum_m_nadir": 6.0, "serum_m_current": 7.6}, ImwgResponse.PROGRESSIVE),
        ({"new_bone_lesions_or_plasmacytomas": True, "serum_m_current": 0.1},
         ImwgResponse.PROGRESSIVE),
    ],
)  # fmt: skip
def test_imwg(fields: dict[str, Any], expected: ImwgResponse) -> None:
    assert imwg_response(mm(**fields)) is expected


def test_imwg_progression_needs_both_25_percent_and_the_absolute_rise() -> None:
    high = {"serum_m_baseline": 8.0, "serum_m_nadir": 6.0}
    assert imwg_response(mm(**high, serum_m_current=7.4)) is not ImwgResponse.PROGRESSIVE  # +23%
    assert imwg_response(mm(**high, serum_m_current=7.5)) is ImwgResponse.PROGRESSIVE
    low = {"serum_m_nadir": 0.4}
    assert imwg_response(mm(**low, serum_m_current=0.8)) is not ImwgResponse.PROGRESSIVE  # +0.4
    assert imwg_response(mm(**low, serum_m_current=0.9)) is ImwgResponse.PROGRESSIVE


def test_imwg_partial_response_needs_the_urine_criterion_too() -> None:
    fields = {"serum_m_current": 1.4, "urine_m_baseline": 1000.0, "urine_m_current": 400.0}
    assert imwg_response(mm(**fields)) is ImwgResponse.MINIMAL  # urine only -60%
    fields["urine_m_current"] = 150.0  # < 200 mg/24 h
    assert imwg_response(mm(**fields)) is ImwgResponse.PARTIAL


def test_imwg_flc_only_disease_is_refused() -> None:
    with pytest.raises(ResponseRuleNotEncoded):
        imwg_response(MyelomaAssessment(serum_m_baseline=0.4, serum_m_current=0.1))


def ball(**changes: Any) -> BallResponse:
    fields: dict[str, Any] = {
        "marrow_blasts_pct": 1.0,
        "circulating_blasts": False,
        "extramedullary_disease": False,
        "anc_10e9_per_l": 1.5,
        "platelets_10e9_per_l": 150.0,
        "transfusion_independent": True,
    }
    return ball_response(**(fields | changes))


def test_ball_response() -> None:
    assert ball() is BallResponse.COMPLETE
    assert ball(anc_10e9_per_l=0.8) is BallResponse.COMPLETE_INCOMPLETE_RECOVERY
    assert ball(platelets_10e9_per_l=99) is BallResponse.COMPLETE_INCOMPLETE_RECOVERY
    assert ball(marrow_blasts_pct=5.0) is BallResponse.NO_RESPONSE
    assert ball(extramedullary_disease=True) is BallResponse.NO_RESPONSE


def test_flow_mrd_threshold_is_0_01_percent() -> None:
    assert mrd_negative_by_flow(0.009)
    assert not mrd_negative_by_flow(0.01)


def test_ball_relapse() -> None:
    assert ball_relapsed(
        circulating_blasts=False, marrow_blasts_pct=6, extramedullary_disease=False
    )
    assert not ball_relapsed(
        circulating_blasts=False, marrow_blasts_pct=2, extramedullary_disease=False
    )


def test_only_disease_deaths_are_not_nrm() -> None:
    assert [c for c in DeathCause if not is_non_relapse_mortality(c)] == [DeathCause.DISEASE]
