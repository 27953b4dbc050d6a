"""The toxicity form's live ASTCT grade: form fields in, CRS and ICANS grades out, graded by
`cartflow.clinical.grading` (the same contract as `cartflow grade` and `POST /grading/*`).

A browser posts every field as text; this module only turns text into the JSON types the contract
expects (a ticked box is true, an absent one false, numbers are numbers) and leaves refusing
anything to the contract, which names the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue, ValidationError

from cartflow.clinical.crs import explain_crs
from cartflow.clinical.grading import GradingInputError, parse_assessments
from cartflow.clinical.grading_schemas import (
    CerebralEdema,
    Consciousness,
    CrsAssessment,
    Hypotension,
    IcansAssessment,
    OxygenSupport,
    Seizure,
)
from cartflow.clinical.icans import explain_icans
from cartflow.i18n import Message, _

CRS_FLAGS = (
    "fever_other_cause",
    "anticytokine_given",
    "hypotension_other_cause",
    "hypoxia_other_cause",
    "died_of_crs",
)
ICANS_FLAGS = ("unable_to_assess", "motor_weakness", "died_of_icans")

HYPOTENSION_CHOICES = [
    (Hypotension.NONE, _("None")),
    (Hypotension.NO_VASOPRESSOR, _("Not needing vasopressors")),
    (Hypotension.ONE_VASOPRESSOR, _("One vasopressor (± vasopressin)")),
    (Hypotension.MULTIPLE_VASOPRESSORS, _("Multiple vasopressors (excl. vasopressin)")),
]
OXYGEN_CHOICES = [
    (OxygenSupport.NONE, _("None")),
    (OxygenSupport.LOW_FLOW, _("Low-flow (≤ 6 L/min or blow-by)")),
    (OxygenSupport.HIGH_FLOW, _("High-flow (> 6 L/min, facemask, non-rebreather, Venturi)")),
    (OxygenSupport.POSITIVE_PRESSURE, _("Positive pressure (CPAP, BiPAP, ventilation)")),
]
CONSCIOUSNESS_CHOICES = [
    (Consciousness.ALERT, _("Alert")),
    (Consciousness.AWAKENS_SPONTANEOUSLY, _("Awakens spontaneously")),
    (Consciousness.AWAKENS_TO_VOICE, _("Awakens to voice")),
    (Consciousness.AWAKENS_TO_TOUCH, _("Awakens only to touch")),
    (Consciousness.UNAROUSABLE, _("Unarousable, stupor or coma")),
]
SEIZURE_CHOICES = [
    (Seizure.NONE, _("None")),
    (Seizure.RESOLVED_RAPIDLY, _("Resolved rapidly, or EEG-only resolving with treatment")),
    (Seizure.PROLONGED_OR_REPETITIVE, _("Prolonged (> 5 min) or repetitive")),
]
EDEMA_CHOICES = [
    (CerebralEdema.NONE, _("None")),
    (CerebralEdema.FOCAL, _("Focal or local edema")),
    (CerebralEdema.DIFFUSE, _("Diffuse edema, posturing, CN VI palsy, papilledema, Cushing's")),
]

#: The ten one-point items of the ICE score (Lee 2019, ICE table), shown beside the score.
ICE_ITEMS = [
    _("Orientation to year"),
    _("Orientation to month"),
    _("Orientation to city"),
    _("Orientation to hospital"),
    _("Names the first object (e.g. clock)"),
    _("Names the second object (e.g. pen)"),
    _("Names the third object (e.g. button)"),
    _("Follows simple commands"),
    _("Writes a standard sentence"),
    _("Counts backwards from 100 by 10"),
]

# ASTCT grade names as Russian clinical texts write them (glossary.csv); grade 0 is "no CRS".
CRS_GRADES = {
    0: _("No CRS"),
    1: _("CRS grade 1"),
    2: _("CRS grade 2"),
    3: _("CRS grade 3"),
    4: _("CRS grade 4"),
    5: _("CRS grade 5"),
}
ICANS_GRADES = {
    0: _("No ICANS"),
    1: _("ICANS grade 1"),
    2: _("ICANS grade 2"),
    3: _("ICANS grade 3"),
    4: _("ICANS grade 4"),
    5: _("ICANS grade 5"),
}


@dataclass(frozen=True)
class LiveGrade:
    """One syndrome's grade and the rule that set it (in the reader's language), or why it
    cannot be graded yet."""

    grade: int | None
    reason: Message | None = None
    problem: str | Message = ""
    label: Message | None = None


def _number(text: str | None, kind: type[int] | type[float]) -> JsonValue:
    if text is None or text == "":
        return None
    try:
        return kind(text.replace(",", "."))
    except ValueError:
        return text  # the contract refuses it and names the field


def crs_payload(fields: dict[str, str]) -> dict[str, JsonValue]:
    payload: dict[str, JsonValue] = {
        "temperature_c": _number(fields.get("temperature_c"), float),
        "hypotension": fields.get("hypotension", ""),
        "oxygen": fields.get("oxygen", ""),
    }
    payload.update({flag: flag in fields for flag in CRS_FLAGS})
    return payload


def icans_payload(fields: dict[str, str], *, age_years: float) -> dict[str, JsonValue]:
    payload: dict[str, JsonValue] = {
        "age_years": age_years,
        "consciousness": fields.get("consciousness", ""),
        "seizure": fields.get("seizure", ""),
        "cerebral_edema": fields.get("cerebral_edema", ""),
    }
    for score in ("ice_score", "capd_score"):
        value = _number(fields.get(score), int)
        if value is not None:
            payload[score] = value
    payload.update({flag: flag in fields for flag in ICANS_FLAGS})
    return payload


def live_crs(fields: dict[str, str]) -> LiveGrade:
    if not fields.get("temperature_c"):
        return LiveGrade(None, problem=_("enter the highest temperature to grade CRS"))
    try:
        (assessment,) = parse_assessments(crs_payload(fields), CrsAssessment, kind="CRS")
    except GradingInputError as exc:
        return LiveGrade(None, problem=exc.message)
    grade, reason = explain_crs(assessment)
    return LiveGrade(grade, reason, label=CRS_GRADES[grade])


def live_icans(fields: dict[str, str], *, age_years: float) -> LiveGrade:
    payload = icans_payload(fields, age_years=age_years)
    try:
        (assessment,) = parse_assessments(payload, IcansAssessment, kind="ICANS")
    except GradingInputError as exc:
        return LiveGrade(None, problem=exc.message)
    grade, reason = explain_icans(assessment)
    return LiveGrade(grade, reason, label=ICANS_GRADES[grade])


def recorded(kind: str, graded_input: dict[str, Any] | None) -> Message | None:
    """The reason of a stored assessment in the reader's language, graded again from its stored
    input by the same rules (the stored `reason` is the English of the same text)."""
    if graded_input is None:
        return None
    try:
        if kind == "crs":
            return explain_crs(CrsAssessment.model_validate(graded_input))[1]
        return explain_icans(IcansAssessment.model_validate(graded_input))[1]
    except ValidationError:
        return None  # an input stored under older rules: the page shows the stored reason
