"""API shapes of the clinical steps up to the infusion: protocol, consent, eligibility,
lymphodepletion, CAR-HEMATOTOX, the bedside identity check and the infusion record.

Times are timezone-aware (`AwareDatetime`): a bedside time without its offset is refused rather
than guessed. Unknown fields are refused so a misspelt lab or dose is never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from cartflow.clinical.eligibility import EligibilityCriteria, LabLimit, LabTest
from cartflow.clinical.hematotox import HematotoxRisk
from cartflow.clinical.lymphodepletion import LdDose, LdRegimen, RenalFunction
from cartflow.models import EpisodeState
from cartflow.models.clinical import ConsentKind
from cartflow.models.clinical_infusion import BedsideCheckStatus

_IN = ConfigDict(extra="forbid")
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Password = Annotated[SecretStr, Field(min_length=1, description="your password, to sign")]


class ProtocolIn(BaseModel):
    model_config = _IN

    max_ecog: Annotated[int | None, Field(ge=0, le=4)] = None
    min_karnofsky_lansky: Annotated[int | None, Field(ge=0, le=100)] = None
    labs: dict[LabTest, LabLimit] = Field(default_factory=dict)
    ld_regimen_code: str | None = Field(default=None, max_length=32)
    source: str = Field(min_length=1, max_length=500, description="protocol or label it follows")


class ProtocolOut(BaseModel):
    product_code: str
    version: int = Field(description="0 = no protocol configured: the default criteria apply")
    criteria: EligibilityCriteria
    ld_regimen_code: str | None
    effective_from: dt.datetime | None


class ConsentIn(BaseModel):
    model_config = _IN

    kind: ConsentKind = ConsentKind.TREATMENT
    signed_on: dt.date
    form_version: str = Field(min_length=1, max_length=64)
    signed_by: Literal["patient", "parent", "legal_guardian"] = "patient"


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    kind: ConsentKind
    signed_on: dt.date
    form_version: str
    signed_by: str
    recorded_at: dt.datetime
    withdrawn_on: dt.date | None


class EligibilityIn(BaseModel):
    model_config = _IN

    ecog: Annotated[int | None, Field(ge=0, le=5)] = None
    karnofsky_lansky: Annotated[int | None, Field(ge=0, le=100)] = None
    labs: dict[LabTest, NonNegative] = Field(default_factory=dict)
    notes: str = Field(default="", max_length=4000)


class RuleFailure(BaseModel):
    code: str
    message: str


class EligibilityOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    assessed_at: dt.datetime
    eligible: bool
    failures: list[RuleFailure]
    protocol_version: int
    episode_state: EpisodeState


class LdPlanIn(BaseModel):
    model_config = _IN

    infusion_date: dt.date = Field(description="planned day 0")
    regimen: str | None = Field(
        default=None, description="a built-in regimen code; default: the product protocol's"
    )
    custom_regimen: LdRegimen | None = None
    crcl_ml_min: NonNegative | None = Field(default=None, description="measured or estimated")
    serum_creatinine_mg_dl: Positive | None = Field(
        default=None, description="to estimate CrCl by Cockcroft-Gault when crcl_ml_min is absent"
    )
    fludarabine_dose_factor: Annotated[float | None, Field(ge=0, le=1)] = None
    height_cm: Positive | None = Field(default=None, description="default: the patient record")
    weight_kg: Positive | None = Field(default=None, description="default: the patient record")
    reason: str = Field(default="", max_length=2000, description="needed when re-planning")


class LdPlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    regimen_code: str
    infusion_date: dt.date
    height_cm: float
    weight_kg: float
    bsa_m2: float
    crcl_ml_min: float
    renal_function: RenalFunction
    reduced_renal_function: bool
    renal_reason: str
    fludarabine_dose_factor: float
    doses: list[LdDose]
    created_at: dt.datetime
    supersedes_id: uuid.UUID | None
    started_at: dt.datetime | None


class LdStartIn(BaseModel):
    model_config = _IN

    started_at: AwareDatetime | None = Field(default=None, description="default: now")
    reason: str = Field(default="", max_length=2000)


class HematotoxIn(BaseModel):
    model_config = _IN

    measured_on: dt.date
    platelets_10e9_per_l: NonNegative
    anc_per_ul: NonNegative
    hemoglobin_g_per_dl: NonNegative
    crp_mg_per_dl: NonNegative
    ferritin_ng_per_ml: NonNegative


class HematotoxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    measured_on: dt.date
    score: int
    risk: HematotoxRisk
    points: dict[str, int]


class BedsideScanIn(BaseModel):
    model_config = _IN

    bag_scan: str = Field(min_length=1, max_length=200, examples=["&/CHA999926000123"])
    wristband_scan: str = Field(
        min_length=1, max_length=200, examples=["WB:P-7K3MXQ2A/&/CHA999926000123"]
    )
    password: Password
    scanned_at: AwareDatetime | None = Field(default=None, description="default: now")


class SignatureOut(BaseModel):
    signer_username: str
    signer_printed_name: str
    meaning: str
    signed_at: dt.datetime
    valid: bool = Field(description="the signature still matches the record it signed")


class BedsideCheckOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    chain_of_identity: str
    status: BedsideCheckStatus
    first_scanner: str
    first_scanned_at: dt.datetime
    second_scanner: str | None
    second_scanned_at: dt.datetime | None
    signatures: list[SignatureOut]


class InfusionIn(BaseModel):
    model_config = _IN

    bedside_check_id: uuid.UUID
    thaw_started_at: AwareDatetime
    thaw_completed_at: AwareDatetime
    infusion_started_at: AwareDatetime
    infusion_ended_at: AwareDatetime
    cells_infused_1e6: Positive = Field(description="CAR-positive viable T cells, x10^6")
    volume_ml: Positive
    bags: Annotated[int, Field(ge=1, le=10)] = 1
    complete: bool = Field(default=True, description="the whole product was given")
    deviation_reason: str = Field(
        default="", max_length=2000, description="needed when outside the post-thaw window"
    )
    notes: str = Field(default="", max_length=4000)


class InfusionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    bedside_check_id: uuid.UUID
    thaw_started_at: dt.datetime
    thaw_completed_at: dt.datetime
    infusion_started_at: dt.datetime
    infusion_ended_at: dt.datetime
    post_thaw_window_minutes: int
    thaw_to_end_minutes: float
    thaw_window_exceeded: bool
    deviation_reason: str
    cells_infused_1e6: float
    volume_ml: float
    bags: int
    complete: bool
    recorded_at: dt.datetime
