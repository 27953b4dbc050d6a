"""Lymphodepletion (fludarabine + cyclophosphamide) plans: days relative to infusion, doses by BSA.

Sources:
- Body surface area: Mosteller RD, Simplified calculation of body-surface area, N Engl J Med
  1987;317:1098: BSA (m2) = sqrt(height cm x weight kg / 3600).
- Creatinine clearance estimate (optional helper): Cockcroft DW, Gault MH, Nephron 1976;16:31-41:
  CrCl (mL/min) = (140 - age) x weight kg / (72 x serum creatinine mg/dL), x 0.85 for women.
- Renal rule: US fludarabine label, section 2.2 "Renal Impairment" [V: oral tablet label text]:
  reduce the dose by 20% at creatinine clearance 30-70 mL/min/1.73 m2; below 30 the oral label
  halves the dose while the intravenous label says not to give it [M]. Because the two labels
  disagree below 30, the plan refuses to pick a dose there: a clinician must pass an explicit
  fludarabine dose factor, which the plan records. Cyclophosphamide is not adjusted.
- Regimens and timing: clinical.md 4.6 (product labels/SmPCs; [V]/[M] per row, kept in `source`).
  Day layouts are the labels' where they give days (axi-cel, brexu-cel) and otherwise a default the
  clinician may shift within the product's infusion window.

Doses are rounded to 0.1 mg; no BSA cap is applied (none is in the sources).
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cartflow.clinical.phrases import Number, english
from cartflow.errors import Conflict
from cartflow.i18n import Message, _, gettext

CRCL_REDUCED_MAX = 70.0
CRCL_SEVERE_BELOW = 30.0
FLUDARABINE_REDUCED_FACTOR = 0.8


class Drug(StrEnum):
    FLUDARABINE = "fludarabine"
    CYCLOPHOSPHAMIDE = "cyclophosphamide"


class RenalFunction(StrEnum):
    NORMAL = "normal"  # CrCl > 70
    REDUCED = "reduced"  # CrCl 30-70: fludarabine -20%
    SEVERE = "severe"  # CrCl < 30: clinician decision


#: What pages show for the drugs and the renal categories (the API keeps the enum values).
DRUG_LABELS: dict[Drug, Message] = {
    Drug.FLUDARABINE: _("Fludarabine"),
    Drug.CYCLOPHOSPHAMIDE: _("Cyclophosphamide"),
}
RENAL_FUNCTION_LABELS: dict[RenalFunction, Message] = {
    RenalFunction.NORMAL: _("normal renal function"),
    RenalFunction.REDUCED: _("reduced renal function"),
    RenalFunction.SEVERE: _("severely reduced renal function"),
}


StudyDay = Annotated[int, Field(le=-1, ge=-30)]


class LdRegimen(BaseModel):
    """A Flu/Cy regimen: mg/m2 per day and the days relative to infusion (day 0) it is given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    label: str
    fludarabine_mg_m2_per_day: Annotated[float, Field(ge=0)]
    fludarabine_days: tuple[StudyDay, ...]
    cyclophosphamide_mg_m2_per_day: Annotated[float, Field(ge=0)]
    cyclophosphamide_days: tuple[StudyDay, ...]
    infusion_timing: str
    source: str


def _regimen(
    code: str,
    label: str,
    flu: tuple[float, tuple[int, ...]],
    cy: tuple[float, tuple[int, ...]],
    timing: str,
    source: str,
) -> LdRegimen:
    return LdRegimen(
        code=code,
        label=label,
        fludarabine_mg_m2_per_day=flu[0],
        fludarabine_days=flu[1],
        cyclophosphamide_mg_m2_per_day=cy[0],
        cyclophosphamide_days=cy[1],
        infusion_timing=timing,
        source=source,
    )


_D543 = (-5, -4, -3)

