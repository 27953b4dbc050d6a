"""Response classification helpers: Lugano 2014 (lymphoma), IMWG (myeloma), B-ALL CR/MRD.

Only the rules that can be decided from a handful of structured values are encoded; what needs a
radiologist's or a pathologist's reading (per-site Deauville, SPD measurement, marrow morphology) is
an input. Each function states what it does not cover. Sources are clinical.md section 2:
- Lugano: Cheson BD et al., J Clin Oncol 2014;32:3059, response table (PET-CT and CT columns) [V].
- IMWG: Kumar S et al., Lancet Oncol 2016;17:e328, Table 1 (as adapted in PMC9954856) [V core];
  every category needs two consecutive assessments before new therapy (Durie 2006) - the caller
  confirms; these functions classify one time point.
- B-ALL: NCCN / ELIANA definitions [M, ELIANA MRD endpoint V]: CR, CRi, flow MRD < 0.01%.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from cartflow.errors import InvalidInput
from cartflow.i18n import _, gettext


class ResponseRuleNotEncoded(InvalidInput):
    """The inputs need a response path this module does not encode (e.g. FLC-only myeloma)."""

    code = "RESPONSE-RULE-NOT-ENCODED"


# --- Lymphoma: Lugano 2014 -------------------------------------------------------------------


class LuganoResponse(StrEnum):
    """Lugano categories, best to worst (PET names: CMR, PMR, NMR, PMD)."""

    COMPLETE = "complete_response"
    PARTIAL = "partial_response"
    STABLE = "stable_disease"
    PROGRESSIVE = "progressive_disease"


class UptakeChange(StrEnum):
    """FDG uptake of the residual disease compared with baseline."""

    REDUCED = "reduced"
    UNCHANGED = "unchanged"
    INCREASED = "increased"


def lugano_pet_response(
    *,
    deauville: int,
    uptake_vs_baseline: UptakeChange,
    new_fdg_avid_lesions: bool,
    new_or_recurrent_marrow_involvement: bool = False,
    residual_fdg_avid_marrow: bool = False,
) -> LuganoResponse:
    """PET-CT based Lugano response from the worst Deauville (5PS) score.

    Source: Cheson 2014 response table, PET-CT column: CMR = 5PS 1-3 with no FDG-avid marrow
    disease; PMR = 5PS 4-5 with reduced uptake; NMR = 5PS 4-5 unchanged; PMD = 5PS 4-5 with
    increased uptake, new FDG-avid foci or new/recurrent marrow involvement. Residual avid marrow
    with 5PS <= 3 elsewhere is read as PMR (the table's marrow cell for PMR). "X" (uptake unlikely
    to be lymphoma) is not scored: pass the score of the lymphoma sites.
    """
    if not 1 <= deauville <= 5:
        raise ValueError(gettext("Deauville score is 1-5"))
    if new_fdg_avid_lesions or new_or_recurrent_marrow_involvement:
        return LuganoResponse.PROGRESSIVE
    if deauville <= 3:
        return LuganoResponse.PARTIAL if residual_fdg_avid_marrow else LuganoResponse.COMPLETE
    return {
        UptakeChange.REDUCED: LuganoResponse.PARTIAL,
        UptakeChange.UNCHANGED: LuganoResponse.STABLE,
        UptakeChange.INCREASED: LuganoResponse.PROGRESSIVE,
    }[uptake_vs_baseline]


def lugano_lesion_progressed(
    *, ldi_cm: float, sdi_cm: float, nadir_ldi_cm: float, nadir_sdi_cm: float
) -> bool:
    """CT progression of one node: LDi > 1.5 cm, PPD +50% from nadir, LDi/SDi +0.5/+1.0 cm.

    Source: Cheson 2014, CT column for PD: "LDi > 1.5 cm and increase by >= 50% from PPD nadir and
    an increase in LDi or SDi from nadir of 0.5 cm for lesions <= 2 cm, 1.0 cm for lesions > 2 cm".
    The 2 cm size class is taken at the nadir.
    """
    nadir_ppd = nadir_ldi_cm * nadir_sdi_cm
    ppd = ldi_cm * sdi_cm
    step = 0.5 if nadir_ldi_cm <= 2.0 else 1.0
    grew = (ldi_cm - nadir_ldi_cm) >= step or (sdi_cm - nadir_sdi_cm) >= step
    return ldi_cm > 1.5 and ppd >= 1.5 * nadir_ppd and grew


def lugano_ct_response(
    *,
    baseline_spd_cm2: float,
    current_spd_cm2: float,
    target_nodes_all_le_1_5_cm: bool,
    extralymphatic_disease_absent: bool,
    marrow_normal: bool,
    new_lesions: bool,
    any_lesion_progressed: bool,
) -> LuganoResponse:
    """CT-based Lugano response (SPD of up to 6 target lesions measured by the radiologist).

    Source: Cheson 2014 response table, CT column: CR = nodes <= 1.5 cm LDi, no extralymphatic
    disease, normal marrow; PR = >= 50% decrease in SPD; PD = new lesion or an individual lesion
    progressing (`lugano_lesion_progressed`); SD otherwise. Spleen criteria are left to the reader
    and reported through `any_lesion_progressed` / `new_lesions`.
    """
    if baseline_spd_cm2 <= 0:
        raise ValueError(gettext("baseline SPD must be positive"))
    if new_lesions or any_lesion_progressed:
        return LuganoResponse.PROGRESSIVE
    if target_nodes_all_le_1_5_cm and extralymphatic_disease_absent and marrow_normal:
        return LuganoResponse.COMPLETE
    if current_spd_cm2 <= 0.5 * baseline_spd_cm2:
        return LuganoResponse.PARTIAL
    return LuganoResponse.STABLE


# --- Myeloma: IMWG ---------------------------------------------------------------------------


class ImwgResponse(StrEnum):
    """IMWG categories, best to worst."""

    STRINGENT_COMPLETE = "stringent_complete_response"
    COMPLETE = "complete_response"
    VERY_GOOD_PARTIAL = "very_good_partial_response"
    PARTIAL = "partial_response"
    MINIMAL = "minimal_response"
    STABLE = "stable_disease"
    PROGRESSIVE = "progressive_disease"


SERUM_MEASURABLE_G_DL = 1.0
URINE_MEASURABLE_MG_24H = 200.0


class MyelomaAssessment(BaseModel):
    """One time point; M-protein in g/dL (serum) and mg/24 h (urine); None = not measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    serum_m_baseline: float | None = None
    serum_m_nadir: float | None = None
    serum_m_current: float | None = None
    urine_m_baseline: float | None = None
    urine_m_nadir: float | None = None
    urine_m_current: float | None = None
    immunofixation_negative: bool = False  # serum and urine
    electrophoresis_negative: bool = False  # M-protein seen only by immunofixation
    marrow_plasma_cells_pct: float | None = None
    flc_ratio_normal: bool = False
    clonal_marrow_plasma_cells_absent: bool = False
    plasmacytomas_present: bool = False
    new_bone_lesions_or_plasmacytomas: bool = False


