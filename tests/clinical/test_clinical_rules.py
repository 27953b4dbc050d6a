"""Pure clinical rules behind the database steps: eligibility limits, tocilizumab limits, the
bedside reads, the step guards and the per-episode toxicity course."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.clinical.anticytokine import tocilizumab_dose_mg, tocilizumab_issues
from cartflow.clinical.bedside import (
    check_bag,
    check_second_person,
    check_wristband,
    parse_wristband,
    wristband_data,
)
from cartflow.clinical.eligibility import (
    ZUMA1_CRITERIA,
    EligibilityFindings,
    LabTest,
    check_eligibility,
)
from cartflow.clinical.toxicity_course import CourseSummary, GradedPoint, summarise_course
from cartflow.clinical.workflow import (
    InfusionFacts,
    InfusionTimes,
    LdStartFacts,
    guard_hematotox_timing,
    guard_infusion,
    guard_start_lymphodepletion,
)
from cartflow.episodes.workflow import Denied
from cartflow.identity.errors import MalformedScan
from cartflow.identity.isbt128 import ChainOfIdentityId

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COI = "CHA999926000123"
OTHER_COI = "CHA999926000124"
# Every ZUMA-1 limit exactly on its edge (ashpublications view-large/12889823, Table 1).
ZUMA1_EDGES = {
    LabTest.ANC_PER_UL: 1000,
    LabTest.LYMPHOCYTES_PER_UL: 100,
    LabTest.PLATELETS_10E9_PER_L: 75,
    LabTest.ALT_X_ULN: 2.5,
    LabTest.AST_X_ULN: 2.5,
    LabTest.BILIRUBIN_MG_PER_DL: 1.5,
    LabTest.CREATININE_CLEARANCE_ML_MIN: 60,
    LabTest.LVEF_PCT: 50,
    LabTest.SPO2_ROOM_AIR_PCT: 92,
}


def _codes(failures: list[Denied]) -> list[str]:
    return [f.code for f in failures]


# --- Eligibility -------------------------------------------------------------------------------


def test_zuma1_limits_are_inclusive() -> None:
    findings = EligibilityFindings(ecog=1, labs=ZUMA1_EDGES)
    assert (
        check_eligibility(ZUMA1_CRITERIA, findings, consent_on_record=True, indication=None) == []
    )


@pytest.mark.parametrize(
    ("test", "value"),
    [
        (LabTest.ANC_PER_UL, 999),
        (LabTest.PLATELETS_10E9_PER_L, 74),
        (LabTest.ALT_X_ULN, 2.6),
        (LabTest.BILIRUBIN_MG_PER_DL, 1.6),
        (LabTest.CREATININE_CLEARANCE_ML_MIN, 59),
        (LabTest.LVEF_PCT, 49),
        (LabTest.SPO2_ROOM_AIR_PCT, 91),
    ],
)
def test_a_lab_just_outside_its_limit_fails(test: LabTest, value: float) -> None:
    findings = EligibilityFindings(ecog=0, labs={**ZUMA1_EDGES, test: value})
    failures = check_eligibility(ZUMA1_CRITERIA, findings, consent_on_record=True, indication=None)
    assert _codes(failures) == ["ELIG-LAB"] and test.value in str(failures[0].message)


def test_every_reason_is_reported_at_once() -> None:
    labs = {k: v for k, v in ZUMA1_EDGES.items() if k is not LabTest.LVEF_PCT}
    failures = check_eligibility(
        ZUMA1_CRITERIA,
        EligibilityFindings(ecog=2, labs=labs),
        consent_on_record=False,
        indication=Denied("ELIG-002", "patient age 40 is outside the indication"),
    )
    assert _codes(failures) == ["ELIG-002", "ELIG-CONSENT", "ELIG-ECOG", "ELIG-LAB-MISSING"]


@given(ecog=st.integers(0, 5), anc=st.floats(0, 5000), worse_by=st.floats(0, 5000))
def test_worse_findings_never_make_a_patient_eligible(
    ecog: int, anc: float, worse_by: float
) -> None:
    def eligible(ecog_value: int, anc_value: float) -> bool:
        findings = EligibilityFindings(
            ecog=ecog_value, labs={**ZUMA1_EDGES, LabTest.ANC_PER_UL: anc_value}
        )
        return not check_eligibility(
            ZUMA1_CRITERIA, findings, consent_on_record=True, indication=None
        )

    if not eligible(ecog, anc):
        assert not eligible(min(ecog + 1, 5), max(anc - worse_by, 0))


# --- Tocilizumab (Kymriah PI, clinical.md 4.7) -------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "dose"),
    [(20, 240.0), (29.9, 358.8), (30, 240.0), (75, 600.0), (100, 800.0), (120, 800.0)],
)
def test_label_dose(weight: float, dose: float) -> None:
    # 12 mg/kg under 30 kg; 8 mg/kg from 30 kg, at most 800 mg.
    assert tocilizumab_dose_mg(weight) == dose


def test_dose_limits() -> None:
    hours = [T0 + dt.timedelta(hours=h) for h in (0, 8, 16)]
    assert tocilizumab_issues(dose_mg=560, weight_kg=70, at=hours[2], earlier=hours[:2]) == []
    assert _codes(tocilizumab_issues(dose_mg=600, weight_kg=70, at=T0, earlier=[])) == ["TOCI-DOSE"]
    too_soon = tocilizumab_issues(
        dose_mg=560, weight_kg=70, at=T0 + dt.timedelta(hours=6), earlier=[T0]
    )
    assert _codes(too_soon) == ["TOCI-INTERVAL"]
    # A fourth dose 24 h after the first: four doses in one (inclusive) 24-hour span.
    fourth = tocilizumab_issues(
        dose_mg=560, weight_kg=70, at=T0 + dt.timedelta(hours=24), earlier=hours
    )
    assert _codes(fourth) == ["TOCI-24H"]
    spread = [T0 + dt.timedelta(days=d) for d in range(4)]
    fifth = tocilizumab_issues(
        dose_mg=560, weight_kg=70, at=T0 + dt.timedelta(days=5), earlier=spread
    )
    assert _codes(fifth) == ["TOCI-TOTAL"]


# --- Bedside reads -----------------------------------------------------------------------------


def test_wristband_round_trip_and_keyboard_entry() -> None:
    read = wristband_data(pseudonym="P-7K3MXQ2A", coi=COI)
    assert read == f"WB:P-7K3MXQ2A/&/{COI}"
    pseudonym, scan = parse_wristband(read)
    assert pseudonym == "P-7K3MXQ2A" and scan.coi == ChainOfIdentityId.parse(COI)
    k = ChainOfIdentityId.parse(COI).check_character
    typed = f"WB:P-7K3MXQ2A/CH A9999 26 000123 {k}"
    assert check_wristband(typed, pseudonym="P-7K3MXQ2A", coi=COI, now=T0)[1].allowed
    wrong_k = "0" if k != "0" else "1"
    _, decision = check_wristband(
        f"WB:P-7K3MXQ2A/CH A9999 26 000123 {wrong_k}", pseudonym="P-7K3MXQ2A", coi=COI, now=T0
    )
    assert isinstance(decision, Denied) and "SCAN-CHECK-CHARACTER" in str(decision.message)


@pytest.mark.parametrize(
    "raw", ["P-7K3MXQ2A", "WB:P-7K3MXQ2A", "WB:/&/" + COI, "WB:P-1/=<S1234000"]
)
def test_a_read_that_is_not_a_wristband_is_malformed(raw: str) -> None:
    with pytest.raises(MalformedScan):
        parse_wristband(raw)


def test_wristband_of_another_patient_or_episode() -> None:
    _, other_patient = check_wristband(
        wristband_data(pseudonym="P-OTHER", coi=COI), pseudonym="P-7K3MXQ2A", coi=COI, now=T0
    )
    _, other_episode = check_wristband(
        wristband_data(pseudonym="P-7K3MXQ2A", coi=OTHER_COI),
        pseudonym="P-7K3MXQ2A",
        coi=COI,
        now=T0,
    )
    assert isinstance(other_patient, Denied) and isinstance(other_episode, Denied)
    assert other_patient.code == other_episode.code == "BEDSIDE-WRISTBAND-MISMATCH"


def test_bag_reads() -> None:
    ok = check_bag(f"=<S1234000&/{COI}", coi=COI, isbt_product_code="S1234000", now=T0)[1]
    assert ok.allowed
    for raw, rule in [
        (f"&/{OTHER_COI}", "SCAN-WRONG-EPISODE"),
        (f"=<S9999000&/{COI}", "SCAN-PRODUCT-CODE"),
        ("=A99992612345600", "BEDSIDE-BAG-NO-COI"),
    ]:
        _, decision = check_bag(raw, coi=COI, isbt_product_code="S1234000", now=T0)
        assert isinstance(decision, Denied)
        assert rule in (decision.code, str(decision.message).split(":")[0]), (raw, decision)


def test_two_people() -> None:
    assert isinstance(check_second_person("nurse", "nurse"), Denied)
    assert check_second_person("nurse", "clinician").allowed


# --- Guards ------------------------------------------------------------------------------------


def test_lymphodepletion_needs_release_first() -> None:
    def decide(released: dt.datetime | None, starts: dt.datetime, *, plan: bool = True) -> str:
        decision = guard_start_lymphodepletion(
            LdStartFacts(released, has_current_plan=plan, plan_started=False, starts_at=starts)
        )
        return decision.code if isinstance(decision, Denied) else "allowed"

    assert decide(None, T0) == "LD-NOT-RELEASED"
    assert decide(T0, T0 - dt.timedelta(hours=1)) == "LD-NOT-RELEASED"
    assert decide(T0, T0, plan=False) == "LD-NO-PLAN"
    assert decide(T0 - dt.timedelta(days=1), T0) == "allowed"


def _times(thaw_end_to_end: int) -> InfusionTimes:
    return InfusionTimes(
        thaw_started_at=T0,
        thaw_completed_at=T0 + dt.timedelta(minutes=5),
        infusion_started_at=T0 + dt.timedelta(minutes=10),
        infusion_ended_at=T0 + dt.timedelta(minutes=5 + thaw_end_to_end),
    )


def _facts(**changes: object) -> InfusionFacts:
    base: dict[str, object] = {
        "check_verified": True,
        "check_completed_at": T0 - dt.timedelta(minutes=5),
        "check_already_used": False,
        "ld_started_at": T0 - dt.timedelta(days=5),
        "post_thaw_window_minutes": 30,
    }
    return InfusionFacts(**(base | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "minutes", "reason", "expected"),
    [
        ({}, 30, "", "allowed"),  # exactly the 30 minutes of Kymriah's label
        ({}, 31, "", "INF-THAW-WINDOW"),
        ({}, 31, "pump alarm", "allowed"),
        ({"check_verified": False}, 20, "", "INF-CHECK-NOT-VERIFIED"),
        ({"check_already_used": True}, 20, "", "INF-CHECK-USED"),
        ({"check_completed_at": T0 + dt.timedelta(minutes=1)}, 20, "", "INF-CHECK-AFTER-THAW"),
        ({"ld_started_at": None}, 20, "", "INF-BEFORE-LD"),
    ],
)
def test_infusion_guard(facts: dict[str, object], minutes: int, reason: str, expected: str) -> None:
    decision = guard_infusion(_facts(**facts), _times(minutes), deviation_reason=reason)
    assert (decision.code if isinstance(decision, Denied) else "allowed") == expected


def test_infusion_times_in_order() -> None:
    times = _times(20)
    assert times.out_of_order() is None
    assert InfusionTimes(T0, T0 - dt.timedelta(minutes=1), T0, T0).out_of_order() == (
        "thaw_completed_at"
    )


def test_hematotox_is_a_baseline() -> None:
    day = dt.date(2026, 3, 1)
    assert guard_hematotox_timing(measured_on=day, ld_started_on=day).allowed
    assert guard_hematotox_timing(measured_on=day, ld_started_on=None).allowed
    late = guard_hematotox_timing(measured_on=day, ld_started_on=day - dt.timedelta(days=1))
    assert isinstance(late, Denied) and late.code == "HEMATOTOX-AFTER-LD"


# --- Toxicity course ---------------------------------------------------------------------------


def _course(*grades: tuple[float, int]) -> CourseSummary:
    points = [GradedPoint(T0 + dt.timedelta(days=d), g) for d, g in grades]
    return summarise_course(points, infusion_date=T0.date(), timezone="Europe/Moscow")


def test_course_by_the_registry_definitions() -> None:
    course = _course((0.5, 0), (1, 1), (2, 3), (2.5, 2), (3, 0), (4, 0))
    assert course.model_dump(include={"max_grade", "onset_day", "duration_days", "ongoing"}) == {
        "max_grade": 3,
        "onset_day": 1,
        "duration_days": 2,
        "ongoing": False,
    }
    ongoing = _course((1, 2), (3, 1))
    assert ongoing.ongoing and ongoing.duration_days == 2
    none = _course((1, 0), (2, 0))
    assert none.max_grade == 0 and none.onset_at is None
    recurred = _course((1, 1), (2, 0), (5, 2), (6, 0))
    assert recurred.duration_days == 5 and recurred.max_grade == 2


def test_days_are_the_centers_days() -> None:
    # 22:30 UTC on day 0 is 01:30 the next day in Moscow (UTC+3): onset day 1.
    late = GradedPoint(T0.replace(hour=22, minute=30), 1)
    course = summarise_course([late], infusion_date=T0.date(), timezone="Europe/Moscow")
    assert course.onset_day == 1


@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 5)), min_size=1, max_size=30))
def test_course_invariants(points: list[tuple[int, int]]) -> None:
    graded = [GradedPoint(T0 + dt.timedelta(hours=h), g) for h, g in points]
    course = summarise_course(graded, infusion_date=T0.date(), timezone="UTC")
    assert course.max_grade == max(g for _, g in points)
    assert course.assessments == len(points)
    if course.onset_at is None:
        assert course.max_grade == 0 and course.duration_days is None
    else:
        assert course.duration_days is not None and course.duration_days >= 0
        assert course.max_grade_at is not None and course.onset_at <= course.max_grade_at
        assert (course.resolved_at is None) == course.ongoing
