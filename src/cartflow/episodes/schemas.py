"""API shapes for patients, episodes and transitions."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cartflow.i18n import gettext
from cartflow.models import Diagnosis, DiseaseStatus, EpisodeState, Sex, WithdrawalReason


class PatientCreate(BaseModel):
    mrn: str = Field(min_length=1, max_length=64, description="the center's medical record number")
    family_name: str = Field(default="", max_length=100)
    given_name: str = Field(default="", max_length=100)
    date_of_birth: dt.date
    sex: Sex
    weight_kg: float = Field(gt=0, lt=400)
    height_cm: float = Field(gt=0, lt=260)
    diagnosis: Diagnosis
    disease_status: DiseaseStatus
    prior_lines_of_therapy: int = Field(default=0, ge=0, le=30)
    center: str | None = Field(
        default=None, description="center code; needed only when the user works at several"
    )

    @model_validator(mode="after")
    def _born_in_the_past(self) -> PatientCreate:
        if self.date_of_birth > dt.date.today():  # noqa: DTZ011 - a calendar date, not a time
            raise ValueError(gettext("date_of_birth is in the future"))
        if self.date_of_birth.year < 1900:
            raise ValueError(gettext("date_of_birth is before 1900"))
        return self


class PatientUpdate(BaseModel):
    weight_kg: float | None = Field(default=None, gt=0, lt=400)
    height_cm: float | None = Field(default=None, gt=0, lt=260)
    disease_status: DiseaseStatus | None = None
    prior_lines_of_therapy: int | None = Field(default=None, ge=0, le=30)
    reason: str = Field(min_length=1, max_length=1000, description="why the record changes")


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    pseudonym: str
    center_id: uuid.UUID
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: dt.date
    sex: Sex
    weight_kg: float
    height_cm: float
    diagnosis: Diagnosis
    disease_status: DiseaseStatus
    prior_lines_of_therapy: int
    is_synthetic: bool


class EpisodeCreate(BaseModel):
    patient_id: uuid.UUID
    product: str = Field(min_length=1, max_length=32, description="product code")
    priority: int = Field(default=5, ge=1, le=10, description="clinical priority, 10 most urgent")
    earliest_apheresis_date: dt.date
    latest_infusion_date: dt.date | None = None
    notes: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _window(self) -> EpisodeCreate:
        if (
            self.latest_infusion_date is not None
            and self.latest_infusion_date <= self.earliest_apheresis_date
        ):
            raise ValueError(gettext("latest_infusion_date must be after earliest_apheresis_date"))
        return self


class EpisodeOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_pseudonym: str
    product_code: str
    center_code: str
    site_code: str
    chain_of_identity: str | None
    chain_of_identity_check_character: str | None = Field(
        description="ISO 7064 Mod 37-2 check character, printed boxed beside the identifier"
    )
    state: EpisodeState
    state_changed_at: dt.datetime
    withdrawal_reason: WithdrawalReason | None
    priority: int
    referred_on: dt.date
    earliest_apheresis_date: dt.date
    latest_infusion_date: dt.date | None
    planned_apheresis_date: dt.date | None
    planned_infusion_date: dt.date | None
    version: int
    next_transitions: list[str]


class TransitionRequest(BaseModel):
    transition: str = Field(min_length=1, max_length=48, examples=["confirm_eligibility"])
    reason: str = Field(default="", max_length=2000)
    withdrawal_reason: WithdrawalReason | None = None
    planned_apheresis_date: dt.date | None = None
    planned_infusion_date: dt.date | None = None
    expected_version: int | None = Field(
        default=None, description="refuse if the episode changed since it was read"
    )


class StateChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transition: str
    from_state: EpisodeState
    to_state: EpisodeState
    occurred_at: dt.datetime
    actor_id: uuid.UUID
    reason: str


class TransitionOut(BaseModel):
    name: str
    target: EpisodeState
    description: str