def _reduction(baseline: float | None, current: float | None) -> float | None:
    if baseline is None or current is None or baseline <= 0:
        return None
    return 1.0 - current / baseline


def _imwg_progression(a: MyelomaAssessment) -> bool:
    """PD: serum +25% from nadir and >= 0.5 g/dL (1 g/dL if nadir >= 5); urine +25% and >= 200
    mg/24 h; or new bone lesions / plasmacytomas (Kumar 2016 Table 1, PD row)."""
    if a.new_bone_lesions_or_plasmacytomas:
        return True
    if a.serum_m_nadir is not None and a.serum_m_current is not None:
        rise = a.serum_m_current - a.serum_m_nadir
        floor = 1.0 if a.serum_m_nadir >= 5.0 else 0.5
        if rise >= floor and a.serum_m_current >= 1.25 * a.serum_m_nadir:
            return True
    if a.urine_m_nadir is not None and a.urine_m_current is not None:
        rise = a.urine_m_current - a.urine_m_nadir
        if rise >= 200.0 and a.urine_m_current >= 1.25 * a.urine_m_nadir:
            return True
    return False


def imwg_response(a: MyelomaAssessment) -> ImwgResponse:
    """IMWG response at one time point, by serum and urine M-protein.

    Source: Kumar 2016 Table 1 (clinical.md 2.2): sCR = CR + normal FLC ratio + no clonal marrow
    plasma cells; CR = negative immunofixation, no plasmacytomas, < 5% marrow plasma cells; VGPR =
    immunofixation-only M-protein, or serum -90% with urine < 100 mg/24 h; PR = serum -50% and
    urine -90% or < 200 mg/24 h; MR = serum -25-49% and urine -50-89%; PD as `_imwg_progression`.
    The urine condition applies when urine was measurable at baseline (>= 200 mg/24 h).
    Not encoded (raises ResponseRuleNotEncoded): disease measurable only by free light chains or
    marrow plasma cells.
    """
    if _imwg_progression(a):
        return ImwgResponse.PROGRESSIVE
    serum_measurable = (a.serum_m_baseline or 0.0) >= SERUM_MEASURABLE_G_DL
    urine_measurable = (a.urine_m_baseline or 0.0) >= URINE_MEASURABLE_MG_24H
    if not serum_measurable and not urine_measurable:
        raise ResponseRuleNotEncoded(
            _(
                "no measurable serum (>= 1 g/dL) or urine (>= 200 mg/24 h) M-protein at "
                "baseline: FLC- or marrow-based IMWG response is not encoded"
            ),
            field="serum_m_baseline",
        )
    marrow_clear = a.marrow_plasma_cells_pct is not None and a.marrow_plasma_cells_pct < 5.0
    if a.immunofixation_negative and not a.plasmacytomas_present and marrow_clear:
        if a.flc_ratio_normal and a.clonal_marrow_plasma_cells_absent:
            return ImwgResponse.STRINGENT_COMPLETE
        return ImwgResponse.COMPLETE
    serum = _reduction(a.serum_m_baseline, a.serum_m_current)
    urine = _reduction(a.urine_m_baseline, a.urine_m_current)
    urine_now = a.urine_m_current

    def serum_down(at_least: float) -> bool:
        return not serum_measurable or (serum is not None and serum >= at_least)

    def urine_down(at_least: float, or_below_mg: float | None = None) -> bool:
        if not urine_measurable:
            return True
        below = or_below_mg is not None and urine_now is not None and urine_now < or_below_mg
        return below or (urine is not None and urine >= at_least)

    def urine_below(limit_mg: float) -> bool:
        if urine_now is None:
            return not urine_measurable
        return urine_now < limit_mg

    # Negative immunofixation without the marrow or plasmacytoma conditions of CR is at least VGPR.
    spep_negative = a.electrophoresis_negative or a.immunofixation_negative
    if spep_negative or (serum_down(0.9) and urine_below(100.0)):
        return ImwgResponse.VERY_GOOD_PARTIAL
    if serum_down(0.5) and urine_down(0.9, or_below_mg=200.0):
        return ImwgResponse.PARTIAL
    if serum_down(0.25) and urine_down(0.5):
        return ImwgResponse.MINIMAL
    return ImwgResponse.STABLE