#: Built-in regimens from clinical.md 4.6; products may define their own `LdRegimen`.
REGIMENS: dict[str, LdRegimen] = {
    r.code: r
    for r in (
        _regimen("axi-cel", "Axicabtagene ciloleucel", (30, _D543), (500, _D543),
                 "day 0", "SmPC [V]"),
        _regimen("brexu-cel-mcl", "Brexucabtagene autoleucel, MCL", (30, _D543), (500, _D543),
                 "day 0", "label [M]"),
        _regimen("brexu-cel-all", "Brexucabtagene autoleucel, ALL", (25, (-4, -3, -2)),
                 (900, (-2,)), "day 0", "label [M]"),
        _regimen("tisa-cel-all", "Tisagenlecleucel, B-ALL", (30, (-6, -5, -4, -3)),
                 (500, (-6, -5)), "2-14 days after LD completion",
                 "SmPC timing [V], doses [M]; day layout is a default"),
        _regimen("tisa-cel-dlbcl", "Tisagenlecleucel, DLBCL/FL", (25, _D543), (250, _D543),
                 "2-14 days after LD completion (US 2-11; FL 2-6)",
                 "SmPC timing [V], doses [M]; day layout is a default"),
        _regimen("liso-cel", "Lisocabtagene maraleucel", (30, _D543), (300, _D543),
                 "2-7 days after LD completion", "label [M]; day layout is a default"),
        _regimen("ide-cel", "Idecabtagene vicleucel", (30, _D543), (300, _D543),
                 "2 days after LD completion", "KarMMa regimen [V], timing [M]"),
        _regimen("cilta-cel", "Ciltacabtagene autoleucel", (30, _D543), (300, _D543),
                 "5-7 days after the start of LD", "regimen [V], timing [M]"),
    )
}  # fmt: skip


class RenalAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    crcl_ml_min: float
    function: RenalFunction
    reduced_renal_function: bool  # the flag the worklist shows
    reason: str


class LdDose(BaseModel):
    model_config = ConfigDict(frozen=True)

    drug: Drug
    study_day: int
    on: dt.date
    dose_mg_per_m2: float  # after any renal adjustment
    dose_mg: float
    adjusted: bool


class LdPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    regimen_code: str
    infusion_date: dt.date
    bsa_m2: float
    renal: RenalAssessment
    fludarabine_dose_factor: float
    doses: list[LdDose]


class LdPlanRefused(Conflict):
    """The plan needs a clinician's decision the rules cannot make."""

    code = "LD-RENAL-SEVERE"


def mosteller_bsa(height_cm: float, weight_kg: float) -> float:
    """Body surface area in m2 by Mosteller (NEJM 1987;317:1098)."""
    if not (30.0 <= height_cm <= 250.0 and 1.0 <= weight_kg <= 350.0):
        raise ValueError(gettext("height must be 30-250 cm and weight 1-350 kg"))
    return math.sqrt(height_cm * weight_kg / 3600.0)


def cockcroft_gault_crcl(
    *, age_years: float, weight_kg: float, serum_creatinine_mg_dl: float, female: bool
) -> float:
    """Estimated creatinine clearance in mL/min (Cockcroft and Gault, Nephron 1976;16:31)."""
    if serum_creatinine_mg_dl <= 0 or weight_kg <= 0 or not 0 <= age_years < 140:
        raise ValueError(gettext("creatinine and weight must be positive and age 0-139 years"))
    crcl = (140.0 - age_years) * weight_kg / (72.0 * serum_creatinine_mg_dl)
    return crcl * 0.85 if female else crcl


def assess_renal_function(crcl_ml_min: float) -> RenalAssessment:
    """Renal category for fludarabine: > 70 normal, 30-70 reduced (-20%), < 30 severe.

    Source: US fludarabine label section 2.2 (CrCl 30-70 mL/min/1.73 m2: reduce by 20%) [V].
    """
    if not math.isfinite(crcl_ml_min) or crcl_ml_min < 0:
        raise ValueError(gettext("creatinine clearance must be a non-negative number"))
    if crcl_ml_min < CRCL_SEVERE_BELOW:
        return RenalAssessment(
            crcl_ml_min=crcl_ml_min,
            function=RenalFunction.SEVERE,
            reduced_renal_function=True,
            reason=english(renal_explanation(crcl_ml_min)),
        )
    if crcl_ml_min <= CRCL_REDUCED_MAX:
        return RenalAssessment(
            crcl_ml_min=crcl_ml_min,
            function=RenalFunction.REDUCED,
            reduced_renal_function=True,
            reason=english(renal_explanation(crcl_ml_min)),
        )
    return RenalAssessment(
        crcl_ml_min=crcl_ml_min,
        function=RenalFunction.NORMAL,
        reduced_renal_function=False,
        reason=english(renal_explanation(crcl_ml_min)),
    )


