"""Duration distributions for scenario files (all in days).

A scenario gives a duration either as a plain number (a fixed value) or as a mapping with a `kind`:
`fixed`, `uniform_int` (whole days, both ends included), `uniform`, `triangular`, `exponential`
or `gamma` (mean and coefficient of variation). Each knows its mean and variance, which the
queueing checks (Erlang C, Allen-Cunneen) need, and draws a vector of samples at once because the
engine pre-draws every patient's durations before the event loop starts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float64]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fixed(_Dist):
    kind: Literal["fixed"] = "fixed"
    value: float = Field(ge=0)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value, dtype=np.float64)


class UniformInt(_Dist):
    """Whole days from `low` to `high` inclusive, each equally likely (e.g. a 10-14 day process)."""

    kind: Literal["uniform_int"] = "uniform_int"
    low: int = Field(ge=0)
    high: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> UniformInt:
        if self.high < self.low:
            raise ValueError("high must not be below low")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def variance(self) -> float:
        n = self.high - self.low + 1
        return (n * n - 1) / 12.0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.integers(self.low, self.high + 1, size=size).astype(np.float64)


class Uniform(_Dist):
    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must not be below low")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12.0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low, self.high, size=size)


class Triangular(_Dist):
    kind: Literal["triangular"] = "triangular"
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.triangular(self.low, self.mode, self.high, size=size)


class Exponential(_Dist):
    kind: Literal["exponential"] = "exponential"
    mean_days: float = Field(gt=0, alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_days

    @property
    def variance(self) -> float:
        return self.mean_days**2

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_days, size=size)


class Gamma(_Dist):
    """Gamma with a given mean and coefficient of variation (cv=1 is exponential, cv→0 fixed)."""

    kind: Literal["gamma"] = "gamma"
    mean_days: float = Field(gt=0, alias="mean")
    cv: float = Field(gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_days

    @property
    def variance(self) -> float:
        return (self.cv * self.mean_days) ** 2

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        shape = 1.0 / (self.cv * self.cv)
        return rng.gamma(shape, self.mean_days / shape, size=size)


def _number_is_fixed(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "fixed", "value": value}
    return value


Duration = Annotated[
    Fixed | UniformInt | Uniform | Triangular | Exponential | Gamma,
    Field(discriminator="kind"),
    BeforeValidator(_number_is_fixed),
]


def squared_cv(dist: Fixed | UniformInt | Uniform | Triangular | Exponential | Gamma) -> float:
    """Squared coefficient of variation c_s² = Var/mean², the service term in Allen-Cunneen."""
    if dist.mean == 0:
        return 0.0
    return dist.variance / (dist.mean * dist.mean)
