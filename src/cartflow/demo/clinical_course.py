"""The clinical records of a full-fidelity demo episode: consent and eligibility at referral,
lymphodepletion, the two-person bedside check and the infusion, and a course of CRS/ICANS
assessments, each through the clinical services at a time in the past.

The toxicity courses are synthetic but follow the ASTCT consensus grading (Lee et al., Biol Blood
Marrow Transplant 2019;25:625, Tables 4-6) so that every assessment grades as drawn: grade 1 CRS is
fever alone, grade 2 adds hypotension without vasopressors or low-flow oxygen, grade 3 one
vasopressor or high-flow oxygen; ICANS grade 1 is an ICE score of 7-9 with spontaneous waking,
grade 2 ICE 3-6 waking to voice, grade 3 ICE 0-2 waking to touch. ICANS is drawn only for patients
of 12 or more, the youngest age at which ICE is validated.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.bedside import wristband_data
from cartflow.clinical.eligibility import LabTest
from cartflow.clinical.eligibility_service import assess_eligibility
from cartflow.clinical.grading_schemas import (
    CerebralEdema,
    Consciousness,
    CrsAssessment,
    Hypotension,
    OxygenSupport,
    Seizure,
)
from cartflow.clinical.infusion_service import (
    confirm_bedside_check,
    record_infusion,
    start_bedside_check,
)
from cartflow.clinical.lymphodepletion_service import create_plan, start_lymphodepletion
from cartflow.clinical.schemas import (
    BedsideScanIn,
    ConsentIn,
    EligibilityIn,
    InfusionIn,
    LdPlanIn,
    LdStartIn,
)
from cartflow.clinical.schemas_after import IcansObservation, ToxicityAssessmentIn
from cartflow.clinical.service import record_consent
from cartflow.clinical.toxicity_service import record_assessment
from cartflow.models import Diagnosis, Episode, Patient, Product

# Findings inside the ZUMA-1 limits (cartflow.clinical.eligibility.ZUMA1_CRITERIA).
_LABS = {
    LabTest.ANC_PER_UL: 1800.0,
    LabTest.LYMPHOCYTES_PER_UL: 600.0,
    LabTest.PLATELETS_10E9_PER_L: 140.0,
    LabTest.ALT_X_ULN: 1.1,
    LabTest.AST_X_ULN: 0.9,
    LabTest.BILIRUBIN_MG_PER_DL: 0.7,
    LabTest.CREATININE_CLEARANCE_ML_MIN: 95.0,
    LabTest.LVEF_PCT: 60.0,
    LabTest.SPO2_ROOM_AIR_PCT: 97.0,
}

# Days after the infusion on which the ward grades CRS and ICANS (daily in the first week).
_ASSESSMENT_DAYS = (0.4, 1, 2, 3, 4, 5, 6, 7, 9, 11, 14, 21, 28)


def consent_and_eligibility(
    session: Session,
    *,
    clinician: Actor,
    coordinator: Actor,
    episode: Episode,
    patient: Patient,
    consent_on: dt.date,
    assessed_at: dt.datetime,
    check: Clock,
) -> None:
    record_consent(
        session,
        actor=coordinator,
        episode_id=episode.id,
        data=ConsentIn(
            signed_on=consent_on,
            form_version="CAR-T consent v3",
            signed_by="patient" if _age(patient, consent_on) >= 18 else "parent",
        ),
        today=consent_on,
    )
    check(assessed_at)
    assess_eligibility(
        session,
        actor=clinician,
        episode_id=episode.id,
        data=EligibilityIn(ecog=1, karnofsky_lansky=80, labs=_LABS, notes="synthetic"),
        now=assessed_at,
    )


def lymphodepletion(
    session: Session,
    *,
    clinician: Actor,
    episode: Episode,
    day0: dt.datetime,
    planned_at: dt.datetime,
    regimen: str,
    check: Clock,
) -> None:
    check(planned_at)
    create_plan(
        session,
        actor=clinician,
        episode_id=episode.id,
        data=LdPlanIn(infusion_date=day0.date(), regimen=regimen, crcl_ml_min=95),
        now=planned_at,
    )
    # Fludarabine starts on day -6 in the tisagenlecleucel B-ALL regimen, day -5 in the others.
    started = day0 - dt.timedelta(days=6 if regimen == "tisa-cel-all" else 5)
    check(started)
    start_lymphodepletion(
        session,
        actor=clinician,
        episode_id=episode.id,
        data=LdStartIn(started_at=started),
        now=started,
    )


def ld_regimen(product: str, diagnosis: Diagnosis) -> str:
    """The built-in regimen (cartflow.clinical.lymphodepletion.REGIMENS) for a demo product: the
    label's for tisagenlecleucel; for the academic products the fludarabine/cyclophosphamide
    regimens of the approved products with the same target (CD19: axi-cel, BCMA: ide-cel)."""
    if product == "TISA":
        return "tisa-cel-all" if diagnosis is Diagnosis.B_ALL else "tisa-cel-dlbcl"
    return "ide-cel" if product == "BCMA-ACAD" else "axi-cel"


def bedside_and_infusion(
    session: Session,
    *,
    nurse: Actor,
    clinician: Actor,
    episode: Episode,
    patient: Patient,
    product: Product,
    password: str,
    day0: dt.datetime,
    check: Clock,
) -> None:
    assert episode.chain_of_identity is not None  # set at referral
    bag = f"=<{product.isbt_product_code}&/{episode.chain_of_identity}"
    band = wristband_data(pseudonym=patient.pseudonym, coi=episode.chain_of_identity)

    def reads(at: dt.datetime) -> BedsideScanIn:
        return BedsideScanIn(bag_scan=bag, wristband_scan=band, password=password, scanned_at=at)

    minutes = dt.timedelta(minutes=1)
    check(day0 + 10 * minutes)
    first = start_bedside_check(
        session, actor=nurse, episode_id=episode.id, data=reads(day0 - 40 * minutes)
    )
    confirm_bedside_check(
        session, actor=clinician, check_id=first.id, data=reads(day0 - 35 * minutes)
    )
    record_infusion(
        session,
        actor=clinician,
        episode_id=episode.id,
        data=InfusionIn(
            bedside_check_id=first.id,
            thaw_started_at=day0 - 20 * minutes,
            thaw_completed_at=day0 - 15 * minutes,
            infusion_started_at=day0,
            infusion_ended_at=day0 + 10 * minutes,
            cells_infused_1e6=round(patient.weight_kg * 1.2, 1),
            volume_ml=40.0,
        ),
        now=day0 + 10 * minutes,
    )


@dataclass(frozen=True)
class Course:
    """A drawn CRS (and perhaps ICANS) course: the peak grade and the days it lasts."""

    crs_peak: int
    crs_onset: float
    crs_peak_days: tuple[float, float]
    crs_resolved: float
    icans_peak: int
    icans_days: tuple[float, float]


def draw_course(rng: random.Random, *, age: int, severe: bool = False) -> Course:
    """CRS in most patients, grade >= 2 in about a third (the spread of the pivotal trials)."""
    peak = rng.choices([0, 1, 2, 3], [8, 50, 30, 12])[0] if not severe else rng.choice([2, 3])
    onset = rng.uniform(0.5, 2.5) if not severe else rng.uniform(0.5, 1.0)
    top = (onset + rng.uniform(0.5, 1.5), onset + rng.uniform(2.5, 4.5))
    if severe:
        top = (onset + 0.5, onset + 4.0)
    icans = rng.choices([0, 1, 2, 3], [70, 12, 12, 6])[0] if age >= 12 else 0
    start = rng.uniform(4.0, 6.5)
    return Course(peak, onset, top, top[1] + rng.uniform(1.0, 3.0), icans, (start, start + 2.5))


def toxicity_course(
    session: Session,
    *,
    clinician: Actor,
    episode: Episode,
    course: Course,
    age: int,
    day0: dt.datetime,
    now: dt.datetime,
) -> None:
    for day in _ASSESSMENT_DAYS:
        at = day0 + dt.timedelta(days=day, hours=1)
        if at > now:
            return
        crs = _crs_grade(course, day)
        icans = course.icans_peak if course.icans_days[0] <= day <= course.icans_days[1] else 0
        record_assessment(
            session,
            actor=clinician,
            episode_id=episode.id,
            data=ToxicityAssessmentIn(
                assessed_at=at,
                crs=_crs(crs),
                # Under 12 the ICE score is not validated (CAPD is); the demo records CRS only.
                icans=_icans(icans) if age >= 12 else None,
                notes="synthetic",
            ),
        )


def _crs_grade(course: Course, day: float) -> int:
    if course.crs_peak == 0 or day < course.crs_onset or day > course.crs_resolved:
        return 0
    if course.crs_peak_days[0] <= day <= course.crs_peak_days[1]:
        return course.crs_peak
    return 1


def _crs(grade: int) -> CrsAssessment:
    hypotension = {2: Hypotension.NO_VASOPRESSOR, 3: Hypotension.ONE_VASOPRESSOR}
    oxygen = {2: OxygenSupport.LOW_FLOW, 3: OxygenSupport.HIGH_FLOW}
    return CrsAssessment(
        temperature_c=36.8 if grade == 0 else 38.4 + 0.3 * grade,
        hypotension=hypotension.get(grade, Hypotension.NONE),
        oxygen=oxygen.get(grade, OxygenSupport.NONE),
    )


def _icans(grade: int) -> IcansObservation:
    ice = {0: 10, 1: 8, 2: 5, 3: 2}
    awake = {
        0: Consciousness.ALERT,
        1: Consciousness.AWAKENS_SPONTANEOUSLY,
        2: Consciousness.AWAKENS_TO_VOICE,
        3: Consciousness.AWAKENS_TO_TOUCH,
    }
    return IcansObservation(
        ice_score=ice[grade],
        consciousness=awake[grade],
        seizure=Seizure.NONE,
        cerebral_edema=CerebralEdema.NONE,
    )


def _age(patient: Patient, on: dt.date) -> int:
    born = patient.date_of_birth
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class Clock:
    """Stops the walk (raises `NotYet`) at the first step that would happen after `now`."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self, moment: dt.datetime) -> None:
        if moment > self.now:
            raise NotYet


class NotYet(Exception):
    """The episode's next step lies in the future: its walk ends here."""
