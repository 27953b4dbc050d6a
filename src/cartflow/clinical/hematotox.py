"""CAR-HEMATOTOX: baseline risk of haematological toxicity before lymphodepletion.

Source: Rejeski K et al., CAR-HEMATOTOX: a model for CAR T-cell-related hematologic toxicity in
relapsed/refractory large B-cell lymphoma, Blood 2021;138:2499-2513 (PMC8893508), Figure 1 (score
card), as summarised in clinical.md 1.6. Measured before lymphodepletion (around day -5). Score 0-7;
0-1 low risk ("HT-low"), >= 2 high risk ("HT-high") [V: european-mcl.net calculator page].

Cut-offs are [M] in the reference notes (not re-verified against Figure 1). They are module
constants so a verified correction is one edit. Boundary decision: the card prints closed ranges for
the middle bands (platelets 75-175, ferritin 650-2000) and strict inequalities for the single
cut-offs (ANC < 1200, Hb < 9.0, CRP > 3.0), so a value exactly on a single cut-off scores 0 and a
value on a band edge scores the band (platelets 75 -> 1, 175 -> 1; ferritin 650 -> 1, 2000 -> 1).

Validated in LBCL on axi-cel/tisa-cel; later applied to BCMA products (Rejeski, J Hematol Oncol
2023).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PLATELETS_HIGH_10E9_L = 175.0
PLATELETS_LOW_10E9_L = 75.0
ANC_CUTOFF_PER_UL = 1200.0
HEMOGLOBIN_CUTOFF_G_DL = 9.0
CRP_CUTOFF_MG_DL = 3.0
FERRITIN_LOW_NG_ML = 650.0
FERRITIN_HIGH_NG_ML = 2000.0
HIGH_RISK_MIN_SCORE = 2

_NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class HematotoxRisk(StrEnum):
    LOW = "low"
    HIGH = "high"


class HematotoxInput(BaseModel):
    """Baseline labs before lymphodepletion; units as in the paper (CRP in mg/dL: 3.0 = 30 mg/L)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platelets_10e9_per_l: _NonNegative
    anc_per_ul: _NonNegative
    hemoglobin_g_per_dl: _NonNegative
    crp_mg_per_dl: _NonNegative
    ferritin_ng_per_ml: _NonNegative


class HematotoxResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    risk: HematotoxRisk
    points: dict[str, int]  # per marker, for display and audit


def platelet_points(platelets_10e9_per_l: float) -> int:
    """Platelets > 175 -> 0, 75-175 -> 1, < 75 -> 2 (x10^9/L). Rejeski 2021 Fig. 1 [M]."""
    if platelets_10e9_per_l > PLATELETS_HIGH_10E9_L:
        return 0
    if platelets_10e9_per_l >= PLATELETS_LOW_10E9_L:
        return 1
    return 2


def anc_points(anc_per_ul: float) -> int:
    """ANC < 1200/uL -> 1. Rejeski 2021 Fig. 1 [M]."""
    return 1 if anc_per_ul < ANC_CUTOFF_PER_UL else 0


def hemoglobin_points(hemoglobin_g_per_dl: float) -> int:
    """Haemoglobin < 9.0 g/dL -> 1. Rejeski 2021 Fig. 1 [M]."""
    return 1 if hemoglobin_g_per_dl < HEMOGLOBIN_CUTOFF_G_DL else 0


def crp_points(crp_mg_per_dl: float) -> int:
    """CRP > 3.0 mg/dL -> 1. Rejeski 2021 Fig. 1 [M]."""
    return 1 if crp_mg_per_dl > CRP_CUTOFF_MG_DL else 0


def ferritin_points(ferritin_ng_per_ml: float) -> int:
    """Ferritin < 650 -> 0, 650-2000 -> 1, > 2000 -> 2 (ng/mL). Rejeski 2021 Fig. 1 [M]."""
    if ferritin_ng_per_ml > FERRITIN_HIGH_NG_ML:
        return 2
    if ferritin_ng_per_ml >= FERRITIN_LOW_NG_ML:
        return 1
    return 0


def car_hematotox(labs: HematotoxInput) -> HematotoxResult:
    """CAR-HEMATOTOX score (0-7) and risk group (>= 2 high).

    Source: Rejeski et al., Blood 2021;138:2499, Figure 1 and Results ("HT-low 0-1, HT-high >= 2");
    cut-offs per clinical.md 1.6 [M].
    """
    points = {
        "platelets": platelet_points(labs.platelets_10e9_per_l),
        "anc": anc_points(labs.anc_per_ul),
        "hemoglobin": hemoglobin_points(labs.hemoglobin_g_per_dl),
        "crp": crp_points(labs.crp_mg_per_dl),
        "ferritin": ferritin_points(labs.ferritin_ng_per_ml),
    }
    score = sum(points.values())
    risk = HematotoxRisk.HIGH if score >= HIGH_RISK_MIN_SCORE else HematotoxRisk.LOW
    return HematotoxResult(score=score, risk=risk, points=points)
