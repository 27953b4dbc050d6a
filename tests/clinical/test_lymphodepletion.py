"""Lymphodepletion plans: Mosteller BSA, Cockcroft-Gault, fludarabine renal rule, dated doses."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.clinical.lymphodepletion import (
    REGIMENS,
    Drug,
    LdPlanRefused,
    RenalFunction,
    assess_renal_function,
    cockcroft_gault_crcl,
    mosteller_bsa,
    plan_lymphodepletion,
)

INFUSION = dt.date(2025, 6, 16)


@pytest.mark.parametrize(
    ("height", "weight", "bsa"),
    [(180, 80, 2.0), (60, 60, 1.0), (150, 40, math.sqrt(6000 / 3600))],
)
def test_mosteller(height: float, weight: float, bsa: float) -> None:
    # Independent arithmetic: sqrt(h * w / 3600) (180 x 80 = 14400 -> 2.0 m2).
    assert mosteller_bsa(height, weight) == pytest.approx(bsa)


def test_mosteller_refuses_swapped_units() -> None:
    with pytest.raises(ValueError, match="height"):
        mosteller_bsa(1.8, 80)  # metres, not centimetres


def test_cockcroft_gault() -> None:
    # (140 - 60) x 72 / (72 x 1.0) = 80 mL/min; x 0.85 for a woman = 68.
    assert cockcroft_gault_crcl(
        age_years=60, weight_kg=72, serum_creatinine_mg_dl=1.0, female=False
    ) == pytest.approx(80.0)
    assert cockcroft_gault_crcl(
        age_years=60, weight_kg=72, serum_creatinine_mg_dl=1.0, female=True
    ) == pytest.approx(68.0)


@pytest.mark.parametrize(
    ("crcl", "function", "flag"),
    [
        (90, RenalFunction.NORMAL, False),
        (70.1, RenalFunction.NORMAL, False),
        (70, RenalFunction.REDUCED, True),
        (30, RenalFunction.REDUCED, True),
        (29.9, RenalFunction.SEVERE, True),
    ],
)
def test_renal_thresholds_of_the_fludarabine_label(
    crcl: float, function: RenalFunction, flag: bool
) -> None:
    renal = assess_renal_function(crcl)
    assert (renal.function, renal.reduced_renal_function) == (function, flag)


def test_axi_cel_plan_with_normal_renal_function() -> None:
    plan = plan_lymphodepletion(
        REGIMENS["axi-cel"], infusion_date=INFUSION, height_cm=180, weight_kg=80, crcl_ml_min=95
    )
    assert plan.bsa_m2 == pytest.approx(2.0)
    flu = [d for d in plan.doses if d.drug is Drug.FLUDARABINE]
    cy = [d for d in plan.doses if d.drug is Drug.CYCLOPHOSPHAMIDE]
    assert [d.study_day for d in flu] == [-5, -4, -3]
    assert [d.on for d in flu] == [dt.date(2025, 6, 11), dt.date(2025, 6, 12), dt.date(2025, 6, 13)]
    assert {d.dose_mg for d in flu} == {60.0}  # 30 mg/m2 x 2.0 m2
    assert {d.dose_mg for d in cy} == {1000.0}  # 500 mg/m2 x 2.0 m2
    assert not any(d.adjusted for d in plan.doses)


def test_reduced_renal_function_cuts_fludarabine_by_20_percent_only() -> None:
    plan = plan_lymphodepletion(
        REGIMENS["axi-cel"], infusion_date=INFUSION, height_cm=180, weight_kg=80, crcl_ml_min=55
    )
    assert plan.renal.reduced_renal_function
    assert {d.dose_mg for d in plan.doses if d.drug is Drug.FLUDARABINE} == {48.0}
    assert {d.dose_mg for d in plan.doses if d.drug is Drug.CYCLOPHOSPHAMIDE} == {1000.0}


def test_severe_renal_impairment_needs_a_clinician_factor() -> None:
    with pytest.raises(LdPlanRefused) as refused:
        plan_lymphodepletion(
            REGIMENS["ide-cel"], infusion_date=INFUSION, height_cm=170, weight_kg=70, crcl_ml_min=25
        )
    assert refused.value.code == "LD-RENAL-SEVERE"
    plan = plan_lymphodepletion(
        REGIMENS["ide-cel"],
        infusion_date=INFUSION,
        height_cm=170,
        weight_kg=70,
        crcl_ml_min=25,
        fludarabine_dose_factor=0.5,
    )
    assert plan.fludarabine_dose_factor == 0.5
    assert {d.dose_mg_per_m2 for d in plan.doses if d.drug is Drug.FLUDARABINE} == {15.0}


def test_brexu_cel_all_gives_cyclophosphamide_once_on_day_minus_2() -> None:
    plan = plan_lymphodepletion(
        REGIMENS["brexu-cel-all"],
        infusion_date=INFUSION,
        height_cm=160,
        weight_kg=60,
        crcl_ml_min=100,
    )
    cy = [d for d in plan.doses if d.drug is Drug.CYCLOPHOSPHAMIDE]
    assert [(d.study_day, d.dose_mg_per_m2) for d in cy] == [(-2, 900.0)]


@pytest.mark.parametrize("code", sorted(REGIMENS))
def test_every_regimen_ends_before_infusion(code: str) -> None:
    regimen = REGIMENS[code]
    assert max((*regimen.fludarabine_days, *regimen.cyclophosphamide_days)) < 0


@given(st.floats(0, 200), st.floats(0, 200))
def test_lower_clearance_never_raises_the_fludarabine_dose(a: float, b: float) -> None:
    low, high = sorted((a, b))

    def flu_mg(crcl: float) -> float:
        factor = 0.5 if crcl < 30 else None  # a clinician's choice below 30
        plan = plan_lymphodepletion(
            REGIMENS["liso-cel"],
            infusion_date=INFUSION,
            height_cm=170,
            weight_kg=70,
            crcl_ml_min=crcl,
            fludarabine_dose_factor=factor,
        )
        return sum(d.dose_mg for d in plan.doses if d.drug is Drug.FLUDARABINE)

    assert flu_mg(low) <= flu_mg(high)
