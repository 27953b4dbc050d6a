"""Release specifications against their sources' own numbers.

ARI-0001 (Castella et al., Mol Ther Methods Clin Dev 2018;12:134, Table 2) publishes its
specification and three validation lots that met it; the Kymriah US label (§2.1, §3) gives the
dose by indication and weight; CIBMTR (Pasquini et al. 2020) counted tisagenlecleucel products with
viability 61-79 % as out of specification against the >= 80 % limit.
"""

from __future__ import annotations

from typing import Any

import pytest

from cartflow.errors import InvalidInput
from cartflow.manufacturing.specs import (
    TESTS,
    DoseCriterion,
    judge,
    limit_text,
    normalise_value,
    parse_criteria,
)
from cartflow.models import Diagnosis
from tests.manufacturing.factories import ARI_0001_CRITERIA, ARI_0001_LOT_01

ARI = parse_criteria(ARI_0001_CRITERIA)
LOTS = {
    "ARI0001/01": ARI_0001_LOT_01,
    "ARI0001/02": ARI_0001_LOT_01
    | {
        "car_t_dose": 1746e6,
        "car_positive_percent": 41.9,
        "cd3_positive_percent": 98.6,
        "viability_percent": 98.1,
        "vector_copy_number_per_cell": 2.32,
    },
    "ARI0001/03": ARI_0001_LOT_01
    | {
        "car_t_dose": 1340e6,
        "car_positive_percent": 39.7,
        "cd3_positive_percent": 98.6,
        "viability_percent": 98.0,
        "vector_copy_number_per_cell": 2.51,
    },
}


def _judge(spec_criteria: Any, test: str, value: float | str, **patient: Any) -> Any:
    spec = parse_criteria(spec_criteria)
    clean = normalise_value(TESTS[test], value)
    return judge(
        test,
        spec.criteria[test],
        clean,
        weight_kg=patient.get("weight_kg", 70.0),
        diagnosis=patient.get("diagnosis", Diagnosis.B_ALL),
    )


@pytest.mark.parametrize("lot", sorted(LOTS))
def test_the_published_ari_0001_lots_meet_their_specification(lot: str) -> None:
    # Table 2 states the dose limit for a 70 kg patient.
    for test, value in LOTS[lot].items():
        judgement = _judge(ARI_0001_CRITERIA, test, value, weight_kg=70.0)
        assert judgement.within_spec, (lot, test, judgement)


def test_ari_0001_dose_limit_is_35_million_cells_for_70_kg() -> None:
    assert _judge(ARI_0001_CRITERIA, "car_t_dose", 35e6, weight_kg=70).within_spec
    below = _judge(ARI_0001_CRITERIA, "car_t_dose", 34e6, weight_kg=70)
    assert not below.within_spec
    assert below.failed_limit == "car_t_dose ≥ 5e+05 cells/kg"
    assert below.compared_value == pytest.approx(34e6 / 70)


KYMRIAH_DOSE = {
    "car_t_dose": {
        "bands": [
            {
                "basis": "per_kg",
                "min": 0.2e6,
                "max": 5.0e6,
                "max_weight_kg": 50,
                "diagnoses": ["B-ALL"],
            },
            {"basis": "flat", "min": 0.1e8, "max": 2.5e8, "diagnoses": ["B-ALL"]},
            {"basis": "flat", "min": 0.6e8, "max": 6.0e8, "diagnoses": ["DLBCL", "FL"]},
        ]
    }
}


@pytest.mark.parametrize(
    ("weight_kg", "diagnosis", "cells", "within", "failed"),
    [
        # B-ALL, 50 kg or less: 0.2-5.0 x 10^6 per kg (the limits themselves conform).
        (38.0, Diagnosis.B_ALL, 0.2e6 * 38, True, None),
        (50.0, Diagnosis.B_ALL, 5.0e6 * 50, True, None),
        (38.0, Diagnosis.B_ALL, 0.19e6 * 38, False, "car_t_dose ≥ 2e+05 cells/kg"),
        # Over 50 kg: 0.1-2.5 x 10^8 in total, whatever the weight.
        (51.0, Diagnosis.B_ALL, 2.5e8, True, None),
        (80.0, Diagnosis.B_ALL, 3.0e8, False, "car_t_dose ≤ 2.5e+08 cells"),
        # DLBCL and FL: 0.6-6.0 x 10^8 in total.
        (70.0, Diagnosis.DLBCL, 0.5e8, False, "car_t_dose ≥ 6e+07 cells"),
        (70.0, Diagnosis.FOLLICULAR_LYMPHOMA, 6.0e8, True, None),
    ],
)
def test_kymriah_label_dose_by_indication_and_weight(
    weight_kg: float, diagnosis: Diagnosis, cells: float, within: bool, failed: str | None
) -> None:
    judgement = _judge(KYMRIAH_DOSE, "car_t_dose", cells, weight_kg=weight_kg, diagnosis=diagnosis)
    assert (judgement.within_spec, judgement.failed_limit) == (within, failed)


