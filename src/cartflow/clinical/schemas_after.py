"""API shapes after the infusion: toxicity assessments and treatments, blood counts and ICAHT,
response, progression, death, follow-up and the clinician worklists.

A toxicity assessment carries the grading contract's objects (`cartflow.clinical.grading_schemas`)
under `crs` and `icans`; the ICANS object takes no `age_years` because the age comes from the
patient record at the time of the assessment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from cartflow.clinical.followup_schedule import VisitState, VisitStatus
from cartflow.clinical.grading_schemas import (
    CerebralEdema,
    Consciousness,
    CrsAssessment,
    Seizure,
)
from cartflow.clinical.icaht import IcahtGrade, Recovery
from cartflow.clinical.response import DeathCause, MyelomaAssessment, UptakeChange
from cartflow.clinical.toxicity_course import CourseSummary
from cartflow.models import EpisodeState
from cartflow.models.clinical_outcome import DiseaseEventKind, ResponseFramework
from cartflow.models.clinical_toxicity import TreatmentAgent, TreatmentIndication

_IN = ConfigDict(extra="forbid")
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class IcansObservation(BaseModel):
    """The ICANS grading contract without `age_years` (taken from the patient's date of birth)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ice_score: Annotated[int | None, Field(strict=True, ge=0, le=10)] = None
    capd_score: Annotated[int | None, Field(strict=True, ge=0, le=32)] = None
    unable_to_assess: StrictBool = False
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: StrictBool = False
    cerebral_edema: CerebralEdema
    died_of_icans: StrictBool = False


class Vitals(BaseModel):
    """Optional bedside values behind the CRS categories; checked against them when given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    systolic_bp_mmhg: Annotated[int | None, Field(ge=20, le=300)] = None
    diastolic_bp_mmhg: Annotated[int | None, Field(ge=10, le=200)] = None
    heart_rate_bpm: Annotated[int | None, Field(ge=10, le=300)] = None
    spo2_pct: Annotated[int | None, Field(ge=0, le=100)] = None
    oxygen_l_min: Annotated[float | None, Field(ge=0, le=80)] = None
    vasopressors: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, description="agents running, e.g. norepinephrine, vasopressin"
    )


class ToxicityAssessmentIn(BaseModel):
    model_config = _IN

    assessed_at: AwareDatetime
    crs: CrsAssessment | None = None
    icans: IcansObservation | None = None
    vitals: Vitals = Field(default_factory=Vitals)
    notes: str = Field(default="", max_length=4000)


class ToxicityCorrectionIn(ToxicityAssessmentIn):
    reason: str = Field(min_length=1, max_length=2000, description="why the record is corrected")


class ToxicityAssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    assessed_at: dt.datetime
    crs_grade: int | None
    crs_reason: str
    icans_grade: int | None
    icans_reason: str
    crs_input: dict[str, Any] | None
    icans_input: dict[str, Any] | None
    grading_source: str
    vitals: dict[str, Any]
    notes: str
    supersedes_id: uuid.UUID | None
    correction_reason: str


class TreatmentIn(BaseModel):
    model_config = _IN

    agent: TreatmentAgent
    indication: TreatmentIndication
    given_at: AwareDatetime
    dose_mg: Annotated[float, Field(gt=0, le=5000, allow_inf_nan=False)]
    route: Literal["iv", "sc", "po"] = "iv"
    weight_kg: Annotated[float | None, Field(gt=0, lt=400)] = Field(
        default=None, description="default: the patient record"
    )
    override_reason: str = Field(
        default="", max_length=2000, description="to record a dose outside the label's limits"
    )
    notes: str = Field(default="", max_length=4000)


class TreatmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    agent: TreatmentAgent
    indication: TreatmentIndication
    given_at: dt.datetime
    dose_mg: float
    route: str
    weight_kg: float
    label_dose_mg: float | None
    rule_flags: list[dict[str, str]]
    override_reason: str


class CourseOut(BaseModel):
    episode_id: uuid.UUID
    infusion_date: dt.date | None
    crs: CourseSummary
    icans: CourseSummary
    treatments: dict[str, int] = Field(description="doses given, by agent")


class BloodCountIn(BaseModel):
    model_config = _IN

    sampled_on: dt.date
    anc_per_ul: NonNegative | None = None
    platelets_10e9_per_l: NonNegative | None = None
    platelet_transfusion: bool = False


class BloodCountsIn(BaseModel):
    model_config = _IN

    counts: list[BloodCountIn] = Field(min_length=1, max_length=500)


class IcahtOut(BaseModel):
    episode_id: uuid.UUID
    infusion_date: dt.date
    censored_on: dt.date | None = Field(description="progression, relapse or death")
    early_neutrophil: IcahtGrade
    late_neutrophil: IcahtGrade
    early_platelet: IcahtGrade
    late_platelet: IcahtGrade
    anc_recovery: Recovery
    platelet_recovery: Recovery


class _ResponseBase(BaseModel):
    model_config = _IN

    assessed_on: dt.date
    notes: str = Field(default="", max_length=4000)


class LuganoPetIn(_ResponseBase):
    framework: Literal[ResponseFramework.LUGANO_PET]
    deauville: Annotated[int, Field(ge=1, le=5)]
    uptake_vs_baseline: UptakeChange
    new_fdg_avid_lesions: bool
    new_or_recurrent_marrow_involvement: bool = False
    residual_fdg_avid_marrow: bool = False


class LuganoCtIn(_ResponseBase):
    framework: Literal[ResponseFramework.LUGANO_CT]
    baseline_spd_cm2: Annotated[float, Field(gt=0)]
    current_spd_cm2: NonNegative
    target_nodes_all_le_1_5_cm: bool
    extralymphatic_disease_absent: bool
    marrow_normal: bool
    new_lesions: bool
    any_lesion_progressed: bool


class ImwgIn(_ResponseBase):
    framework: Literal[ResponseFramework.IMWG]
    myeloma: MyelomaAssessment


class BallIn(_ResponseBase):
    framework: Literal[ResponseFramework.B_ALL]
    marrow_blasts_pct: Annotated[float, Field(ge=0, le=100)]
    circulating_blasts: bool
    extramedullary_disease: bool
    anc_10e9_per_l: NonNegative
    platelets_10e9_per_l: NonNegative
    transfusion_independent: bool
    mrd_flow_pct: Annotated[float | None, Field(ge=0, le=100)] = None


ResponseIn = Annotated[LuganoPetIn | LuganoCtIn | ImwgIn | BallIn, Field(discriminator="framework")]


class ResponseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    assessed_on: dt.date
    day_after_infusion: int | None
    framework: ResponseFramework
    response: str
    mrd_negative: bool | None
    inputs: dict[str, Any]
    source: str


class DiseaseEventIn(BaseModel):
    model_config = _IN

    kind: DiseaseEventKind
    occurred_on: dt.date
    cd19_negative: bool | None = None
    notes: str = Field(default="", max_length=4000)


class DiseaseEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    kind: DiseaseEventKind
    occurred_on: dt.date
    cd19_negative: bool | None


class DeathIn(BaseModel):
    model_config = _IN

    died_on: dt.date
    cause: DeathCause
    notes: str = Field(default="", max_length=4000)


class DeathOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    died_on: dt.date
    cause: DeathCause
    non_relapse_mortality: bool


class VisitIn(BaseModel):
    model_config = _IN

    completed_on: dt.date
    notes: str = Field(default="", max_length=4000)


class FollowUpOut(BaseModel):
    episode_id: uuid.UUID
    infusion_date: dt.date
    stopped_on: dt.date | None
    visits: list[VisitState]


class ToxicityWorklistRow(BaseModel):
    episode_id: uuid.UUID
    patient_pseudonym: str
    center_code: str
    state: EpisodeState
    assessed_at: dt.datetime
    crs_grade: int | None
    icans_grade: int | None


class FollowUpWorklistRow(BaseModel):
    episode_id: uuid.UUID
    patient_pseudonym: str
    center_code: str
    visit_key: str
    label: str
    target: dt.date
    window_start: dt.date
    window_end: dt.date
    status: VisitStatus
