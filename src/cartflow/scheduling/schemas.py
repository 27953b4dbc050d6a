"""API shapes for slot booking."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from cartflow.models.scheduling import BookingStatus


class BookingRequest(BaseModel):
    apheresis_date: dt.date
    device: str = Field(
        min_length=1, max_length=32, description="device code at the product's site"
    )
    manufacturing_start: dt.date | None = Field(
        default=None, description="default: the day the material arrives at the site"
    )
    expected_version: int | None = Field(default=None, description="the episode version you read")


class BookingMove(BookingRequest):
    reason: str = Field(
        min_length=3, max_length=500, description="why the booking moves (kept in the audit trail)"
    )


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    episode_id: uuid.UUID
    apheresis_date: dt.date
    chair_number: int
    device_code: str
    manufacturing_start: dt.date
    manufacturing_days: int
    planned_release_date: dt.date
    planned_infusion_date: dt.date
    status: BookingStatus


class DeviceLoad(BaseModel):
    device_code: str
    busy_days: list[dt.date]
