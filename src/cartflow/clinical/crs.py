"""ASTCT consensus grading of cytokine release syndrome (CRS).

Source: Lee DW et al., ASTCT Consensus Grading for Cytokine Release Syndrome and Neurologic Toxicity
Associated with Immune Effector Cells, Biol Blood Marrow Transplant 2019;25:625-638
(doi:10.1016/j.bbmt.2018.12.758), CRS consensus grading table and its footnotes, as reproduced in
PMC9327779 Table 2 and PMC8021214 Table 1 (see docs/clinical-grading.md).

Invariants:
- CRS needs fever (>= 38.0 degrees C, not attributable to another cause) unless tocilizumab or
  corticosteroids were already given for CRS: then fever is no longer required and hypotension and
  hypoxia drive the grade.
- Hypotension or hypoxia attributable to another cause does not count.
- The grade is the more severe of hypotension and hypoxia; fever alone is grade 1.
- Death from CRS (no other principal cause) is grade 5.
- Organ toxicities (CTCAE v5.0) never change the CRS grade, so they are not inputs here.

Decision (clinical.md 1.1 edge case): an afebrile patient after anti-cytokine therapy with
neither hypotension nor hypoxia attributable to CRS is reported as grade 0 ("resolved"), not
grade 1, because the grade-1 row is defined by fever and the fever criterion was only waived for
grading hypotension and hypoxia.
"""

from __future__ import annotations

from cartflow.clinical.grading_schemas import CrsAssessment, GradeResult, Hypotension, OxygenSupport
from cartflow.clinical.phrases import Number, english
from cartflow.i18n import Message, _

#: Fever threshold of the consensus, inclusive ("temperature >= 38 degrees C").
FEVER_THRESHOLD_C = 38.0

_HYPOTENSION_GRADE: dict[Hypotension, tuple[int, Message | None]] = {
    Hypotension.NONE: (0, None),
    Hypotension.NO_VASOPRESSOR: (2, _("hypotension not requiring vasopressors")),
    Hypotension.ONE_VASOPRESSOR: (
        3,
        _("hypotension requiring one vasopressor (with or without vasopressin)"),
    ),
    Hypotension.MULTIPLE_VASOPRESSORS: (
        4,
        _("hypotension requiring multiple vasopressors (excluding vasopressin)"),
    ),
}

_HYPOXIA_GRADE: dict[OxygenSupport, tuple[int, Message | None]] = {
    OxygenSupport.NONE: (0, None),
    OxygenSupport.LOW_FLOW: (2, _("hypoxia requiring low-flow oxygen (<= 6 L/min or blow-by)")),
    OxygenSupport.HIGH_FLOW: (
        3,
        _(
            "hypoxia requiring high-flow oxygen (> 6 L/min, facemask, non-rebreather or Venturi "
            "mask)"
        ),
    ),
    OxygenSupport.POSITIVE_PRESSURE: (
        4,
        _(
            "hypoxia requiring positive pressure (CPAP, BiPAP, intubation and mechanical "
            "ventilation)"
        ),
    ),
}


def has_fever(assessment: CrsAssessment) -> bool:
    """Fever as the consensus defines it: >= 38.0 degrees C not attributable to any other cause.

    Source: Lee 2019 CRS table, footnote on fever (PMC9327779 Table 2).
    """
    return assessment.temperature_c >= FEVER_THRESHOLD_C and not assessment.fever_other_cause


def hypotension_grade(assessment: CrsAssessment) -> tuple[int, Message | None]:
    """Grade contributed by hypotension: 2 without pressors, 3 one pressor, 4 multiple pressors.

    Source: Lee 2019 CRS table, hypotension row; vasopressin never counts toward "multiple"
    (PMC9327779 Table 2: "multiple pressors excluding vasopressin"). Hypotension attributable to
    another cause does not count (footnote: "neither attributable to any other cause").
    """
    if assessment.hypotension_other_cause:
        return 0, None
    return _HYPOTENSION_GRADE[assessment.hypotension]


def hypoxia_grade(assessment: CrsAssessment) -> tuple[int, Message | None]:
    """Grade contributed by hypoxia: 2 low-flow, 3 high-flow or mask, 4 positive pressure.

    Source: Lee 2019 CRS table, hypoxia row (low-flow <= 6 L/min or blow-by; high-flow > 6 L/min,
    facemask, non-rebreather or Venturi; positive pressure = CPAP, BiPAP, mechanical ventilation).
    Hypoxia attributable to another cause does not count.
    """
    if assessment.hypoxia_other_cause:
        return 0, None
    return _HYPOXIA_GRADE[assessment.oxygen]


def explain_crs(assessment: CrsAssessment) -> tuple[int, Message]:
    """ASTCT CRS grade (0-5) of one assessment, with the rule that set it in the reader's language.

    Source: Lee 2019 CRS consensus grading table and footnotes (PMC9327779 Table 2, PMC8021214
    Table 1): grade 1 fever alone; grades 2-4 by the more severe of hypotension and hypoxia; fever
    not required after tocilizumab or corticosteroids for CRS; grade 5 death from CRS (paper text).
    """
    if assessment.died_of_crs:
        return 5, _("grade 5: death from CRS")
    fever = has_fever(assessment)
    if not fever and not assessment.anticytokine_given:
        return 0, _("no CRS: {why}", why=_no_fever_reason(assessment))
    h_grade, h_reason = hypotension_grade(assessment)
    x_grade, x_reason = hypoxia_grade(assessment)
    worst = max(h_grade, x_grade)
    if worst == 0:
        if fever:
            return 1, _(
                "grade 1: fever {temperature} °C without hypotension or hypoxia attributable "
                "to CRS",
                temperature=Number(assessment.temperature_c),
            )
        return 0, _(
            "no CRS: afebrile after anti-cytokine therapy, with no hypotension or hypoxia "
            "attributable to CRS (resolved)"
        )
    rules = [r for g, r in ((h_grade, h_reason), (x_grade, x_reason)) if g == worst and r]
    rule: Message = (
        rules[0] if len(rules) == 1 else _("{first} and {second}", first=rules[0], second=rules[1])
    )
    if fever:
        return worst, _("grade {grade}: {rule}", grade=worst, rule=rule)
    return worst, _(
        "grade {grade}: {rule}; fever not required after anti-cytokine therapy",
        grade=worst,
        rule=rule,
    )


def grade_crs(assessment: CrsAssessment) -> GradeResult:
    """ASTCT CRS grade (0-5) of one assessment, with the rule that set it (in English: the
    `cartflow grade` contract's `reason`). The rules are those of `explain_crs`."""
    grade, reason = explain_crs(assessment)
    return GradeResult(grade=grade, reason=english(reason))


def _no_fever_reason(assessment: CrsAssessment) -> Message:
    temperature = Number(assessment.temperature_c)
    if assessment.temperature_c >= FEVER_THRESHOLD_C:
        return _(
            "temperature {temperature} °C is attributed to another cause and no anti-cytokine "
            "therapy was given for CRS",
            temperature=temperature,
        )
    return _(
        "no fever ({temperature} °C < {threshold} °C) and no anti-cytokine therapy given for CRS",
        temperature=temperature,
        threshold=Number(FEVER_THRESHOLD_C),
    )
