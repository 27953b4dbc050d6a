"""ASTCT consensus grading of immune effector cell-associated neurotoxicity syndrome (ICANS).

Source: Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638. Adults and children >= 12
years: ICANS consensus grading for adults, as reproduced in PMC8403007 Table 4 and PMC7990806
Table 2 (with footnotes). Children under 12: the paediatric table with the Cornell Assessment of
Pediatric Delirium (CAPD), as summarised by mdedge ("Group proposes new grading systems for CRS,
neurotoxicity").

Invariants:
- The ICANS grade is the most severe event across the domains (encephalopathy score, depressed
  level of consciousness, seizure, motor findings, elevated ICP/cerebral edema), none attributable
  to another cause; callers leave out findings with another cause (e.g. sedation, intracranial
  haemorrhage).
- ICE (10 points) for age >= 12; CAPD (0-32) under 12. ICE is refused under 12 by the input schema.
  A patient >= 12 with developmental delay may be assessed by CAPD: if no ICE is recorded and a CAPD
  score is, the CAPD thresholds are used.
- An unarousable patient unable to perform ICE or CAPD is grade 4 (an ICE of 0 while awake, e.g.
  global aphasia, is grade 3).
- Tremor and myoclonus do not affect the grade (they are not inputs).
- Death from ICANS (no other principal cause) is grade 5.

Decision: the contract separates `alert` from `awakens_spontaneously`, so "awakens
spontaneously" is the grade-1 cell of the depressed-consciousness row exactly as the table prints
it (a drowsy patient who wakes on their own), while `alert` contributes nothing.
"""

from __future__ import annotations

from cartflow.clinical.grading_schemas import (
    ICE_MIN_AGE_YEARS,
    CerebralEdema,
    Consciousness,
    GradeResult,
    IcansAssessment,
    Seizure,
)

#: CAPD total at or above which the child screens positive for delirium (Traube 2014), grade 3.
CAPD_DELIRIUM_THRESHOLD = 9

_CONSCIOUSNESS_GRADE: dict[Consciousness, tuple[int, str]] = {
    Consciousness.ALERT: (0, ""),
    Consciousness.AWAKENS_SPONTANEOUSLY: (1, "depressed consciousness, awakens spontaneously"),
    Consciousness.AWAKENS_TO_VOICE: (2, "depressed consciousness, awakens to voice"),
    Consciousness.AWAKENS_TO_TOUCH: (
        3,
        "depressed consciousness, awakens only to tactile stimulus",
    ),
    Consciousness.UNAROUSABLE: (
        4,
        "unarousable or needs vigorous or repetitive tactile stimuli to arouse (stupor or coma)",
    ),
}

_SEIZURE_GRADE: dict[Seizure, tuple[int, str]] = {
    Seizure.NONE: (0, ""),
    Seizure.RESOLVED_RAPIDLY: (
        3,
        "clinical seizure that resolved rapidly (or non-convulsive EEG seizure resolving with "
        "intervention)",
    ),
    Seizure.PROLONGED_OR_REPETITIVE: (
        4,
        "life-threatening prolonged seizure (> 5 min) or repetitive seizures without return to "
        "baseline",
    ),
}

_EDEMA_GRADE: dict[CerebralEdema, tuple[int, str]] = {
    CerebralEdema.NONE: (0, ""),
    CerebralEdema.FOCAL: (3, "focal/local cerebral edema on neuroimaging"),
    CerebralEdema.DIFFUSE: (
        4,
        "diffuse cerebral edema on neuroimaging (or posturing, cranial nerve VI palsy, "
        "papilledema, Cushing's triad)",
    ),
}


def uses_capd(assessment: IcansAssessment) -> bool:
    """Whether the encephalopathy domain is scored by CAPD rather than ICE.

    Source: Lee 2019 (mdedge summary): ICE is not suitable under 12 years; CAPD is used for
    children under 12 and for older patients with developmental delay (here: no ICE recorded).
    """
    if assessment.age_years < ICE_MIN_AGE_YEARS:
        return True
    return assessment.ice_score is None and assessment.capd_score is not None


def ice_grade(ice_score: int) -> tuple[int, str]:
    """Grade from the 10-point ICE score: 10 none, 7-9 grade 1, 3-6 grade 2, 0-2 grade 3.

    Source: ICANS adult table, ICE row (PMC8403007 Table 4). Grade 4 (ICE 0 because unarousable)
    is set by `unable_to_assess` or the consciousness domain, not by the number.
    """
    if ice_score >= 10:
        return 0, ""
    if ice_score >= 7:
        return 1, f"ICE score 7-9 (ICE {ice_score})"
    if ice_score >= 3:
        return 2, f"ICE score 3-6 (ICE {ice_score})"
    return 3, f"ICE score 0-2 (ICE {ice_score})"


