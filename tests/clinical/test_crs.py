"""ASTCT CRS grading against the consensus' own examples and rules (clinical.md 1.1 and 1.8)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.clinical.crs import grade_crs
from cartflow.clinical.grading_schemas import CrsAssessment, Hypotension, OxygenSupport


def crs(**fields: Any) -> CrsAssessment:
    base: dict[str, Any] = {"hypotension": "none", "oxygen": "none"}
    return CrsAssessment.model_validate(base | fields)


# clinical.md 1.8, rows C1-C8: (id, input, expected grade)
WORKED_EXAMPLES = [
    # C1 is the paper's own example: the worse of hypotension (3) and hypoxia (2) sets the grade.
    ("C1", {"temperature_c": 39.5, "hypotension": "one_vasopressor", "oxygen": "low_flow"}, 3),
    # C2: norepinephrine + vasopressin counts as one vasopressor.
    ("C2", {"temperature_c": 38.4, "hypotension": "one_vasopressor"}, 3),
    ("C3", {"temperature_c": 38.2, "oxygen": "low_flow"}, 2),
    ("C4", {"temperature_c": 38.2, "oxygen": "high_flow"}, 3),
    # C5: afebrile after tocilizumab, norepinephrine + epinephrine.
    (
        "C5",
        {"temperature_c": 37.1, "anticytokine_given": True, "hypotension": "multiple_vasopressors"},
        4,
    ),
    ("C6", {"temperature_c": 38.6}, 1),
    ("C7", {"temperature_c": 39.0, "oxygen": "positive_pressure"}, 4),
    # C8: hypotension from septic shock is excluded; the fever alone remains.
    (
        "C8",
        {"temperature_c": 38.9, "hypotension": "one_vasopressor", "hypotension_other_cause": True},
        1,
    ),
]


@pytest.mark.parametrize(("case", "fields", "expected"), WORKED_EXAMPLES)
def test_worked_examples(case: str, fields: dict[str, Any], expected: int) -> None:
    assert grade_crs(crs(**fields)).grade == expected, case


def test_reason_names_the_rule_that_set_the_grade() -> None:
    result = grade_crs(crs(temperature_c=39.5, hypotension="one_vasopressor", oxygen="low_flow"))
    assert result.reason.startswith("grade 3: hypotension requiring one vasopressor")
    assert "low-flow" not in result.reason  # the lesser hypoxia did not set the grade


def test_tie_names_both_rules() -> None:
    result = grade_crs(crs(temperature_c=39.0, hypotension="no_vasopressor", oxygen="low_flow"))
    assert result.grade == 2
    assert "hypotension" in result.reason and "hypoxia" in result.reason


def test_fever_threshold_is_inclusive_38() -> None:
    assert grade_crs(crs(temperature_c=38.0)).grade == 1
    assert grade_crs(crs(temperature_c=37.9)).grade == 0


def test_no_fever_and_no_anticytokine_is_no_crs_even_with_shock() -> None:
    # CRS is defined by fever; without it (and before tocilizumab/steroids) it is not CRS.
    result = grade_crs(crs(temperature_c=37.0, hypotension="multiple_vasopressors"))
    assert result.grade == 0
    assert result.reason.startswith("no CRS")


def test_fever_with_another_cause_is_not_crs() -> None:
    assert grade_crs(crs(temperature_c=39.0, fever_other_cause=True, oxygen="low_flow")).grade == 0


def test_masked_fever_still_counts_hypoxia() -> None:
    graded = grade_crs(crs(temperature_c=36.8, anticytokine_given=True, oxygen="high_flow"))
    assert graded.grade == 3
    assert "fever not required" in graded.reason


def test_afebrile_after_anticytokine_without_organ_support_is_resolved() -> None:
    result = grade_crs(crs(temperature_c=36.9, anticytokine_given=True))
    assert result.grade == 0
    assert "resolved" in result.reason


def test_hypoxia_with_another_cause_does_not_count() -> None:
    fields = {"temperature_c": 38.5, "oxygen": "positive_pressure", "hypoxia_other_cause": True}
    assert grade_crs(crs(**fields)).grade == 1


def test_death_from_crs_is_grade_5() -> None:
    assert grade_crs(crs(temperature_c=37.0, died_of_crs=True)).grade == 5


# Severity order of each input, least to most severe ("worse" for the monotonicity property).
ORDERED_FIELDS: dict[str, list[Any]] = {
    "fever_other_cause": [True, False],
    "anticytokine_given": [False, True],
    "hypotension": list(Hypotension),
    "oxygen": list(OxygenSupport),
    "hypotension_other_cause": [True, False],
    "hypoxia_other_cause": [True, False],
    "died_of_crs": [False, True],
}

temperatures = st.floats(min_value=34.0, max_value=42.0, allow_nan=False)
assessments = st.builds(
    CrsAssessment,
    temperature_c=temperatures,
    **{name: st.sampled_from(values) for name, values in ORDERED_FIELDS.items()},
)


@given(base=assessments, data=st.data())
def test_a_worse_value_in_any_one_field_never_lowers_the_grade(
    base: CrsAssessment, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from([*ORDERED_FIELDS, "temperature_c"]))
    if name == "temperature_c":
        low, high = sorted(data.draw(st.tuples(temperatures, temperatures)))
    else:
        order = ORDERED_FIELDS[name]
        i, j = sorted(data.draw(st.tuples(*[st.integers(0, len(order) - 1)] * 2)))
        low, high = order[i], order[j]
    better = grade_crs(base.model_copy(update={name: low})).grade
    worse = grade_crs(base.model_copy(update={name: high})).grade
    assert worse >= better, (name, low, high)


@given(assessments)
def test_grade_is_the_worse_of_hypotension_and_hypoxia_when_febrile(base: CrsAssessment) -> None:
    febrile = base.model_copy(
        update={"temperature_c": 39.0, "fever_other_cause": False, "died_of_crs": False}
    )
    h = 0 if febrile.hypotension_other_cause else list(Hypotension).index(febrile.hypotension)
    x = 0 if febrile.hypoxia_other_cause else list(OxygenSupport).index(febrile.oxygen)
    # Enum position + 1 is the table's column: none = grade 1 (fever alone) ... 4.
    assert grade_crs(febrile).grade == max(h, x) + 1
