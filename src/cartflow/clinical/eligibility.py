"""Eligibility at referral: performance status and organ function against a product's protocol.

The product's indication (diagnosis, age range, prior lines of therapy) is checked by the episode
guard `cartflow.episodes.workflow.guard_eligibility` from the product's configured indications;
this module checks what the indication table does not hold: ECOG or Karnofsky/Lansky performance
status, organ-function and blood-count limits, and that the treatment consent is on record.

Default criteria (used when a product has no protocol of its own): the ZUMA-1 eligibility criteria
at leukapheresis as tabulated in ashpublications view-large/12889823, Table 1 [V]: ECOG 0-1, ANC
>= 1000/uL, lymphocytes >= 100/uL, platelets >= 75 x10^9/L, ALT and AST <= 2.5 x ULN, total
bilirubin <= 1.5 mg/dL, creatinine clearance >= 60 mL/min, LVEF >= 50%, SpO2 >= 92% on room air.
Paediatric B-ALL protocols use Karnofsky (>= 16 years) or Lansky (< 16 years) >= 50 instead of ECOG
(ELIANA, Yakoub-Agha et al., Haematologica 2020;105:297, Table 1 [V]); a product configures that
through `min_karnofsky_lansky`.

Invariants: a limit is inclusive (ANC 1000 passes ">= 1000"); a lab the protocol limits but the
assessment does not report is a failure (never assumed normal); every failure names its rule.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cartflow.clinical.errors import denied
from cartflow.clinical.phrases import Number
from cartflow.episodes.workflow import Denied
from cartflow.i18n import Message, _, gettext


class LabTest(StrEnum):
    """Organ-function and count values an eligibility protocol may limit (units in the name)."""

    ANC_PER_UL = "anc_per_ul"
    LYMPHOCYTES_PER_UL = "lymphocytes_per_ul"
    PLATELETS_10E9_PER_L = "platelets_10e9_per_l"
    HEMOGLOBIN_G_PER_DL = "hemoglobin_g_per_dl"
    CREATININE_CLEARANCE_ML_MIN = "creatinine_clearance_ml_min"
    BILIRUBIN_MG_PER_DL = "bilirubin_mg_per_dl"
    ALT_X_ULN = "alt_x_uln"
    AST_X_ULN = "ast_x_uln"
    LVEF_PCT = "lvef_pct"
    SPO2_ROOM_AIR_PCT = "spo2_room_air_pct"


#: Form labels of the lab values. The English keeps the field names as pages have always shown
#: them (minus the underscores); Russian names the test and its unit.
LAB_LABELS: dict[LabTest, Message] = {
    LabTest.ANC_PER_UL: _("anc per ul"),
    LabTest.LYMPHOCYTES_PER_UL: _("lymphocytes per ul"),
    LabTest.PLATELETS_10E9_PER_L: _("platelets 10e9 per l"),
    LabTest.HEMOGLOBIN_G_PER_DL: _("hemoglobin g per dl"),
    LabTest.CREATININE_CLEARANCE_ML_MIN: _("creatinine clearance ml min"),
    LabTest.BILIRUBIN_MG_PER_DL: _("bilirubin mg per dl"),
    LabTest.ALT_X_ULN: _("alt x uln"),
    LabTest.AST_X_ULN: _("ast x uln"),
    LabTest.LVEF_PCT: _("lvef pct"),
    LabTest.SPO2_ROOM_AIR_PCT: _("spo2 room air pct"),
}

_Value = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class LabLimit(BaseModel):
    """Inclusive bounds; at least one of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: _Value | None = None
    max: _Value | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> LabLimit:
        if self.min is None and self.max is None:
            raise ValueError(gettext("a lab limit needs min or max"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(gettext("min is above max"))
        return self

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:g}-{self.max:g}"
        return f">= {self.min:g}" if self.min is not None else f"<= {self.max:g}"


class EligibilityCriteria(BaseModel):
    """A product's eligibility protocol beyond its indications."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_ecog: Annotated[int | None, Field(ge=0, le=4)] = None
    min_karnofsky_lansky: Annotated[int | None, Field(ge=0, le=100)] = None
    labs: dict[LabTest, LabLimit] = Field(default_factory=dict)
    source: str = Field(default="", max_length=500)


ZUMA1_CRITERIA = EligibilityCriteria(
    max_ecog=1,
    labs={
        LabTest.ANC_PER_UL: LabLimit(min=1000),
        LabTest.LYMPHOCYTES_PER_UL: LabLimit(min=100),
        LabTest.PLATELETS_10E9_PER_L: LabLimit(min=75),
        LabTest.ALT_X_ULN: LabLimit(max=2.5),
        LabTest.AST_X_ULN: LabLimit(max=2.5),
        LabTest.BILIRUBIN_MG_PER_DL: LabLimit(max=1.5),
        LabTest.CREATININE_CLEARANCE_ML_MIN: LabLimit(min=60),
        LabTest.LVEF_PCT: LabLimit(min=50),
        LabTest.SPO2_ROOM_AIR_PCT: LabLimit(min=92),
    },
    source="ZUMA-1 eligibility at leukapheresis (ashpublications view-large/12889823, Table 1)",
)


class EligibilityFindings(BaseModel):
    """What the clinician found at the eligibility visit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ecog: Annotated[int | None, Field(ge=0, le=5)] = None
    karnofsky_lansky: Annotated[int | None, Field(ge=0, le=100)] = None
    labs: dict[LabTest, _Value] = Field(default_factory=dict)


def check_performance(criteria: EligibilityCriteria, findings: EligibilityFindings) -> list[Denied]:
    """ECOG at most `max_ecog`; Karnofsky/Lansky at least `min_karnofsky_lansky` (each if set)."""
    failures: list[Denied] = []
    if criteria.max_ecog is not None:
        if findings.ecog is None:
            failures.append(denied("ELIG-ECOG-MISSING", _("the protocol needs an ECOG score")))
        elif findings.ecog > criteria.max_ecog:
            failures.append(
                denied(
                    "ELIG-ECOG",
                    _(
                        "ECOG {ecog} is above the protocol's maximum {maximum}",
                        ecog=findings.ecog,
                        maximum=criteria.max_ecog,
                    ),
                )
            )
    if criteria.min_karnofsky_lansky is not None:
        if findings.karnofsky_lansky is None:
            failures.append(
                denied("ELIG-PS-MISSING", _("the protocol needs a Karnofsky or Lansky score"))
            )
        elif findings.karnofsky_lansky < criteria.min_karnofsky_lansky:
            failures.append(
                denied(
                    "ELIG-PS",
                    _(
                        "Karnofsky/Lansky {score} is below the protocol's minimum {minimum}",
                        score=findings.karnofsky_lansky,
                        minimum=criteria.min_karnofsky_lansky,
                    ),
                )
            )
    return failures


def check_labs(criteria: EligibilityCriteria, findings: EligibilityFindings) -> list[Denied]:
    """Every limited lab reported and inside its inclusive bounds."""
    failures: list[Denied] = []
    for test, limit in sorted(criteria.labs.items()):
        value = findings.labs.get(test)
        if value is None:
            failures.append(
                denied(
                    "ELIG-LAB-MISSING",
                    _("{test} is required ({limit})", test=test.value, limit=limit.describe()),
                )
            )
        elif (limit.min is not None and value < limit.min) or (
            limit.max is not None and value > limit.max
        ):
            failures.append(
                denied(
                    "ELIG-LAB",
                    _(
                        "{test} {value} is outside the protocol's limit {limit}",
                        test=test.value,
                        value=Number(value, None),
                        limit=limit.describe(),
                    ),
                )
            )
    return failures


def check_eligibility(
    criteria: EligibilityCriteria,
    findings: EligibilityFindings,
    *,
    consent_on_record: bool,
    indication: Denied | None,
) -> list[Denied]:
    """All failed rules, indication first (empty = eligible). `indication` is the episode guard's
    refusal, if any, so one assessment reports every reason at once."""
    failures: list[Denied] = [indication] if indication is not None else []
    if not consent_on_record:
        failures.append(
            denied("ELIG-CONSENT", _("no signed treatment consent is on record for this episode"))
        )
    return failures + check_performance(criteria, findings) + check_labs(criteria, findings)
