"""API shapes of batches, steps, QC results, disposition and the worklists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from cartflow.i18n import _
from cartflow.models.manufacturing import BatchState, StepKind
from cartflow.models.manufacturing_qc import DispositionDecision, DispositionStatus

Parameters = dict[str, float | int | str | bool]
Usernames = list[str]


def _check_parameters(parameters: Parameters) -> Parameters:
    if len(parameters) > 30:
        raise ValueError(_("at most 30 parameters"))
    for key, value in parameters.items():
        if not 0 < len(key) <= 64:
            raise ValueError(_("a parameter name has 1-64 characters"))
        if isinstance(value, str) and len(value) > 200:
            raise ValueError(_("parameter {name} is longer than 200 characters", name=key))
    return parameters


class BatchStart(BaseModel):
    episode_id: uuid.UUID
    device: str = Field(min_length=1, max_length=32, description="device code at the site")
    received_at: AwareDatetime = Field(description="receipt of the apheresis material")
    operators: Usernames = Field(default_factory=list, max_length=10)
    notes: str = Field(default="", max_length=4000)
    parameters: Parameters = Field(default_factory=dict, examples=[{"cd3_cells": 1.2e9}])

    @model_validator(mode="after")
    def _parameters(self) -> BatchStart:
        _check_parameters(self.parameters)
        return self


class StepRecord(BaseModel):
    step: StepKind
    started_at: AwareDatetime
    completed_at: AwareDatetime | None = Field(default=None, description="default: now")
    operators: Usernames = Field(default_factory=list, max_length=10)
    notes: str = Field(default="", max_length=4000)
    parameters: Parameters = Field(default_factory=dict)

    @model_validator(mode="after")
    def _parameters(self) -> StepRecord:
        _check_parameters(self.parameters)
        return self


class StepCorrection(BaseModel):
    started_at: AwareDatetime
    completed_at: AwareDatetime
    operators: Usernames = Field(default_factory=list, max_length=10)
    notes: str = Field(default="", max_length=4000)
    parameters: Parameters = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=2000, description="why the record is corrected")

    @model_validator(mode="after")
    def _parameters(self) -> StepCorrection:
        _check_parameters(self.parameters)
        return self


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Terminate(Reason):
    remanufacture: bool = Field(default=False, description="send the episode back for a new run")


class SubmitForQc(BaseModel):
    reason: str = Field(default="", max_length=2000)


# A categorical QC outcome is a short word or phrase ("no growth", "not detected").
QcValue = float | Annotated[str, StringConstraints(max_length=200)]


class QcResultIn(BaseModel):
    test: str = Field(min_length=1, max_length=64, examples=["viability_percent"])
    value: QcValue = Field(examples=[92.5, "no growth"])
    method: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=2000)


class RetestIn(BaseModel):
    value: QcValue
    reason: str = Field(min_length=1, max_length=2000, description="why the test is repeated")
    method: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=2000)


class ExceptionalReleaseRequestIn(BaseModel):
    justification: str = Field(
        min_length=20, max_length=4000, description="the physician's written justification"
    )
    password: str = Field(min_length=1, max_length=200, description="signs the request")


class Sign(BaseModel):
    password: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)


class Reject(BaseModel):
    password: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    remanufacture: bool = Field(default=False, description="send the episode back for a new run")


class CriteriaIn(BaseModel):
    criteria: dict[str, Any]


# --- out ----------------------------------------------------------------------------------------


class Person(BaseModel):
    username: str
    printed_name: str


class StepOut(BaseModel):
    id: uuid.UUID
    step: StepKind
    revision: int
    current: bool
    supersedes_id: uuid.UUID | None
    started_at: dt.datetime
    completed_at: dt.datetime
    recorded_by: Person
    recorded_at: dt.datetime
    operators: list[Person]
    notes: str
    parameters: dict[str, Any]
    correction_reason: str


class QcResultOut(BaseModel):
    id: uuid.UUID
    batch_id: uuid.UUID
    test: str
    title: str
    attempt: int
    current: bool
    supersedes_id: uuid.UUID | None
    retest_reason: str
    value: float | str
    unit: str
    method: str
    comment: str
    limit: str
    within_spec: bool
    failed_limit: str | None
    compared_value: float | None
    entered_by: Person
    entered_at: dt.datetime
    verified_by: Person | None
    verified_at: dt.datetime | None


class SignatureOut(BaseModel):
    signer: Person
    meaning: str
    signed_at: dt.datetime
    valid: bool = Field(description="the signature still matches the record it signed")


class ExceptionalReleaseRequestOut(BaseModel):
    id: uuid.UUID
    physician: Person
    requested_at: dt.datetime
    justification: str
    signature: SignatureOut


class DispositionOut(BaseModel):
    id: uuid.UUID
    decision: DispositionDecision
    status: DispositionStatus
    exceptional: bool
    reason: str
    specification_version: int
    signatures: list[SignatureOut]


class CriterionOut(BaseModel):
    test: str
    title: str
    limit: str
    unit: str
    required: bool
    description: str


class BatchSummary(BaseModel):
    id: uuid.UUID
    din: str
    episode_id: uuid.UUID
    chain_of_identity: str | None
    product_code: str
    run_number: int
    device_code: str
    state: BatchState
    started_at: dt.datetime


class BatchOut(BatchSummary):
    site_code: str
    remanufacture_of_id: uuid.UUID | None
    started_by: Person
    next_step: StepKind | None
    cryopreserved_at: dt.datetime | None
    submitted_for_qc_at: dt.datetime | None
    closed_at: dt.datetime | None
    termination_reason: str
    specification_version: int | None
    specification: list[CriterionOut]
    patient_weight_kg: float | None
    steps: list[StepOut]
    results: list[QcResultOut]
    exceptional_request: ExceptionalReleaseRequestOut | None
    dispositions: list[DispositionOut]
    version: int


class PendingVerification(BaseModel):
    result_id: uuid.UUID
    test: str
    entered_by: Person
    entered_at: dt.datetime
    within_spec: bool
    entered_by_you: bool = Field(description="you cannot verify it (four-eyes)")


class QcWorkItem(BaseModel):
    batch_id: uuid.UUID
    din: str
    chain_of_identity: str | None
    product_code: str
    submitted_for_qc_at: dt.datetime | None
    awaiting_entry: list[str]
    awaiting_verification: list[PendingVerification]
    out_of_specification: list[str]


class QpWorkItem(BaseModel):
    batch_id: uuid.UUID
    din: str
    chain_of_identity: str | None
    product_code: str
    state: BatchState
    submitted_for_qc_at: dt.datetime | None
    ready: bool = Field(description="every required result present and verified")
    blocking: list[str]
    out_of_specification: list[str]
    exceptional_request: bool
    first_signer: Person | None
    you_may_sign: bool = Field(description="false when you entered or verified a result")


class QcTestOut(BaseModel):
    name: str
    title: str
    kind: str
    unit: str
    lowest: float | None
    highest: float | None
    outcomes: list[str]
    typical_method: str


class SpecificationCheckOut(BaseModel):
    criteria: list[CriterionOut]
    required_tests: list[str]
