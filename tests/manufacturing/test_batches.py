"""Batches through the services on a real database: one batch per device at a time, steps in order,
corrections and retests that supersede, re-manufacture, and the specification version a batch
keeps. The database backs the rules up where two people could race."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartflow.audit.service import history, verify_audit_trail
from cartflow.db.base import utcnow
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition, get_episode
from cartflow.errors import CartflowError, InvalidInput
from cartflow.manufacturing import disposition, qc, service, steps
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.manufacturing.records import batch_results, current_steps
from cartflow.manufacturing.schemas import (
    BatchStart,
    QcResultIn,
    Reason,
    Reject,
    RetestIn,
    Sign,
    StepCorrection,
    StepRecord,
    SubmitForQc,
    Terminate,
)
from cartflow.models import Device, Episode, EpisodeState, Role, WithdrawalReason
from cartflow.models.manufacturing import Batch, BatchState, BatchStep, StepKind
from cartflow.models.manufacturing_qc import QcResult
from tests.factories import PASSWORD, Network, make_network, make_user
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    PROCESS,
    Staff,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    start_batch,
    verify_all,
)

DAY = dt.timedelta(days=1)


def _refused(code: str) -> Any:
    return pytest.raises(ManufacturingRefused, match=f"^{code}:")


@pytest.fixture
def site(session: Session, unique: str) -> tuple[Network, Staff]:
    net = make_network(session, unique)
    make_specification(session, net)
    return net, make_staff(session, net)


def _received(days_ago: float = 16) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days_ago)


def _episode(session: Session, net: Network, received_at: dt.datetime) -> Episode:
    return collected_episode(session, net, collected_at=received_at - dt.timedelta(hours=6))


def _record_process(session: Session, staff: Staff, batch: Batch, received_at: dt.datetime) -> None:
    for step, start_day, end_day in PROCESS:
        steps.record_step(
            session,
            actor=staff.planner,
            batch_id=batch.id,
            data=StepRecord(
                step=step,
                started_at=received_at + start_day * DAY,
                completed_at=received_at + end_day * DAY,
            ),
        )


def test_a_device_makes_one_batch_at_a_time(session: Session, site: tuple[Network, Staff]) -> None:
    net, staff = site
    received = _received()
    first = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
    second = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
    batch = start_batch(session, staff, first, received_at=received)

    with _refused("DEV-002") as caught:
        start_batch(session, staff, second, received_at=received)
    assert batch.din in caught.value.message and caught.value.field == "device"
    assert second.state is EpisodeState.APHERESIS_COLLECTED

    # Once the first product is frozen the device is free for the next patient.
    _record_process(session, staff, batch, received)
    assert batch.occupied_device_id is None and batch.cryopreserved_at is not None
    other = start_batch(session, staff, second, received_at=received + 12 * DAY)
    assert other.device_id == batch.device_id and other.din != batch.din


def test_the_database_refuses_two_batches_holding_one_device(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    first = start_batch(session, staff, _episode(session, net, received), received_at=received)
    second_episode = _episode(session, net, received)
    device = session.execute(select(Device).where(Device.site_id == net.site.id)).scalar_one()
    session.add(Device(site_id=net.site.id, code="DEV-2", kind="CliniMACS Prodigy"))
    session.flush()
    second = service.start_batch(
        session,
        actor=staff.planner,
        data=BatchStart(episode_id=second_episode.id, device="DEV-2", received_at=received),
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        second.occupied_device_id = device.id  # what a race past the check would write
        session.flush()
    assert first.occupied_device_id == device.id


def test_unknown_or_retired_devices_are_refused(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    episode = _episode(session, net, received)
    with pytest.raises(InvalidInput) as caught:
        service.start_batch(
            session,
            actor=staff.planner,
            data=BatchStart(episode_id=episode.id, device="DEV-9", received_at=received),
        )
    assert caught.value.field == "device"
    session.execute(select(Device).where(Device.site_id == net.site.id)).scalar_one().active = False
    with _refused("DEV-001"):
        start_batch(session, staff, episode, received_at=received)


def test_steps_are_recorded_in_order_and_never_in_the_future(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    batch = start_batch(session, staff, _episode(session, net, received), received_at=received)

    def record(step: StepKind, start: dt.datetime, end: dt.datetime) -> BatchStep:
        data = StepRecord(step=step, started_at=start, completed_at=end)
        return steps.record_step(session, actor=staff.planner, batch_id=batch.id, data=data)

    with _refused("STEP-002"):
        record(StepKind.EXPANSION, received + DAY, received + 2 * DAY)
    with _refused("STEP-005"):
        record(StepKind.ACTIVATION, received - DAY, received + DAY)
    with _refused("STEP-004"):
        record(StepKind.ACTIVATION, received, utcnow() + DAY)
    with _refused("STEP-002"):
        record(StepKind.APHERESIS_RECEIPT, received, received)
    record(StepKind.ACTIVATION, received, received + DAY)
    assert [s.step for s in current_steps(session, batch.id)] == [
        StepKind.APHERESIS_RECEIPT,
        StepKind.ACTIVATION,
    ]
    with _refused("QC-SUBMIT-002") as caught:
        service.submit_for_qc(session, actor=staff.planner, batch_id=batch.id, data=SubmitForQc())
    assert "transduction" in caught.value.message


def test_the_material_cannot_arrive_before_it_was_collected(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    episode = _episode(session, net, received)
    with _refused("STEP-006") as caught:
        start_batch(session, staff, episode, received_at=received - DAY)
    assert caught.value.field == "received_at"


def test_a_correction_supersedes_the_step_and_keeps_the_old_revision(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    batch = start_batch(session, staff, _episode(session, net, received), received_at=received)
    _record_process(session, staff, batch, received)
    activation = current_steps(session, batch.id)[1]
    corrected = steps.correct_step(
        session,
        actor=staff.planner,
        step_id=activation.id,
        data=StepCorrection(
            started_at=received + 0.2 * DAY,
            completed_at=received + 0.9 * DAY,
            reason="transcription error: activation started at 13:00, not 11:00",
        ),
    )
    assert (corrected.revision, corrected.supersedes_id) == (2, activation.id)
    assert current_steps(session, batch.id)[1].id == corrected.id
    assert session.get(BatchStep, activation.id) is not None
    [event] = history(session, record_type="batch_step", record_id=corrected.id)
    assert event.action == "correct" and event.reason.startswith("transcription error")

    # The old revision cannot be corrected again, and a correction keeps the order of steps.
    again = StepCorrection(
        started_at=received + 0.2 * DAY, completed_at=received + 0.9 * DAY, reason="again"
    )
    with _refused("STEP-008"):
        steps.correct_step(session, actor=staff.planner, step_id=activation.id, data=again)
    overlapping = StepCorrection(
        started_at=received + 0.2 * DAY, completed_at=received + 1.5 * DAY, reason="overlap"
    )
    with _refused("STEP-005"):
        steps.correct_step(session, actor=staff.planner, step_id=corrected.id, data=overlapping)


def test_a_terminated_run_frees_the_device_and_the_next_batch_links_to_it(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    episode = _episode(session, net, received)
    first = start_batch(session, staff, episode, received_at=received)
    service.terminate_batch(
        session,
        actor=staff.planner,
        batch_id=first.id,
        data=Terminate(reason="no expansion by day 7", remanufacture=True),
    )
    assert first.state is BatchState.TERMINATED and first.occupied_device_id is None
    assert episode.state is EpisodeState.APHERESIS_COLLECTED
    second = start_batch(session, staff, episode, received_at=received + 8 * DAY)
    assert (second.run_number, second.remanufacture_of_id) == (2, first.id)
    assert session.get(Episode, episode.id).state is EpisodeState.IN_MANUFACTURING  # type: ignore[union-attr]
    with _refused("TERM-001"):
        service.terminate_batch(
            session, actor=staff.planner, batch_id=first.id, data=Terminate(reason="again")
        )
    assert verify_audit_trail(session).ok


def _tested(session: Session, net: Network, staff: Staff, values: dict[str, float | str]) -> Batch:
    received = _received()
    batch = manufacture(session, staff, _episode(session, net, received), received_at=received)
    verify_all(session, staff.second_analyst, enter_results(session, staff.analyst, batch, values))
    return batch


def test_a_rejected_batch_can_be_made_again(session: Session, site: tuple[Network, Staff]) -> None:
    net, staff = site
    batch = _tested(session, net, staff, ARI_0001_LOT_01 | {"sterility": "growth"})
    episode = get_episode(session, actor=staff.qp, episode_id=batch.episode_id)
    decision = disposition.reject(
        session,
        actor=staff.qp,
        batch_id=batch.id,
        data=Reject(password=PASSWORD, reason="microbial growth", remanufacture=True),
    )
    assert batch.state is BatchState.REJECTED and decision.decision.value == "reject"
    assert episode.state is EpisodeState.APHERESIS_COLLECTED
    second = start_batch(session, staff, episode, received_at=utcnow() - DAY)
    assert second.remanufacture_of_id == batch.id
    with _refused("REMAN-002"):
        service.remanufacture(session, actor=staff.qp, batch_id=batch.id, data=_reason())


def _reason() -> Reason:
    return Reason(reason="make it again")


def test_after_a_rejection_the_center_may_withdraw_instead(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    batch = _tested(session, net, staff, ARI_0001_LOT_01 | {"mycoplasma": "detected"})
    disposition.reject(
        session, actor=staff.qp, batch_id=batch.id, data=Reject(password=PASSWORD, reason="myco")
    )
    episode = get_episode(session, actor=staff.qp, episode_id=batch.episode_id)
    assert episode.state is EpisodeState.QC
    apply_transition(
        session,
        actor=staff.coordinator,
        episode_id=episode.id,
        request=TransitionRequest(
            transition="withdraw", withdrawal_reason=WithdrawalReason.MANUFACTURING_FAILURE
        ),
    )
    with pytest.raises(CartflowError, match="STATE-001"):
        service.remanufacture(session, actor=staff.qp, batch_id=batch.id, data=_reason())


def test_the_batch_keeps_the_specification_version_it_was_tested_against(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    batch = manufacture(session, staff, _episode(session, net, received), received_at=received)
    first_version = batch.specification_id
    make_specification(session, net, {"viability_percent": {"min": 95}})  # version 2
    [result] = enter_results(session, staff.analyst, batch, {"viability_percent": 90.0})
    assert batch.specification_id == first_version
    assert result.within_spec and result.specification_id == first_version


def test_a_retest_supersedes_the_result_and_needs_its_own_verification(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    batch = _tested(session, net, staff, ARI_0001_LOT_01 | {"viability_percent": 65.0})
    first = next(r for r in batch_results(session, batch.id) if r.test == "viability_percent")
    retest = qc.retest(
        session,
        actor=staff.analyst,
        result_id=first.id,
        data=RetestIn(value=88.0, reason="OOS investigation: counting chamber misread"),
    )
    assert (retest.attempt, retest.supersedes_id, retest.within_spec) == (2, first.id, True)
    with _refused("QC-003"):
        qc.retest(
            session, actor=staff.analyst, result_id=first.id, data=RetestIn(value=1, reason="x")
        )
    with _refused("REL-004"):
        disposition.release(
            session, actor=staff.qp, batch_id=batch.id, data=Sign(password=PASSWORD)
        )
    qc.verify_result(session, actor=staff.second_analyst, result_id=retest.id)
    # Within specification now: an ordinary release, one signature.
    decision = disposition.release(
        session, actor=staff.qp, batch_id=batch.id, data=Sign(password=PASSWORD)
    )
    assert not decision.exceptional and batch.state is BatchState.RELEASED
    assert [
        line["attempt"]
        for line in decision.signed_content["results"]
        if line["test"] == "viability_percent"
    ] == [2]


def test_results_need_a_batch_in_qc_a_known_test_and_one_current_result(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    received = _received()
    batch = start_batch(session, staff, _episode(session, net, received), received_at=received)

    def enter(test: str, value: float | str) -> QcResult:
        data = QcResultIn(test=test, value=value)
        return qc.enter_result(session, actor=staff.analyst, batch_id=batch.id, data=data)

    with _refused("QC-001") as caught:
        enter("viability_percent", 90.0)
    assert caught.value.field == "batch"
    _record_process(session, staff, batch, received)
    service.submit_for_qc(session, actor=staff.planner, batch_id=batch.id, data=SubmitForQc())
    bad_inputs: list[tuple[str, float | str, str]] = [
        ("potency", 1.0, "test"),
        ("replication_competent_retrovirus", "not detected", "test"),  # not in this spec
        ("viability_percent", 101.0, "value"),
    ]
    for test, value, field in bad_inputs:
        with pytest.raises(InvalidInput) as bad:
            enter(test, value)
        assert bad.value.field == field, test
    enter("viability_percent", 90.0)
    with _refused("QC-002"):
        enter("viability_percent", 91.0)


def test_the_database_refuses_a_result_verified_by_its_enterer(
    session: Session, site: tuple[Network, Staff]
) -> None:
    net, staff = site
    batch = _tested(session, net, staff, {})
    [result] = enter_results(session, staff.analyst, batch, {"viability_percent": 90.0})
    with pytest.raises(IntegrityError), session.begin_nested():
        result.verified_by_id = result.entered_by_id
        result.verified_at = utcnow()
        session.flush()


def test_submission_needs_a_valid_specification_that_fits_the_patient(
    session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    staff = make_staff(session, net)
    received = _received()
    batch = start_batch(session, staff, _episode(session, net, received), received_at=received)
    _record_process(session, staff, batch, received)
    with _refused("SPEC-001"):
        service.submit_for_qc(session, actor=staff.planner, batch_id=batch.id, data=SubmitForQc())
    # A myeloma-only dose band cannot judge this B-ALL patient's dose.
    make_specification(
        session,
        net,
        {"car_t_dose": {"basis": "flat", "min": 1e8, "max": 5e8, "diagnoses": ["MM"]}},
    )
    with _refused("SPEC-003"):
        service.submit_for_qc(session, actor=staff.planner, batch_id=batch.id, data=SubmitForQc())
    # An impossible limit is refused when the specification is added ...
    with pytest.raises(InvalidInput) as refused:
        make_specification(session, net, {"viability_percent": {"min": 170}})
    assert refused.value.field == "criteria.viability_percent.min"
    # ... and one stored before that check (written here directly) is still refused at submission.
    current = make_specification(session, net, {"viability_percent": {"min": 70}})
    current.criteria = {"viability_percent": {"min": 170}}
    session.flush()
    with _refused("SPEC-002") as caught:
        service.submit_for_qc(session, actor=staff.planner, batch_id=batch.id, data=SubmitForQc())
    assert "criteria.viability_percent.min" in caught.value.message


def test_operators_are_people_of_the_site(session: Session, site: tuple[Network, Staff]) -> None:
    net, staff = site
    received = _received()
    episode = _episode(session, net, received)
    outsider = make_user(session, Role.CLINICIAN, center=net.center_a)
    with pytest.raises(InvalidInput) as caught:
        service.start_batch(
            session,
            actor=staff.planner,
            data=BatchStart(
                episode_id=episode.id,
                device="DEV-1",
                received_at=received,
                operators=[outsider.username],
            ),
        )
    assert caught.value.field == "operators"
    batch = service.start_batch(
        session,
        actor=staff.planner,
        data=BatchStart(
            episode_id=episode.id,
            device="DEV-1",
            received_at=received,
            operators=[staff.planner.user.username, staff.analyst.user.username],
        ),
    )
    [receipt] = current_steps(session, batch.id)
    session.refresh(receipt, ["operators"])
    assert sorted(o.printed_name for o in receipt.operators) == ["Alla Analyst", "Pavel Planner"]


def test_only_one_decision_stands_per_batch(session: Session, site: tuple[Network, Staff]) -> None:
    net, staff = site
    batch = _tested(session, net, staff, ARI_0001_LOT_01)
    disposition.release(session, actor=staff.qp, batch_id=batch.id, data=Sign(password=PASSWORD))
    with _refused("REJ-001"):
        disposition.reject(
            session,
            actor=staff.second_qp,
            batch_id=batch.id,
            data=Reject(password=PASSWORD, reason="second thoughts"),
        )
    with _refused("REL-001"):
        disposition.release(
            session, actor=staff.second_qp, batch_id=batch.id, data=Sign(password=PASSWORD)
        )