# --- B-ALL -----------------------------------------------------------------------------------


class BallResponse(StrEnum):
    COMPLETE = "complete_remission"
    COMPLETE_INCOMPLETE_RECOVERY = "complete_remission_incomplete_recovery"
    NO_RESPONSE = "no_response"


MRD_NEGATIVE_BELOW_PCT = 0.01


def ball_response(
    *,
    marrow_blasts_pct: float,
    circulating_blasts: bool,
    extramedullary_disease: bool,
    anc_10e9_per_l: float,
    platelets_10e9_per_l: float,
    transfusion_independent: bool,
) -> BallResponse:
    """CR: < 5% marrow blasts, no circulating blasts or extramedullary disease (incl. CNS), ANC >=
    1.0 and platelets >= 100 x10^9/L, transfusion-independent; CRi: the same without count
    recovery. Source: clinical.md 2.3 (NCCN/ELIANA) [M]."""
    if marrow_blasts_pct >= 5.0 or circulating_blasts or extramedullary_disease:
        return BallResponse.NO_RESPONSE
    recovered = anc_10e9_per_l >= 1.0 and platelets_10e9_per_l >= 100.0
    if recovered and transfusion_independent:
        return BallResponse.COMPLETE
    return BallResponse.COMPLETE_INCOMPLETE_RECOVERY


def mrd_negative_by_flow(leukemic_cells_pct: float) -> bool:
    """Flow MRD-negative: < 0.01% (< 1e-4) leukaemic cells in marrow (ELIANA central flow) [V]."""
    return leukemic_cells_pct < MRD_NEGATIVE_BELOW_PCT


def ball_relapsed(
    *, circulating_blasts: bool, marrow_blasts_pct: float, extramedullary_disease: bool
) -> bool:
    """Relapse after CR/CRi: blasts in blood, >= 5% in marrow, or extramedullary disease [M]."""
    return circulating_blasts or marrow_blasts_pct >= 5.0 or extramedullary_disease


# --- Death -----------------------------------------------------------------------------------


class DeathCause(StrEnum):
    """Principal cause of death, as CIBMTR F4100 and registries split it."""

    DISEASE = "disease_progression_or_relapse"
    CRS = "cytokine_release_syndrome"
    ICANS = "icans"
    IEC_HS = "iec_hs"
    INFECTION = "infection"
    SECOND_MALIGNANCY = "second_malignancy"
    OTHER = "other"


def is_non_relapse_mortality(cause: DeathCause) -> bool:
    """Non-relapse mortality: any death whose principal cause is not the disease."""
    return cause is not DeathCause.DISEASE