def test_no_dose_band_for_the_patient_is_out_of_specification() -> None:
    judgement = _judge(
        KYMRIAH_DOSE, "car_t_dose", 1e8, weight_kg=70, diagnosis=Diagnosis.MULTIPLE_MYELOMA
    )
    assert not judgement.within_spec and "no dose band" in (judgement.failed_limit or "")


@pytest.mark.parametrize(("viability", "within"), [(61.0, False), (79.9, False), (80.0, True)])
def test_tisagenlecleucel_viability_limit_counts_61_to_79_percent_as_oos(
    viability: float, within: bool
) -> None:
    spec = {"viability_percent": {"min": 80}}
    judgement = _judge(spec, "viability_percent", viability)
    assert judgement.within_spec is within
    assert judgement.failed_limit == (None if within else "viability_percent ≥ 80 %")


def test_strict_limits_exclude_the_limit_itself() -> None:
    # The Prodigy CD20 process (PMC11461191): VCN < 5 copies per transduced cell.
    spec = {"vector_copy_number_per_cell": {"less_than": 5}}
    assert _judge(spec, "vector_copy_number_per_cell", 4.99).within_spec
    at_limit = _judge(spec, "vector_copy_number_per_cell", 5.0)
    assert at_limit.failed_limit == "vector_copy_number_per_cell < 5 copies/cell"


def test_categorical_results_are_normalised_and_compared() -> None:
    assert normalise_value(TESTS["sterility"], "  No   Growth ") == "no growth"
    assert not _judge(ARI_0001_CRITERIA, "sterility", "growth").within_spec
    assert _judge(ARI_0001_CRITERIA, "sterility", "growth").failed_limit == "sterility = no growth"


@pytest.mark.parametrize(
    ("test", "value", "message"),
    [
        ("viability_percent", 130.0, "impossible"),
        ("viability_percent", -1.0, "impossible"),
        ("viability_percent", float("nan"), "impossible"),
        ("viability_percent", "ninety", "needs a number"),
        ("sterility", "maybe", "one of: no growth, growth"),
        ("mycoplasma", 0.0, "one of"),
        ("car_t_dose", 1e12, "impossible"),
    ],
)
def test_impossible_values_are_refused_naming_the_field(
    test: str, value: float | str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        normalise_value(TESTS[test], value)
    assert caught.value.field == "value"


@pytest.mark.parametrize(
    ("criteria", "field", "message"),
    [
        ({}, "criteria", "at least one test"),
        ({"potency": {"min": 1}}, "criteria.potency", "unknown test"),
        ({"viability_percent": {"minimum": 70}}, "criteria.viability_percent.minimum", "Extra"),
        ({"viability_percent": {}}, "criteria.viability_percent", "at least one"),
        ({"viability_percent": {"min": 120}}, "criteria.viability_percent.min", "outside"),
        ({"viability_percent": {"min": 90, "max": 80}}, "criteria.viability_percent", "above"),
        ({"sterility": {"equals": "sterile"}}, "criteria.sterility.equals", "one of"),
        (
            {"car_t_dose": {"basis": "per_m2", "min": 1}},
            "criteria.car_t_dose.bands.0.basis",
            "per_kg",
        ),
        (
            {"car_t_dose": {"basis": "flat", "min": 5, "max": 1}},
            "criteria.car_t_dose.bands.0",
            "above",
        ),
        ({"appearance": "conforms"}, "criteria.appearance", "object"),
    ],
)
def test_bad_criteria_are_refused_naming_the_test_and_key(
    criteria: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_criteria(criteria)
    assert caught.value.field == field


def test_limits_print_as_a_certificate_shows_them() -> None:
    assert limit_text("viability_percent", ARI.criteria["viability_percent"]) == "≥ 70 %"
    assert limit_text("car_t_dose", ARI.criteria["car_t_dose"]) == "≥ 5e+05 cells/kg"
    kymriah = parse_criteria(KYMRIAH_DOSE).criteria["car_t_dose"]
    assert isinstance(kymriah, DoseCriterion)
    assert limit_text("car_t_dose", kymriah).startswith("2e+05-5e+06 cells/kg (B-ALL, ≤ 50 kg); ")


def test_optional_tests_do_not_hold_up_release() -> None:
    spec = parse_criteria(
        {"viability_percent": {"min": 70}, "sterility": {"equals": "no growth", "required": False}}
    )
    assert spec.required_tests == ("viability_percent",)


def test_the_demo_products_specifications_are_valid() -> None:
    from cartflow.demo.network import PRODUCTS

    for product in PRODUCTS:
        assert product.specification is not None
        assert parse_criteria(product.specification.criteria).required_tests
