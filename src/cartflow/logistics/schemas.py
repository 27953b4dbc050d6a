"""API shapes for containers, hand-offs, custody, shipments, temperature files and quarantine."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from cartflow.i18n import _
from cartflow.models import EpisodeState
from cartflow.models.custody import (
    ContainerKind,
    ContainerStatus,
    CustodianKind,
    DeviationStatus,
    HandoffStep,
)
from cartflow.models.logistics_shipment import QuarantineStatus, ShipmentMaterial, ShipmentStatus

MAX_SCANS = 50


class ContainerCreate(BaseModel):
    kind: ContainerKind
    count: int = Field(default=1, ge=1, le=10, description="how many labels of this kind")
    expires_at: AwareDatetime | None = Field(
        default=None, description="default: now + the product's shelf life (not for apheresis)"
    )


class CustodianOut(BaseModel):
    kind: CustodianKind
    code: str = Field(description="center or site code, or the courier's username")
    name: str


class ContainerOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    kind: ContainerKind
    din: str = Field(description="eye-readable DIN, e.g. A9999 26 000017")
    din_check_character: str
    product_code: str | None
    chain_of_identity: str
    status: ContainerStatus
    status_reason: str
    expires_at: dt.datetime | None
    custodian: CustodianOut | None
    location: str
    last_step: HandoffStep | None
    next_step: HandoffStep | None
    last_event_at: dt.datetime | None


class DiscardRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class WitnessIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class HandoffRequest(BaseModel):
    step: HandoffStep
    scans: list[str] = Field(
        min_length=1,
        max_length=MAX_SCANS,
        description="what the scanner typed, one entry per container (bar code or DIN + K)",
    )
    location: str = Field(default="", max_length=200, description="where the hand-off happens")
    temperature_c: float | None = Field(default=None, ge=-273.15, le=100)
    shipment_id: uuid.UUID | None = Field(
        default=None, description="needed only when the episode has several open shipments"
    )
    witness: WitnessIn | None = Field(
        default=None, description="the second person of a two-person step (receipt, bedside)"
    )

    @model_validator(mode="after")
    def _scan_lengths(self) -> HandoffRequest:
        for index, scan in enumerate(self.scans):
            if not 1 <= len(scan) <= 400:
                raise ValueError(_("scan {number} must be 1 to 400 characters", number=index + 1))
        return self


class ScanResultOut(BaseModel):
    raw: str
    din: str | None
    container_id: uuid.UUID | None
    accepted: bool
    duplicate: bool
    rule: str | None
    message: str


class CustodyEventOut(BaseModel):
    id: uuid.UUID
    handoff_id: uuid.UUID
    container_id: uuid.UUID
    din: str
    kind: ContainerKind
    step: HandoffStep
    from_custodian: CustodianOut | None
    to_custodian: CustodianOut
    occurred_at: dt.datetime
    scanned_by: str
    witness: str | None
    witness_signature_id: uuid.UUID | None
    location: str
    temperature_c: float | None
    raw_scan: str
    shipment_id: uuid.UUID | None


class HandoffOut(BaseModel):
    handoff_id: uuid.UUID | None
    step: HandoffStep
    episode_id: uuid.UUID
    episode_state: EpisodeState
    transition: str | None = Field(description="the episode step this hand-off completed")
    quarantine_id: uuid.UUID | None
    events: list[CustodyEventOut]
    results: list[ScanResultOut]


class HandoffRefusalOut(BaseModel):
    code: str = Field(description="the rule that stopped the hand-off")
    message: str
    deviation_ids: list[uuid.UUID]
    results: list[ScanResultOut]


class WhereOut(BaseModel):
    episode_id: uuid.UUID
    chain_of_identity: str
    episode_state: EpisodeState
    containers: list[ContainerOut]


class DeviationOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    step: HandoffStep
    rule: str
    message: str
    raw_scan: str
    location: str
    occurred_at: dt.datetime
    reported_by: str
    status: DeviationStatus
    closed_at: dt.datetime | None
    closed_by: str | None
    closure_note: str


class DeviationClose(BaseModel):
    note: str = Field(min_length=1, max_length=4000, description="investigation outcome")


class ShipmentCreate(BaseModel):
    material: ShipmentMaterial
    shipper_serial: str = Field(min_length=1, max_length=64)
    courier: str = Field(min_length=1, max_length=200)
    tracking_number: str = Field(default="", max_length=64)
    planned_departure_at: AwareDatetime
    planned_arrival_at: AwareDatetime
    max_transit_hours: int | None = Field(
        default=None, gt=0, description="stricter than the material's maximum, if wanted"
    )

    @model_validator(mode="after")
    def _window(self) -> ShipmentCreate:
        if self.planned_arrival_at <= self.planned_departure_at:
            raise ValueError(_("planned_arrival_at must be after planned_departure_at"))
        return self


class ShipmentOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    chain_of_identity: str
    material: ShipmentMaterial
    origin: str
    destination: str
    shipper_serial: str
    courier: str
    tracking_number: str
    planned_departure_at: dt.datetime
    planned_arrival_at: dt.datetime
    expected_arrival_at: dt.datetime
    departed_at: dt.datetime | None
    arrived_at: dt.datetime | None
    min_celsius: float | None
    max_celsius: float
    max_transit_hours: int
    status: ShipmentStatus


class WorklistItem(BaseModel):
    shipment: ShipmentOut
    patient_pseudonym: str
    product_code: str


class FindingOut(BaseModel):
    rule: str
    message: str


class TemperatureImportOut(BaseModel):
    id: uuid.UUID
    shipment_id: uuid.UUID
    filename: str
    sha256: str
    reading_count: int
    first_at: dt.datetime
    last_at: dt.datetime
    min_celsius: float
    max_celsius: float
    excursion: bool
    findings: list[FindingOut]
    quarantine_id: uuid.UUID | None


class QuarantineOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    shipment_id: uuid.UUID | None
    reason: str
    findings: list[FindingOut]
    opened_at: dt.datetime
    status: QuarantineStatus
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str
    signature_id: uuid.UUID | None
    container_ids: list[uuid.UUID]


class QuarantineDecision(BaseModel):
    decision: Literal["release", "reject"]
    reason: str = Field(min_length=1, max_length=4000)
    password: str = Field(min_length=1, max_length=200, description="your signature password")
