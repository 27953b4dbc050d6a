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
from cartflow.clinical.phrases import Joined, english
from cartflow.i18n import Message, _

#: CAPD total at or above which the child screens positive for delirium (Traube 2014), grade 3.
CAPD_DELIRIUM_THRESHOLD = 9

Domain = tuple[int, Message | None]

_CONSCIOUSNESS_GRADE: dict[Consciousness, Domain] = {
    Consciousness.ALERT: (0, None),
    Consciousness.AWAKENS_SPONTANEOUSLY: (1, _("depressed consciousness, awakens spontaneously")),
    Consciousness.AWAKENS_TO_VOICE: (2, _("depressed consciousness, awakens to voice")),
    Consciousness.AWAKENS_TO_TOUCH: (
        3,
        _("depressed consciousness, awakens only to tactile stimulus"),
    ),
    Consciousness.UNAROUSABLE: (
        4,
        _("unarousable or needs vigorous or repetitive tactile stimuli to arouse (stupor or coma)"),
    ),
}

_SEIZURE_GRADE: dict[Seizure, Domain] = {
    Seizure.NONE: (0, None),
    Seizure.RESOLVED_RAPIDLY: (
        3,
        _(
            "clinical seizure that resolved rapidly (or non-convulsive EEG seizure resolving with "
            "intervention)"
        ),
    ),
    Seizure.PROLONGED_OR_REPETITIVE: (
        4,
        _(
            "life-threatening prolonged seizure (> 5 min) or repetitive seizures without return "
            "to baseline"
        ),
    ),
}

