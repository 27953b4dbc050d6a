"""Registry API shapes: the cohort filter (query parameters) and the aggregated outputs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cartflow.models import Diagnosis, EpisodeState, WithdrawalReason
from cartflow.registry.cohorts import CohortFilter


class CohortQuery(BaseModel):
    """Filters of a registry cohort; every one is optional."""

    center: str | None = Field(default=None, max_length=32, description="treatment center code")
    product: str | None = Field(default=None, max_length=32, description="product code")
    indication: Diagnosis | None = None
    age_group: Literal["pediatric", "adult"] | None = Field(
        default=None, description="age at referral: pediatric < 18 years, adult >= 18"
    )
    referred_from: dt.date | None = None
    referred_to: dt.date | None = None

    def to_filter(self) -> CohortFilter:
        return CohortFilter(
            center=self.center,
            product=self.product,
            indication=self.indication,
            age_group=self.age_group,
            referred_from=self.referred_from,
            referred_to=self.referred_to,
        )


class DropoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reason: WithdrawalReason
    from_state: EpisodeState
    count: int


class CohortOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    referred: int
    apheresed: int
    infused: int
    withdrawn: int
    dropouts: list[DropoutOut]


class ProportionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    successes: int
    n: int
    estimate: float
    ci_lower: float
    ci_upper: float
    conf_level: float


class ResponseRatesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    overall: ProportionOut
    complete: ProportionOut
    not_evaluable: int


class GradeRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    threshold: int
    rate: ProportionOut
    not_reported: int


class QuartilesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float


class SummaryOut(BaseModel):
    """Rates and times of the infused patients; a part without data is null."""

    model_config = ConfigDict(from_attributes=True)

    infused: int
    response: ResponseRatesOut | None
    crs_grade3: GradeRateOut | None
    icans_grade3: GradeRateOut | None
    vein_to_vein_days: QuartilesOut | None
    relapse_incidence: dict[str, object] | None = Field(
        description="Aalen-Johansen cumulative incidence, cause 1 relapse/progression, cause 2 "
        "non-relapse mortality, in the `registry cif --json` shape"
    )
