"""Release specifications: the catalogue of QC tests, the schema of a specification's criteria, and
judging a result against them. Pure: no database.

A product's `ReleaseSpecification.criteria` maps a test name from `TESTS` to its acceptance limits:

    numeric tests      {"min": 70}, {"max": 10}, {"less_than": 5}, {"greater_than": 0}  (any mix)
    categorical tests  {"equals": "no growth"}
    the dose           {"basis": "per_kg", "min": 0.5e6, "max": 5e6}  (max optional)
                       or {"bands": [{"basis": "per_kg", "min": .., "max": .., "max_weight_kg": 50,
                                      "diagnoses": ["B-ALL"]}, {"basis": "flat", ...}]}

Every criterion may carry `"required": false` (a result that does not hold up release, such as a
final sterility read-out that comes after release) and a `"description"` printed on the
certificate. The attributes and typical limits are those of published CAR-T release
specifications: ARI-0001 (Castella et al., Mol Ther Methods Clin Dev 2018;12:134, Table 2,
PMC6319086), the CliniMACS Prodigy CD20 CAR (Front Immunol 2024, PMC11461191) and the
tisagenlecleucel label (US prescribing information §2.1 and §3: dose by weight and indication);
see docs/manufacturing.md. Dose bands exist because a label's dose depends on the patient: the
first band whose diagnoses and weight limit match applies.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cartflow.errors import InvalidInput
from cartflow.i18n import Message, _
from cartflow.i18n.validation import validation_message
from cartflow.models import Diagnosis


class TestKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    DOSE = "dose"


@dataclass(frozen=True)
class QcTest:
    name: str
    title: Message
    kind: TestKind
    unit: str = ""
    # The physically possible range of a value (a percentage lies in 0-100): outside it the
    # number is a typing error, refused, not an out-of-specification result.
    lowest: float = 0.0
    highest: float = math.inf
    outcomes: tuple[str, ...] = ()
    typical_method: str = ""


_ABSENCE = ("not detected", "detected")

TESTS: dict[str, QcTest] = {
    t.name: t
    for t in (
        QcTest(
            "viability_percent",
            _("Viability"),
            TestKind.NUMERIC,
            "%",
            0,
            100,
            typical_method="trypan blue exclusion or 7-AAD flow cytometry",
        ),
        QcTest(
            "car_positive_percent",
            _("CAR-positive T cells"),
            TestKind.NUMERIC,
            "%",
            0,
            100,
            typical_method="flow cytometry, % of viable CD3+",
        ),
        QcTest(
            "vector_copy_number_per_cell",
            _("Vector copy number"),
            TestKind.NUMERIC,
            "copies/cell",
            0,
            100,
            typical_method="qPCR / ddPCR",
        ),
        QcTest(
            "cd3_positive_percent",
            _("Identity: CD3-positive cells"),
            TestKind.NUMERIC,
            "%",
            0,
            100,
            typical_method="flow cytometry, % of viable CD45+",
        ),
        QcTest(
            "car_t_dose",
            _("Dose: CAR-positive viable T cells"),
            TestKind.DOSE,
            "cells",
            0,
            1e11,
            typical_method="cell count x viability x CAR+ fraction",
        ),
        QcTest(
            "endotoxin_eu_per_ml",
            _("Endotoxin"),
            TestKind.NUMERIC,
            "EU/mL",
            0,
            1000,
            typical_method="LAL, Ph. Eur. 2.6.14",
        ),
        QcTest(
            "sterility",
            _("Sterility"),
            TestKind.CATEGORICAL,
            outcomes=("no growth", "growth"),
            typical_method="Ph. Eur. 2.6.27 / BacT/ALERT",
        ),
        QcTest(
            "mycoplasma",
            _("Mycoplasma"),
            TestKind.CATEGORICAL,
            outcomes=_ABSENCE,
            typical_method="PCR, Ph. Eur. 2.6.7",
        ),
        QcTest(
            "replication_competent_lentivirus",
            _("Replication-competent lentivirus (RCL)"),
            TestKind.CATEGORICAL,
            outcomes=_ABSENCE,
            typical_method="VSV-G qPCR",
        ),
        QcTest(
            "replication_competent_retrovirus",
            _("Replication-competent retrovirus (RCR)"),
            TestKind.CATEGORICAL,
            outcomes=_ABSENCE,
            typical_method="qPCR or biological assay",
        ),
        QcTest(
            "appearance",
            _("Appearance"),
            TestKind.CATEGORICAL,
            outcomes=("conforms", "does not conform"),
            typical_method="visual inspection of the bag",
        ),
    )
}


class _Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required: bool = True
    description: str = Field(default="", max_length=300)


class NumericCriterion(_Criterion):
    min: float | None = None
    max: float | None = None
    less_than: float | None = None
    greater_than: float | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> NumericCriterion:
        if all(v is None for v in (self.min, self.max, self.less_than, self.greater_than)):
            raise ValueError(_("give at least one of min, max, less_than, greater_than"))
        low = max((v for v in (self.min, self.greater_than) if v is not None), default=-math.inf)
        high = min((v for v in (self.max, self.less_than) if v is not None), default=math.inf)
        if low > high:
            raise ValueError(_("the lower limit is above the upper limit"))
        return self


class CategoricalCriterion(_Criterion):
    equals: str = Field(min_length=1, max_length=100)


class DoseBand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: Literal["per_kg", "flat"]
    min: float = Field(gt=0)
    # No maximum when the dose is drawn from the product (ARI-0001 specifies only a minimum).
    max: float | None = Field(default=None, gt=0)
    max_weight_kg: float | None = Field(default=None, gt=0, lt=400)
    diagnoses: tuple[Diagnosis, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> DoseBand:
        if self.max is not None and self.min > self.max:
            raise ValueError(_("min is above max"))
        return self


class DoseCriterion(_Criterion):
    bands: tuple[DoseBand, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _one_band_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and "bands" not in data and "basis" in data:
            outer = {k: data[k] for k in ("required", "description") if k in data}
            band = {k: v for k, v in data.items() if k not in ("required", "description")}
            return {**outer, "bands": [band]}
        return data


Criterion = NumericCriterion | CategoricalCriterion | DoseCriterion
_MODEL: dict[TestKind, type[BaseModel]] = {
    TestKind.NUMERIC: NumericCriterion,
    TestKind.CATEGORICAL: CategoricalCriterion,
    TestKind.DOSE: DoseCriterion,
}


@dataclass(frozen=True)
class Specification:
    criteria: dict[str, Criterion]

    @property
    def required_tests(self) -> tuple[str, ...]:
        return tuple(name for name, c in self.criteria.items() if c.required)


def _fmt(value: float) -> str:
    """A limit as a person writes it: 80, 0.5, 2.5e+08."""
    return f"{value:.3g}" if abs(value) >= 1e5 else f"{value:g}"


def parse_criteria(criteria: dict[str, Any]) -> Specification:
    """Validate a specification's criteria; refuse naming the test and key (field
    `criteria.<test>[.<key>]`) that is wrong."""
    if not criteria:
        raise InvalidInput(_("a specification needs at least one test"), field="criteria")
    parsed: dict[str, Criterion] = {}
    for name, raw in criteria.items():
        test = TESTS.get(name)
        if test is None:
            known = ", ".join(sorted(TESTS))
            raise InvalidInput(
                _("unknown test {test!r}; known: {known}", test=name, known=known),
                field=f"criteria.{name}",
            )
        if not isinstance(raw, dict):
            raise InvalidInput(_("limits must be an object"), field=f"criteria.{name}")
        try:
            criterion = _MODEL[test.kind].model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            field = f"criteria.{name}" + (f".{where}" if where else "")
            raise InvalidInput(validation_message(first), field=field) from None
        _check_against_test(test, criterion)
        parsed[name] = criterion  # type: ignore[assignment]
    return Specification(parsed)


def _check_against_test(test: QcTest, criterion: BaseModel) -> None:
    field = f"criteria.{test.name}"
    if (
        isinstance(criterion, CategoricalCriterion)
        and criterion.equals.strip().lower() not in test.outcomes
    ):
        allowed = ", ".join(test.outcomes)
        raise InvalidInput(
            _(
                "{test} is one of: {allowed}; not {value!r}",
                test=test.name,
                allowed=allowed,
                value=criterion.equals,
            ),
            field=f"{field}.equals",
        )
    if isinstance(criterion, NumericCriterion):
        for key in ("min", "max", "less_than", "greater_than"):
            value = getattr(criterion, key)
            if value is not None and not test.lowest <= value <= test.highest:
                raise InvalidInput(
                    _(
                        "{value:g} is outside what {test} can be ({lowest} to {highest} {unit})",
                        value=value,
                        test=test.name,
                        lowest=_fmt(test.lowest),
                        highest=_fmt(test.highest),
                        unit=test.unit,
                    ),
                    field=f"{field}.{key}",
                )


def limit_text(test_name: str, criterion: Criterion) -> str:
    """The acceptance criterion as printed on a certificate of analysis."""
    unit = TESTS[test_name].unit
    suffix = f" {unit}" if unit else ""
    if isinstance(criterion, CategoricalCriterion):
        return criterion.equals
    if isinstance(criterion, NumericCriterion):
        parts = []
        if criterion.min is not None:
            parts.append(f"≥ {_fmt(criterion.min)}")
        if criterion.greater_than is not None:
            parts.append(f"> {_fmt(criterion.greater_than)}")
        if criterion.max is not None:
            parts.append(f"≤ {_fmt(criterion.max)}")
        if criterion.less_than is not None:
            parts.append(f"< {_fmt(criterion.less_than)}")
        return " and ".join(parts) + suffix
    return "; ".join(_band_text(b) for b in criterion.bands)


def _band_text(band: DoseBand) -> str:
    unit = "cells/kg" if band.basis == "per_kg" else "cells"
    text = f"≥ {_fmt(band.min)} {unit}"
    if band.max is not None:
        text = f"{_fmt(band.min)}-{_fmt(band.max)} {unit}"
    conditions = []
    if band.diagnoses:
        conditions.append("/".join(d.value for d in band.diagnoses))
    if band.max_weight_kg is not None:
        conditions.append(f"≤ {_fmt(band.max_weight_kg)} kg")
    return text + (f" ({', '.join(conditions)})" if conditions else "")


def dose_band(
    criterion: DoseCriterion, *, weight_kg: float, diagnosis: Diagnosis
) -> DoseBand | None:
    for band in criterion.bands:
        if band.diagnoses and diagnosis not in band.diagnoses:
            continue
        if band.max_weight_kg is not None and weight_kg > band.max_weight_kg:
            continue
        return band
    return None


@dataclass(frozen=True)
class Judgement:
    within_spec: bool
    failed_limit: str | None
    compared_value: float | None = None


def normalise_value(test: QcTest, value: float | str) -> float | str:
    """Check a result's value against the test's kind and physical range (field `value`)."""
    if test.kind is TestKind.CATEGORICAL:
        if not isinstance(value, str):
            allowed = ", ".join(test.outcomes)
            raise InvalidInput(
                _("{test} is one of: {allowed}", test=test.name, allowed=allowed), field="value"
            )
        text = " ".join(value.strip().lower().split())
        if text not in test.outcomes:
            allowed = ", ".join(test.outcomes)
            raise InvalidInput(
                _(
                    "{test} is one of: {allowed}; not {value!r}",
                    test=test.name,
                    allowed=allowed,
                    value=value,
                ),
                field="value",
            )
        return text
    if isinstance(value, str | bool):
        raise InvalidInput(
            _("{test} needs a number ({unit})", test=test.name, unit=test.unit), field="value"
        )
    number = float(value)
    if not math.isfinite(number) or not test.lowest <= number <= test.highest:
        raise InvalidInput(
            _(
                "{test} = {value} is impossible: it lies between {lowest} and {highest} {unit}",
                test=test.name,
                value=value,
                lowest=_fmt(test.lowest),
                highest=_fmt(test.highest),
                unit=test.unit,
            ),
            field="value",
        )
    return number


def judge(
    test_name: str,
    criterion: Criterion,
    value: float | str,
    *,
    weight_kg: float,
    diagnosis: Diagnosis,
) -> Judgement:
    """Within specification or not, naming the limit the value fails. Limits are inclusive
    (`min`, `max`) or strict (`greater_than`, `less_than`), as the specification says."""
    if isinstance(criterion, CategoricalCriterion):
        expected = criterion.equals.strip().lower()
        if value == expected:
            return Judgement(True, None)
        return Judgement(False, f"{test_name} = {expected}")
    assert isinstance(value, float | int)
    number = float(value)
    if isinstance(criterion, DoseCriterion):
        band = dose_band(criterion, weight_kg=weight_kg, diagnosis=diagnosis)
        if band is None:
            return Judgement(False, f"{test_name}: no dose band for {weight_kg:g} kg, {diagnosis}")
        compared = number / weight_kg if band.basis == "per_kg" else number
        unit = "cells/kg" if band.basis == "per_kg" else "cells"
        if compared < band.min:
            return Judgement(False, f"{test_name} ≥ {_fmt(band.min)} {unit}", compared)
        if band.max is not None and compared > band.max:
            return Judgement(False, f"{test_name} ≤ {_fmt(band.max)} {unit}", compared)
        return Judgement(True, None, compared)
    unit = TESTS[test_name].unit
    suffix = f" {unit}" if unit else ""
    bounds = (
        (criterion.min, "≥", operator.ge),
        (criterion.greater_than, ">", operator.gt),
        (criterion.max, "≤", operator.le),
        (criterion.less_than, "<", operator.lt),
    )
    for limit, sign, holds in bounds:
        if limit is not None and not holds(number, limit):
            return Judgement(False, f"{test_name} {sign} {_fmt(limit)}{suffix}")
    return Judgement(True, None)