_EDEMA_GRADE: dict[CerebralEdema, Domain] = {
    CerebralEdema.NONE: (0, None),
    CerebralEdema.FOCAL: (3, _("focal/local cerebral edema on neuroimaging")),
    CerebralEdema.DIFFUSE: (
        4,
        _(
            "diffuse cerebral edema on neuroimaging (or posturing, cranial nerve VI palsy, "
            "papilledema, Cushing's triad)"
        ),
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


def ice_grade(ice_score: int) -> Domain:
    """Grade from the 10-point ICE score: 10 none, 7-9 grade 1, 3-6 grade 2, 0-2 grade 3.

    Source: ICANS adult table, ICE row (PMC8403007 Table 4). Grade 4 (ICE 0 because unarousable)
    is set by `unable_to_assess` or the consciousness domain, not by the number.
    """
    if ice_score >= 10:
        return 0, None
    if ice_score >= 7:
        return 1, _("ICE score 7-9 (ICE {score})", score=ice_score)
    if ice_score >= 3:
        return 2, _("ICE score 3-6 (ICE {score})", score=ice_score)
    return 3, _("ICE score 0-2 (ICE {score})", score=ice_score)


def capd_grade(capd_score: int) -> Domain:
    """Grade from the CAPD total: 0 none, 1-8 grade 1, >= 9 grade 3.

    Source: ICANS paediatric table, CAPD row (clinical.md 1.4; mdedge summary of Lee 2019): CAPD
    1-8 sits in both the grade-1 and grade-2 columns, so grade 2 needs the consciousness domain
    (awakens to voice); >= 9 is grade 3; "unable to perform CAPD" is grade 4 (`unable_to_assess`).
    """
    if capd_score >= CAPD_DELIRIUM_THRESHOLD:
        return 3, _("CAPD score >= 9 (CAPD {score})", score=capd_score)
    if capd_score >= 1:
        return 1, _("CAPD score 1-8 (CAPD {score})", score=capd_score)
    return 0, None


def encephalopathy_grade(assessment: IcansAssessment) -> Domain:
    """Grade of the encephalopathy domain (ICE for >= 12 years, CAPD under 12), 4 if untestable.

    Source: ICE row of the adult table (PMC8403007 Table 4, footnote: "ICE 0 ... grade 4 if
    unarousable") and CAPD row of the paediatric table ("unable to perform CAPD" = grade 4).
    """
    capd = uses_capd(assessment)
    if assessment.unable_to_assess:
        return 4, _("unarousable and unable to perform {tool}", tool="CAPD" if capd else "ICE")
    if capd:
        if assessment.capd_score is None:
            return 0, None
        grade, reason = capd_grade(assessment.capd_score)
        if grade and reason is not None and assessment.age_years >= ICE_MIN_AGE_YEARS:
            reason = _("{rule}, CAPD used because no ICE was recorded", rule=reason)
        return grade, reason
    if assessment.ice_score is None:
        return 0, None
    return ice_grade(assessment.ice_score)


def consciousness_grade(assessment: IcansAssessment) -> Domain:
    """Depressed level of consciousness: spontaneously 1, voice 2, touch only 3, unarousable 4.

    Source: ICANS adult and paediatric tables, depressed-consciousness row (same for both).
    """
    return _CONSCIOUSNESS_GRADE[assessment.consciousness]


def seizure_grade(assessment: IcansAssessment) -> Domain:
    """Seizure: rapidly resolving 3; prolonged (> 5 min) or repetitive without baseline 4.

    Source: ICANS adult table, seizure row (the paediatric table is the same).
    """
    return _SEIZURE_GRADE[assessment.seizure]


def motor_grade(assessment: IcansAssessment) -> Domain:
    """Deep focal motor weakness (hemiparesis, paraparesis) is grade 4; tremor does not count.

    Source: ICANS adult table, motor-findings row and footnote on tremor and myoclonus.
    """
    if assessment.motor_weakness:
        return 4, _("deep focal motor weakness (hemiparesis or paraparesis)")
    return 0, None


def edema_grade(assessment: IcansAssessment) -> Domain:
    """Focal edema 3; diffuse edema or signs of raised ICP 4; haemorrhage excluded.

    Source: ICANS adult table, elevated ICP/cerebral edema row and its footnote on intracranial
    haemorrhage.
    """
    return _EDEMA_GRADE[assessment.cerebral_edema]


def explain_icans(assessment: IcansAssessment) -> tuple[int, Message]:
    """ASTCT ICANS grade (0-5) of one assessment, the most severe of the domains, with the rules
    that set it in the reader's language.

    Source: Lee 2019 ICANS consensus grading (PMC8403007 Table 4 notes: "ICANS grade is
    determined by the most severe event"; worked examples ICE 3 + seizure = 3, ICE 0 awake = 3,
    ICE 0 unarousable = 4); grade 5 = death from ICANS (mdedge summary).
    """
    if assessment.died_of_icans:
        return 5, _("grade 5: death from ICANS")
    domains = (
        encephalopathy_grade(assessment),
        consciousness_grade(assessment),
        seizure_grade(assessment),
        motor_grade(assessment),
        edema_grade(assessment),
    )
    worst = max(grade for grade, _reason in domains)
    if worst == 0:
        return 0, _("no ICANS: {why}", why=_no_icans_reason(assessment))
    rules = [reason for grade, reason in domains if grade == worst and reason is not None]
    return worst, _("grade {grade}: {rules}", grade=worst, rules=Joined(rules, "; "))


def grade_icans(assessment: IcansAssessment) -> GradeResult:
    """ASTCT ICANS grade (0-5) of one assessment with its reason in English (the `cartflow grade`
    contract); the rules are those of `explain_icans`."""
    grade, reason = explain_icans(assessment)
    return GradeResult(grade=grade, reason=english(reason))


def _no_icans_reason(assessment: IcansAssessment) -> Message:
    if uses_capd(assessment) and assessment.capd_score is not None:
        return _("CAPD {score}, alert, no neurological findings", score=assessment.capd_score)
    if assessment.ice_score is not None:
        return _("ICE {score}, alert, no neurological findings", score=assessment.ice_score)
    return _("no encephalopathy score recorded, alert, no neurological findings")
