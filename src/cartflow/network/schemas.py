"""API shapes for the network's reference data: sites, devices, centers, routes, products."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cartflow.errors import CartflowError
from cartflow.identity.isbt128 import ProductCode
from cartflow.models import Diagnosis, PatientPopulation, ProductKind

Code = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9-]+$")


class DeviceIn(BaseModel):
    code: str = Code
    kind: str = Field(min_length=1, max_length=64)


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    kind: str
    active: bool


class SiteIn(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(default="RU", pattern=r"^[A-Z]{2}$")
    timezone: str = Field(default="Europe/Moscow", max_length=64)
    facility_identification_number: str = Field(pattern=r"^[A-Z][0-9A-Z]{4}$")
    qc_release_capacity_per_day: int = Field(ge=0, le=1000)
    devices: list[DeviceIn] = Field(default_factory=list)


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    name: str
    city: str
    country: str
    timezone: str
    facility_identification_number: str
    qc_release_capacity_per_day: int
    active: bool
    devices: list[DeviceOut]


class RouteIn(BaseModel):
    site: str = Field(description="manufacturing site code")
    transit_days: int = Field(ge=0, le=30)
    courier_weekdays: str = Field(default="12345", pattern=r"^[1-7]{1,7}$")


class RouteOut(BaseModel):
    site_id: uuid.UUID
    site_code: str
    transit_days: int
    courier_weekdays: str


class CenterIn(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    timezone: str = Field(default="Europe/Moscow", max_length=64)
    population: PatientPopulation
    apheresis_chairs_per_day: int = Field(ge=0, le=100)
    infusion_beds_per_day: int = Field(ge=0, le=200)
    routes: list[RouteIn] = Field(default_factory=list)


class CenterOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    city: str
    timezone: str
    population: PatientPopulation
    apheresis_chairs_per_day: int
    infusion_beds_per_day: int
    active: bool
    routes: list[RouteOut]


class IndicationIn(BaseModel):
    diagnosis: Diagnosis
    min_age_years: int = Field(ge=0, le=120)
    max_age_years: int | None = Field(default=None, ge=0, le=120)
    min_prior_lines: int = Field(default=0, ge=0, le=20)
    note: str = Field(default="", max_length=500)


class IndicationOut(IndicationIn):
    model_config = ConfigDict(from_attributes=True)


class SpecificationIn(BaseModel):
    criteria: dict[str, Any] = Field(description="test name -> its acceptance limits")
    source: str = Field(default="", max_length=500)


class SpecificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    criteria: dict[str, Any]
    source: str
    superseded: bool


class ProductIn(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    inn: str = Field(min_length=1, max_length=200)
    kind: ProductKind
    holder: str = Field(min_length=1, max_length=200)
    target_antigen: str = Field(min_length=1, max_length=32)
    isbt_product_code: str = Field(
        min_length=8, max_length=8, description="ISBT 128 product code (cellular therapy: S...)"
    )
    manufacturing_site: str = Field(description="manufacturing site code")
    manufacturing_days: int = Field(gt=0, le=120)
    qc_days: int = Field(ge=0, le=60)
    shelf_life_days: int = Field(gt=0, le=3650)
    storage_temperature_max_c: int = Field(le=-60, ge=-200)
    post_thaw_window_minutes: int = Field(gt=0, le=24 * 60)
    fresh_apheresis_max_hours: int | None = Field(default=None, gt=0, le=24 * 30 * 30)
    gene_modified: bool = True
    indications: list[IndicationIn] = Field(min_length=1)
    specification: SpecificationIn | None = None

    @field_validator("isbt_product_code")
    @classmethod
    def _cellular_therapy_code(cls, value: str) -> str:
        # ST-001 §2.4.3: 5-character description code, collection type, 2-character division.
        try:
            return ProductCode.parse(value, cellular_therapy=True).value
        except CartflowError as exc:
            raise ValueError(exc.message) from None


class ProductOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    inn: str
    kind: ProductKind
    holder: str
    target_antigen: str
    isbt_product_code: str
    manufacturing_site_code: str
    manufacturing_days: int
    qc_days: int
    shelf_life_days: int
    storage_temperature_max_c: int
    post_thaw_window_minutes: int
    fresh_apheresis_max_hours: int | None
    gene_modified: bool
    active: bool
    indications: list[IndicationOut]
    current_specification: SpecificationOut | None
