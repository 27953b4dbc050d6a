"""PFS, EFS and duration of response from recorded outcomes: one patient at a time, by the
definitions in `outcome_times` (each case states the day counts by hand)."""

from __future__ import annotations

import datetime as dt

import pytest

from cartflow.models import Diagnosis
from cartflow.registry.outcome_times import (
    Endpoint,
    EventTime,
    PatientHistory,
    efs_defined,
    endpoint_time,
)

DAY0 = dt.date(2025, 3, 1)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def history(
    diagnosis: Diagnosis,
    *,
    censor: int,
    responses: tuple[tuple[int, str], ...] = (),
    progressions: tuple[int, ...] = (),
    died: int | None = None,
) -> PatientHistory:
    return PatientHistory(
        diagnosis=diagnosis,
        infused_on=DAY0,
        censor_on=day(censor),
        responses=tuple((day(d), c) for d, c in responses),
        progressions=tuple(day(d) for d in progressions),
        died_on=day(died) if died is not None else None,
    )


def times(h: PatientHistory) -> dict[str, tuple[float, int] | None]:
    out: dict[str, tuple[float, int] | None] = {}
    for endpoint in Endpoint:
        t = endpoint_time(endpoint, h)
        out[endpoint.value] = None if t is None else (t.days, t.event)
    return out


def test_lymphoma_complete_response_then_progression_then_death() -> None:
    h = history(
        Diagnosis.DLBCL,
        censor=200,
        responses=((28, "complete_response"), (120, "progressive_disease")),
        died=200,
    )
    # OS: death day 200. PFS: the PD assessment on day 120. EFS: responded by day 150, so the
    # progression. DOR: 120 - 28 = 92 days.
    assert times(h) == {
        "os": (200.0, 1),
        "pfs": (120.0, 1),
        "efs": (120.0, 1),
        "dor": (92.0, 1),
    }


def test_lymphoma_stable_disease_through_day_150_is_an_event_on_day_0() -> None:
    h = history(
        Diagnosis.DLBCL,
        censor=180,
        responses=((28, "stable_disease"), (180, "stable_disease")),
    )
    assert times(h) == {"os": (180.0, 0), "pfs": (180.0, 0), "efs": (0.0, 1), "dor": None}


def test_lymphoma_failure_is_not_known_before_the_landmark() -> None:
    h = history(Diagnosis.PMBCL, censor=90, responses=((28, "stable_disease"),))
    assert endpoint_time(Endpoint.EFS, h) == EventTime(90.0, 0)


def test_a_response_after_the_landmark_does_not_rescue_efs() -> None:
    h = history(
        Diagnosis.HGBCL,
        censor=200,
        responses=((28, "stable_disease"), (151, "partial_response")),
    )
    assert endpoint_time(Endpoint.EFS, h) == EventTime(0.0, 1)
    # It is still a response: DOR runs from day 151 to the censoring on day 200.
    assert endpoint_time(Endpoint.DOR, h) == EventTime(49.0, 0)


def test_b_all_no_remission_death_and_relapse() -> None:
    refractory = history(Diagnosis.B_ALL, censor=60, responses=((28, "no_response"),), died=60)
    assert times(refractory) == {"os": (60.0, 1), "pfs": (60.0, 1), "efs": (0.0, 1), "dor": None}
    relapsed = history(
        Diagnosis.B_ALL, censor=150, responses=((28, "complete_remission"),), progressions=(150,)
    )
    assert times(relapsed) == {
        "os": (150.0, 0),
        "pfs": (150.0, 1),
        "efs": (150.0, 1),
        "dor": (122.0, 1),
    }


def test_b_all_not_evaluable_past_day_90_is_censored_on_day_0() -> None:
    # ELN 2022 Table 9: alive and not evaluable for response by the landmark.
    h = history(Diagnosis.B_ALL, censor=120)
    assert endpoint_time(Endpoint.EFS, h) == EventTime(0.0, 0)
    # Before the landmark it is simply follow-up so far.
    assert endpoint_time(Endpoint.EFS, history(Diagnosis.B_ALL, censor=40)) == EventTime(40.0, 0)


def test_b_all_remission_with_incomplete_recovery_counts_as_response() -> None:
    h = history(
        Diagnosis.B_ALL,
        censor=56,
        responses=((28, "complete_remission_incomplete_recovery"), (56, "complete_remission")),
    )
    assert times(h) == {"os": (56.0, 0), "pfs": (56.0, 0), "efs": (56.0, 0), "dor": (28.0, 0)}


def test_progression_before_the_first_response_does_not_end_it() -> None:
    # Pseudo-progression on day 14, then a partial response on day 28, progression on day 100.
    h = history(
        Diagnosis.DLBCL,
        censor=100,
        responses=((28, "partial_response"),),
        progressions=(14, 100),
    )
    assert endpoint_time(Endpoint.PFS, h) == EventTime(14.0, 1)
    assert endpoint_time(Endpoint.DOR, h) == EventTime(72.0, 1)


@pytest.mark.parametrize(
    ("diagnosis", "defined"),
    [
        (Diagnosis.B_ALL, True),
        (Diagnosis.DLBCL, True),
        (Diagnosis.PMBCL, True),
        (Diagnosis.HGBCL, True),
        (Diagnosis.FOLLICULAR_LYMPHOMA, False),
        (Diagnosis.MANTLE_CELL_LYMPHOMA, False),
        (Diagnosis.MULTIPLE_MYELOMA, False),
    ],
)
def test_efs_is_defined_where_the_car_t_literature_defines_it(
    diagnosis: Diagnosis, defined: bool
) -> None:
    assert efs_defined(diagnosis) is defined
    h = history(diagnosis, censor=400, responses=((28, "partial_response"),), died=300)
    assert (endpoint_time(Endpoint.EFS, h) is not None) is defined
    # PFS and OS apply to every disease.
    assert endpoint_time(Endpoint.PFS, h) == EventTime(300.0, 1)
    assert endpoint_time(Endpoint.OS, h) == EventTime(300.0, 1)


def test_myeloma_response_and_progression() -> None:
    h = history(
        Diagnosis.MULTIPLE_MYELOMA,
        censor=365,
        responses=((30, "very_good_partial_response"), (90, "stringent_complete_response")),
        progressions=(300,),
    )
    assert times(h) == {"os": (365.0, 0), "pfs": (300.0, 1), "efs": None, "dor": (270.0, 1)}