def renal_explanation(crcl_ml_min: float) -> Message:
    """The renal rule applied at this creatinine clearance, in the reader's language (the
    stored `RenalAssessment.reason` is its English). Source: as `assess_renal_function`."""
    crcl = Number(crcl_ml_min, 0)
    if crcl_ml_min < CRCL_SEVERE_BELOW:
        return _(
            "CrCl {crcl} < 30 mL/min: fludarabine dose needs a clinician's decision (labels "
            "differ: halve or withhold)",
            crcl=crcl,
        )
    if crcl_ml_min <= CRCL_REDUCED_MAX:
        return _("CrCl {crcl} mL/min (30-70): fludarabine reduced by 20%", crcl=crcl)
    return _("CrCl {crcl} > 70 mL/min: full doses", crcl=crcl)


def plan_lymphodepletion(
    regimen: LdRegimen,
    *,
    infusion_date: dt.date,
    height_cm: float,
    weight_kg: float,
    crcl_ml_min: float,
    fludarabine_dose_factor: float | None = None,
) -> LdPlan:
    """Dated Flu/Cy doses for one patient, fludarabine adjusted for renal function.

    Sources: Mosteller BSA; regimen from clinical.md 4.6; renal rule of the fludarabine label
    (see module docstring). `fludarabine_dose_factor` overrides the rule (e.g. 0.5) and is
    required when CrCl < 30; otherwise it is 0.8 for CrCl 30-70 and 1.0 above.
    """
    bsa = mosteller_bsa(height_cm, weight_kg)
    renal = assess_renal_function(crcl_ml_min)
    if fludarabine_dose_factor is None:
        if renal.function is RenalFunction.SEVERE:
            raise LdPlanRefused(
                _(
                    "{rule}; pass an explicit fludarabine dose factor",
                    rule=renal_explanation(crcl_ml_min),
                )
            )
        factor = FLUDARABINE_REDUCED_FACTOR if renal.function is RenalFunction.REDUCED else 1.0
    else:
        if not 0.0 <= fludarabine_dose_factor <= 1.0:
            raise ValueError(gettext("fludarabine_dose_factor must be between 0 and 1"))
        factor = fludarabine_dose_factor
    doses = [
        _dose(Drug.FLUDARABINE, day, regimen.fludarabine_mg_m2_per_day, factor, bsa, infusion_date)
        for day in regimen.fludarabine_days
    ] + [
        _dose(
            Drug.CYCLOPHOSPHAMIDE,
            day,
            regimen.cyclophosphamide_mg_m2_per_day,
            1.0,
            bsa,
            infusion_date,
        )
        for day in regimen.cyclophosphamide_days
    ]
    doses.sort(key=lambda d: (d.study_day, d.drug.value))
    return LdPlan(
        regimen_code=regimen.code,
        infusion_date=infusion_date,
        bsa_m2=round(bsa, 3),
        renal=renal,
        fludarabine_dose_factor=factor,
        doses=doses,
    )


def _dose(
    drug: Drug, day: int, mg_m2: float, factor: float, bsa: float, infusion_date: dt.date
) -> LdDose:
    adjusted_mg_m2 = mg_m2 * factor
    return LdDose(
        drug=drug,
        study_day=day,
        on=infusion_date + dt.timedelta(days=day),
        dose_mg_per_m2=round(adjusted_mg_m2, 2),
        dose_mg=round(adjusted_mg_m2 * bsa, 1),
        adjusted=factor != 1.0,
    )
