"""Input and output shapes of the ASTCT grading contract (issue 6, item 5).

The field names are the stable contract shared by `cartflow grade crs|icans`,
`POST /grading/crs|icans` and the toxicity assessments the database stores; do not rename them.

Strictness is deliberate: a bedside value that is silently coerced (the string "yes" read as true,
a Fahrenheit temperature read as Celsius, a typo in a field name ignored) would produce a wrong
grade with no warning, so booleans and numbers are strict, unknown fields are refused, and
physiologically impossible temperatures are refused. Enum members are listed from least to most
severe; the monotonicity tests rely on that order.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator

from cartflow.i18n import gettext

#: ICE is validated from age 12; younger children are assessed with CAPD (Lee et al. 2019).
ICE_MIN_AGE_YEARS = 12.0


class Hypotension(StrEnum):
    """Hypotension column of the ASTCT CRS table (vasopressin never counts as an extra pressor)."""

    NONE = "none"
    NO_VASOPRESSOR = "no_vasopressor"
    ONE_VASOPRESSOR = "one_vasopressor"
    MULTIPLE_VASOPRESSORS = "multiple_vasopressors"


class OxygenSupport(StrEnum):
    """Hypoxia column of the ASTCT CRS table, by the support the patient needs."""

    NONE = "none"
    LOW_FLOW = "low_flow"  # nasal cannula <= 6 L/min, or blow-by
    HIGH_FLOW = "high_flow"  # > 6 L/min, facemask, non-rebreather, Venturi
    POSITIVE_PRESSURE = "positive_pressure"  # CPAP, BiPAP, intubation and mechanical ventilation


class Consciousness(StrEnum):
    """Depressed level of consciousness domain of ICANS (no other cause, e.g. no sedation)."""

    ALERT = "alert"
    AWAKENS_SPONTANEOUSLY = "awakens_spontaneously"
    AWAKENS_TO_VOICE = "awakens_to_voice"
    AWAKENS_TO_TOUCH = "awakens_to_touch"
    UNAROUSABLE = "unarousable"  # or needs vigorous/repetitive tactile stimuli; stupor; coma


class Seizure(StrEnum):
    """Seizure domain of ICANS."""

    NONE = "none"
    RESOLVED_RAPIDLY = "resolved_rapidly"  # any clinical seizure resolving rapidly, or EEG-only
    PROLONGED_OR_REPETITIVE = "prolonged_or_repetitive"  # > 5 min, or no return to baseline


class CerebralEdema(StrEnum):
    """Elevated ICP / cerebral edema domain of ICANS (intracranial haemorrhage is excluded)."""

    NONE = "none"
    FOCAL = "focal"
    DIFFUSE = "diffuse"  # or posturing, cranial nerve VI palsy, papilledema, Cushing's triad


_STRICT = ConfigDict(extra="forbid", frozen=True)

Temperature = Annotated[
    float,
    Field(
        strict=True,
        ge=25.0,
        le=45.0,
        allow_inf_nan=False,
        description="Degrees Celsius; values outside 25-45 are refused (a Fahrenheit value is not "
        "a Celsius one).",
    ),
]


class CrsAssessment(BaseModel):
    """One CRS observation: the worst vital signs and support at the time of assessment."""

    model_config = _STRICT

    temperature_c: Temperature
    fever_other_cause: StrictBool = False
    anticytokine_given: StrictBool = Field(
        default=False,
        description="Tocilizumab or corticosteroids already given for CRS (fever then no longer "
        "required).",
    )
    hypotension: Hypotension
    oxygen: OxygenSupport
    hypotension_other_cause: StrictBool = False
    hypoxia_other_cause: StrictBool = False
    died_of_crs: StrictBool = False


class IcansAssessment(BaseModel):
    """One ICANS observation across the five neurotoxicity domains."""

    model_config = _STRICT

    age_years: Annotated[float, Field(strict=True, ge=0.0, le=130.0, allow_inf_nan=False)]
    ice_score: Annotated[int | None, Field(strict=True, ge=0, le=10)] = None
    capd_score: Annotated[int | None, Field(strict=True, ge=0, le=32)] = None
    unable_to_assess: StrictBool = Field(
        default=False, description="Unarousable and unable to perform ICE (or CAPD)."
    )
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: StrictBool = Field(
        default=False, description="Deep focal motor weakness such as hemiparesis or paraparesis."
    )
    cerebral_edema: CerebralEdema
    died_of_icans: StrictBool = False

    @field_validator("ice_score")
    @classmethod
    def _ice_needs_age_12(cls, value: int | None, info: ValidationInfo) -> int | None:
        """ICE is not suitable under 12 years (Lee 2019); such a score must go into capd_score."""
        age = info.data.get("age_years")
        if value is not None and isinstance(age, float) and age < ICE_MIN_AGE_YEARS:
            raise ValueError(
                gettext("ICE is not validated under age 12; record capd_score instead")
            )
        return value


class GradeResult(BaseModel):
    """A grade (0 means none, 5 means death) and the rule that set it."""

    model_config = ConfigDict(frozen=True)

    grade: Annotated[int, Field(ge=0, le=5)]
    reason: str
