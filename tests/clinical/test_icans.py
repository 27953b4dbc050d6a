"""ASTCT ICANS grading against the consensus' own examples (clinical.md 1.3, 1.4 and 1.8)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cartflow.clinical.grading_schemas import (
    CerebralEdema,
    Consciousness,
    IcansAssessment,
    Seizure,
)
from cartflow.clinical.icans import grade_icans


def icans(**fields: Any) -> IcansAssessment:
    base: dict[str, Any] = {
        "age_years": 45,
        "consciousness": "alert",
        "seizure": "none",
        "cerebral_edema": "none",
    }
    return IcansAssessment.model_validate(base | fields)


# clinical.md 1.8, rows I1-I9 (adults, ICE) and P1-P3 (children, CAPD).
WORKED_EXAMPLES = [
    # I1-I3 are the paper's own examples.
    ("I1", {"ice_score": 3, "seizure": "resolved_rapidly"}, 3),
    ("I2", {"ice_score": 0, "consciousness": "alert"}, 3),  # awake with global aphasia
    ("I3", {"ice_score": 0, "consciousness": "unarousable", "unable_to_assess": True}, 4),
    ("I4", {"ice_score": 8, "consciousness": "awakens_spontaneously"}, 1),
    ("I5", {"ice_score": 7, "consciousness": "awakens_to_voice"}, 2),
    ("I6", {"ice_score": 9, "seizure": "prolonged_or_repetitive"}, 4),
    ("I7", {"ice_score": 10, "cerebral_edema": "focal"}, 3),
    ("I8", {"ice_score": 10}, 0),  # tremor only: graded with CTCAE, not an ICANS input
    ("I9", {"ice_score": 6}, 2),  # intracranial haemorrhage is excluded, so no edema recorded
    ("P1", {"age_years": 7, "capd_score": 10, "consciousness": "awakens_spontaneously"}, 3),
    ("P2", {"age_years": 5, "capd_score": 6, "consciousness": "awakens_to_voice"}, 2),
    ("P3", {"age_years": 10, "capd_score": 4, "consciousness": "awakens_spontaneously"}, 1),
]


@pytest.mark.parametrize(("case", "fields", "expected"), WORKED_EXAMPLES)
def test_worked_examples(case: str, fields: dict[str, Any], expected: int) -> None:
    assert grade_icans(icans(**fields)).grade == expected, case


@pytest.mark.parametrize(
    ("ice", "expected"),
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)],
)
def test_ice_bands(ice: int, expected: int) -> None:
    """ICE 7-9 grade 1, 3-6 grade 2, 0-2 grade 3 (ICANS adult table, ICE row)."""
    assert grade_icans(icans(ice_score=ice)).grade == expected


@pytest.mark.parametrize(("capd", "expected"), [(0, 0), (1, 1), (8, 1), (9, 3), (32, 3)])
def test_capd_bands_for_children(capd: int, expected: int) -> None:
    """CAPD 1-8 grade 1 (2 only with awakens-to-voice), >= 9 grade 3 (paediatric table)."""
    assert grade_icans(icans(age_years=6, capd_score=capd)).grade == expected


def test_child_unable_to_perform_capd_is_grade_4() -> None:
    result = grade_icans(icans(age_years=4, unable_to_assess=True, consciousness="unarousable"))
    assert result.grade == 4
    assert "CAPD" in result.reason


def test_age_12_uses_ice_and_age_under_12_uses_capd() -> None:
    assert grade_icans(icans(age_years=12, ice_score=5)).grade == 2
    assert grade_icans(icans(age_years=11.9, capd_score=5)).grade == 1


def test_ice_under_12_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        icans(age_years=9, ice_score=8)
    assert info.value.errors()[0]["loc"] == ("ice_score",)


def test_older_patient_with_developmental_delay_may_be_graded_by_capd() -> None:
    result = grade_icans(icans(age_years=16, capd_score=12))
    assert result.grade == 3
    assert "CAPD" in result.reason


def test_ice_zero_awake_is_3_but_unarousable_is_4() -> None:
    """Footnote of the adult table: ICE 0 is grade 3 if awake with aphasia, 4 if unarousable."""
    assert grade_icans(icans(ice_score=0)).grade == 3
    assert grade_icans(icans(ice_score=0, consciousness="unarousable")).grade == 4
    assert grade_icans(icans(unable_to_assess=True, consciousness="unarousable")).grade == 4


def test_deep_motor_weakness_is_grade_4() -> None:
    assert grade_icans(icans(ice_score=10, motor_weakness=True)).grade == 4


def test_diffuse_edema_is_grade_4() -> None:
    assert grade_icans(icans(ice_score=9, cerebral_edema="diffuse")).grade == 4


def test_grade_is_the_most_severe_domain_and_the_reason_names_it() -> None:
    result = grade_icans(icans(ice_score=8, consciousness="awakens_to_touch"))
    assert result.grade == 3
    assert "tactile" in result.reason and "ICE" not in result.reason


def test_death_from_icans_is_grade_5() -> None:
    assert grade_icans(icans(ice_score=10, died_of_icans=True)).grade == 5


def test_nothing_abnormal_is_no_icans() -> None:
    result = grade_icans(icans(ice_score=10))
    assert (result.grade, result.reason.startswith("no ICANS")) == (0, True)


# Severity order of each input, least to most severe.
ORDERED_FIELDS: dict[str, list[Any]] = {
    "unable_to_assess": [False, True],
    "consciousness": list(Consciousness),
    "seizure": list(Seizure),
    "motor_weakness": [False, True],
    "cerebral_edema": list(CerebralEdema),
    "died_of_icans": [False, True],
}
common = {name: st.sampled_from(values) for name, values in ORDERED_FIELDS.items()}
adults = st.builds(
    IcansAssessment,
    age_years=st.floats(min_value=12, max_value=90),
    ice_score=st.integers(0, 10),
    capd_score=st.none(),
    **common,
)
children = st.builds(
    IcansAssessment,
    age_years=st.floats(min_value=0, max_value=11.99),
    ice_score=st.none(),
    capd_score=st.integers(0, 32),
    **common,
)


def _ordered_pair(data: st.DataObject, order: list[Any]) -> tuple[Any, Any]:
    i, j = sorted(data.draw(st.tuples(*[st.integers(0, len(order) - 1)] * 2)))
    return order[i], order[j]


@given(base=st.one_of(adults, children), data=st.data())
def test_a_worse_value_in_any_one_field_never_lowers_the_grade(
    base: IcansAssessment, data: st.DataObject
) -> None:
    score_field = "ice_score" if base.ice_score is not None else "capd_score"
    name = data.draw(st.sampled_from([*ORDERED_FIELDS, score_field]))
    if name == "ice_score":
        low, high = _ordered_pair(data, list(range(10, -1, -1)))  # lower ICE is worse
    elif name == "capd_score":
        low, high = _ordered_pair(data, list(range(33)))  # higher CAPD is worse
    else:
        low, high = _ordered_pair(data, ORDERED_FIELDS[name])
    better = grade_icans(base.model_copy(update={name: low})).grade
    worse = grade_icans(base.model_copy(update={name: high})).grade
    assert worse >= better, (name, low, high)


@given(st.one_of(adults, children))
def test_grade_and_reason_agree(assessment: IcansAssessment) -> None:
    result = grade_icans(assessment)
    expected_prefix = "no ICANS" if result.grade == 0 else f"grade {result.grade}:"
    assert result.reason.startswith(expected_prefix)
