"""CAR-HEMATOTOX: baseline risk of haematological toxicity before lymphodepletion.

Source: Rejeski K et al., CAR-HEMATOTOX: a model for CAR T-cell-related hematologic toxicity in
relapsed/refractory large B-cell lymphoma, Blood 2021;138(24):2499-2513 (PMC8893508), Figure 1
(the score card). What was checked, and where (review of 2026-11-25, issue #6 item 6):

- Markers [V]: the paper's abstract (ashpublications.org/blood/article/138/24/2499): "We created
  the CAR-HEMATOTOX model, which included markers associated with hematopoietic reserve (eg,
  platelet count, hemoglobin, and ANC) and baseline inflammation (eg, C-reactive protein and
  ferritin)."
- Timing, weighting and risk groups [V]: european-mcl.net/home/scores-car-hematotox-286.html:
  "Determined prior to lymphodepleting chemotherapy (e.g. day -5), the CAR-HEMATOTOX score
  comprises five markers of hematotoxicity with additional weighting of the baseline platelet
  count and ferritin levels. The score discriminates between a high (CAR-HEMATOTOX score >=2) and
  low (CAR-HEMATOTOX score 0-1) risk". Same split in Rejeski et al., J Hematol Oncol 2023
  (jhoonline.biomedcentral.com, s13045-023-01465-x), abstract: "HTlow (score 0-1) ...
  HThigh (score >= 2)".
- Cut-offs and points: Figure 1 itself is not in any stored copy we could reach (only the
  abstract, Table 2 at PMC8893508/table/T2 and Table 3 at ashpublications view-large/10339075,
  neither of which prints the card). The values below are confirmed [V, secondary] by the score
  function of the Rejeski group's own analysis code, `calculate_hematotox()` in
  github.com/Linus-byte/Dynamic-Hematotox, survival_analysis_mice_imputation.R (its data paths
  read ".../10 AG Rejeski/..."), which reads, in R:
  `if (plt > 175) 0 else if (plt >= 75) 1 else 2`; `if (anc > 1.2) 0 else 1`;
  `if (hb > 9.0) 0 else 1`; `if (crp < 3.0) 0 else 1`;
  `if (ferritin < 650) 0 else if (ferritin <= 2000) 1 else 2`.
  Units there: platelets and ANC in 10^9/L (ANC 1.2 = 1200/uL), Hb g/dL, ferritin ng/mL. CRP's
  unit is not stated in that code; mg/dL (3.0 mg/dL = 30 mg/L) is the reference notes' reading
  (clinical.md 1.6) and is NOT independently confirmed here.
- Boundaries [V, same code; CORRECTED here]: a value exactly on a single cut-off scores the point
  (ANC 1200/uL -> 1, Hb 9.0 -> 1, CRP 3.0 -> 1); the zero-point condition is the strict one
  (ANC > 1200, Hb > 9.0, CRP < 3.0). Before this review the module scored those three values 0.
  Band edges belong to the middle band (platelets 75 and 175 -> 1; ferritin 650 and 2000 -> 1).
- Score range 0-7 follows from the points (2 + 1 + 1 + 1 + 2).

Validated in LBCL on axi-cel/tisa-cel; later applied to BCMA products (Rejeski, J Hematol Oncol
2023).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Platelets (x10^9/L): > 175 -> 0, 75-175 -> 1, < 75 -> 2.
PLATELETS_HIGH_10E9_L = 175.0
PLATELETS_LOW_10E9_L = 75.0
# ANC (/uL): > 1200 -> 0, <= 1200 -> 1.
ANC_CUTOFF_PER_UL = 1200.0
# Haemoglobin (g/dL): > 9.0 -> 0, <= 9.0 -> 1.
HEMOGLOBIN_CUTOFF_G_DL = 9.0
# CRP (mg/dL): < 3.0 -> 0, >= 3.0 -> 1.
CRP_CUTOFF_MG_DL = 3.0
# Ferritin (ng/mL): < 650 -> 0, 650-2000 -> 1, > 2000 -> 2.
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
    """Platelets > 175 -> 0, 75-175 -> 1, < 75 -> 2 (x10^9/L)."""
    if platelets_10e9_per_l > PLATELETS_HIGH_10E9_L:
        return 0
    if platelets_10e9_per_l >= PLATELETS_LOW_10E9_L:
        return 1
    return 2


def anc_points(anc_per_ul: float) -> int:
    """ANC > 1200/uL -> 0, otherwise 1 (1200 itself scores)."""
    return 0 if anc_per_ul > ANC_CUTOFF_PER_UL else 1


def hemoglobin_points(hemoglobin_g_per_dl: float) -> int:
    """Haemoglobin > 9.0 g/dL -> 0, otherwise 1 (9.0 itself scores)."""
    return 0 if hemoglobin_g_per_dl > HEMOGLOBIN_CUTOFF_G_DL else 1


def crp_points(crp_mg_per_dl: float) -> int:
    """CRP < 3.0 mg/dL -> 0, otherwise 1 (3.0 itself scores)."""
    return 0 if crp_mg_per_dl < CRP_CUTOFF_MG_DL else 1


def ferritin_points(ferritin_ng_per_ml: float) -> int:
    """Ferritin < 650 -> 0, 650-2000 -> 1, > 2000 -> 2 (ng/mL)."""
    if ferritin_ng_per_ml > FERRITIN_HIGH_NG_ML:
        return 2
    if ferritin_ng_per_ml >= FERRITIN_LOW_NG_ML:
        return 1
    return 0


def car_hematotox(labs: HematotoxInput) -> HematotoxResult:
    """CAR-HEMATOTOX score (0-7) and risk group (0-1 low, >= 2 high); sources in the module doc."""
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
