"""The toxicity form's live ASTCT grade: form fields in, CRS and ICANS grades out, graded by
`cartflow.clinical.grading` (the same contract as `cartflow grade` and `POST /grading/*`).

A browser posts every field as text; this module only turns text into the JSON types the contract
expects (a ticked box is true, an absent one false, numbers are numbers) and leaves refusing
anything to the contract, which names the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import JsonValue

from cartflow.clinical.grading import GradingInputError, grade_crs_payload, grade_icans_payload
from cartflow.clinical.grading_schemas import (
    CerebralEdema,
    Consciousness,
    GradeResult,
    Hypotension,
    OxygenSupport,
    Seizure,
)

CRS_FLAGS = (
    "fever_other_cause",
    "anticytokine_given",
    "hypotension_other_cause",
    "hypoxia_other_cause",
    "died_of_crs",
)
ICANS_FLAGS = ("unable_to_assess", "motor_weakness", "died_of_icans")

HYPOTENSION_CHOICES = [
    (Hypotension.NONE, "None"),
    (Hypotension.NO_VASOPRESSOR, "Not needing vasopressors"),
    (Hypotension.ONE_VASOPRESSOR, "One vasopressor (± vasopressin)"),
    (Hypotension.MULTIPLE_VASOPRESSORS, "Multiple vasopressors (excl. vasopressin)"),
]
OXYGEN_CHOICES = [
    (OxygenSupport.NONE, "None"),
    (OxygenSupport.LOW_FLOW, "Low-flow (≤ 6 L/min or blow-by)"),
    (OxygenSupport.HIGH_FLOW, "High-flow (> 6 L/min, facemask, non-rebreather, Venturi)"),
    (OxygenSupport.POSITIVE_PRESSURE, "Positive pressure (CPAP, BiPAP, ventilation)"),
]
CONSCIOUSNESS_CHOICES = [
    (Consciousness.ALERT, "Alert"),
    (Consciousness.AWAKENS_SPONTANEOUSLY, "Awakens spontaneously"),
    (Consciousness.AWAKENS_TO_VOICE, "Awakens to voice"),
    (Consciousness.AWAKENS_TO_TOUCH, "Awakens only to touch"),
    (Consciousness.UNAROUSABLE, "Unarousable, stupor or coma"),
]
SEIZURE_CHOICES = [
    (Seizure.NONE, "None"),
    (Seizure.RESOLVED_RAPIDLY, "Resolved rapidly, or EEG-only resolving with treatment"),
    (Seizure.PROLONGED_OR_REPETITIVE, "Prolonged (> 5 min) or repetitive"),
]
EDEMA_CHOICES = [
    (CerebralEdema.NONE, "None"),
    (CerebralEdema.FOCAL, "Focal or local edema"),
    (CerebralEdema.DIFFUSE, "Diffuse edema, posturing, CN VI palsy, papilledema, Cushing's"),
]


@dataclass(frozen=True)
class LiveGrade:
    """One syndrome's grade, or why it cannot be graded yet."""

    result: GradeResult | None
    problem: str = ""


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
        return LiveGrade(None, "enter the highest temperature to grade CRS")
    try:
        return LiveGrade(grade_crs_payload(crs_payload(fields))[0])
    except GradingInputError as exc:
        return LiveGrade(None, exc.message)


def live_icans(fields: dict[str, str], *, age_years: float) -> LiveGrade:
    try:
        return LiveGrade(grade_icans_payload(icans_payload(fields, age_years=age_years))[0])
    except GradingInputError as exc:
        return LiveGrade(None, exc.message)