def capd_grade(capd_score: int) -> tuple[int, str]:
    """Grade from the CAPD total: 0 none, 1-8 grade 1, >= 9 grade 3.

    Source: ICANS paediatric table, CAPD row (clinical.md 1.4; mdedge summary of Lee 2019): CAPD
    1-8 sits in both the grade-1 and grade-2 columns, so grade 2 needs the consciousness domain
    (awakens to voice); >= 9 is grade 3; "unable to perform CAPD" is grade 4 (`unable_to_assess`).
    """
    if capd_score >= CAPD_DELIRIUM_THRESHOLD:
        return 3, f"CAPD score >= 9 (CAPD {capd_score})"
    if capd_score >= 1:
        return 1, f"CAPD score 1-8 (CAPD {capd_score})"
    return 0, ""


def encephalopathy_grade(assessment: IcansAssessment) -> tuple[int, str]:
    """Grade of the encephalopathy domain (ICE for >= 12 years, CAPD under 12), 4 if untestable.

    Source: ICE row of the adult table (PMC8403007 Table 4, footnote: "ICE 0 ... grade 4 if
    unarousable") and CAPD row of the paediatric table ("unable to perform CAPD" = grade 4).
    """
    capd = uses_capd(assessment)
    if assessment.unable_to_assess:
        tool = "CAPD" if capd else "ICE"
        return 4, f"unarousable and unable to perform {tool}"
    if capd:
        if assessment.capd_score is None:
            return 0, ""
        grade, reason = capd_grade(assessment.capd_score)
        if grade and assessment.age_years >= ICE_MIN_AGE_YEARS:
            reason += ", CAPD used because no ICE was recorded"
        return grade, reason
    if assessment.ice_score is None:
        return 0, ""
    return ice_grade(assessment.ice_score)


def consciousness_grade(assessment: IcansAssessment) -> tuple[int, str]:
    """Depressed level of consciousness: spontaneously 1, voice 2, touch only 3, unarousable 4.

    Source: ICANS adult and paediatric tables, depressed-consciousness row (same for both).
    """
    return _CONSCIOUSNESS_GRADE[assessment.consciousness]


def seizure_grade(assessment: IcansAssessment) -> tuple[int, str]:
    """Seizure: rapidly resolving 3; prolonged (> 5 min) or repetitive without baseline 4.

    Source: ICANS adult table, seizure row (the paediatric table is the same).
    """
    return _SEIZURE_GRADE[assessment.seizure]


def motor_grade(assessment: IcansAssessment) -> tuple[int, str]:
    """Deep focal motor weakness (hemiparesis, paraparesis) is grade 4; tremor does not count.

    Source: ICANS adult table, motor-findings row and footnote on tremor and myoclonus.
    """
    if assessment.motor_weakness:
        return 4, "deep focal motor weakness (hemiparesis or paraparesis)"
    return 0, ""


def edema_grade(assessment: IcansAssessment) -> tuple[int, str]:
    """Focal edema 3; diffuse edema or signs of raised ICP 4; haemorrhage excluded.

    Source: ICANS adult table, elevated ICP/cerebral edema row and its footnote on intracranial
    haemorrhage.
    """
    return _EDEMA_GRADE[assessment.cerebral_edema]


def grade_icans(assessment: IcansAssessment) -> GradeResult:
    """ASTCT ICANS grade (0-5) of one assessment: the most severe of the domains.

    Source: Lee 2019 ICANS consensus grading (PMC8403007 Table 4 notes: "ICANS grade is
    determined by the most severe event"; worked examples ICE 3 + seizure = 3, ICE 0 awake = 3,
    ICE 0 unarousable = 4); grade 5 = death from ICANS (mdedge summary).
    """
    if assessment.died_of_icans:
        return GradeResult(grade=5, reason="grade 5: death from ICANS")
    domains = (
        encephalopathy_grade(assessment),
        consciousness_grade(assessment),
        seizure_grade(assessment),
        motor_grade(assessment),
        edema_grade(assessment),
    )
    worst = max(grade for grade, _ in domains)
    if worst == 0:
        return GradeResult(grade=0, reason=f"no ICANS: {_no_icans_reason(assessment)}")
    rules = [reason for grade, reason in domains if grade == worst]
    return GradeResult(grade=worst, reason=f"grade {worst}: {'; '.join(rules)}")


def _no_icans_reason(assessment: IcansAssessment) -> str:
    if uses_capd(assessment) and assessment.capd_score is not None:
        return f"CAPD {assessment.capd_score}, alert, no neurological findings"
    if assessment.ice_score is not None:
        return f"ICE {assessment.ice_score}, alert, no neurological findings"
    return "no encephalopathy score recorded, alert, no neurological findings"
