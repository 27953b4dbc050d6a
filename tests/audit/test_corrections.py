"""Corrections create a new version that supersedes the old one, with a reason; nothing is
overwritten: every earlier version stays readable (21 CFR 11.10(e))."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cartflow.audit.corrections import (
    content_sha256,
    correct_record,
    default_content,
    supersede,
    versions,
)
from cartflow.auth.actor import Actor
from cartflow.errors import InvalidInput
from cartflow.models import AuditEvent, Role
from cartflow.models.records import RecordVersion
from tests.conftest import BACKEND
from tests.factories import make_network, make_patient, make_user


def test_corrections_form_a_line_of_versions(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    actor = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    original = default_content(patient)

    first = correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes={"weight_kg": 42.0},
        reason="scale recalibrated",
    )
    second = correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes={"weight_kg": 43.0, "height_cm": 151.0},
        reason="re-measured",
    )
    assert first is not None and second is not None
    assert first.before == {"weight_kg": 40.0} and first.after == {"weight_kg": 42.0}
    line = versions(session, record_type="patient", record_id=patient.id)
    assert [v.version for v in line] == [1, 2, 3]
    assert line[0].content == original and line[0].supersedes_id is None
    assert [v.supersedes_id for v in line[1:]] == [line[0].id, line[1].id]
    assert [v.reason for v in line[1:]] == ["scale recalibrated", "re-measured"]
    assert line[2].content == default_content(patient)
    assert all(v.content_sha256 == content_sha256(v.content) for v in line)
    assert patient.weight_kg == 43.0  # the live row holds the current version


def test_a_correction_is_audited_with_old_and_new_values(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    actor = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes={"prior_lines_of_therapy": 3},
        reason="a line was missed",
    )
    event = session.execute(
        select(AuditEvent).where(
            AuditEvent.record_id == str(patient.id), AuditEvent.action == "correct"
        )
    ).scalar_one()
    assert event.before == {"prior_lines_of_therapy": 2}
    assert event.after == {"prior_lines_of_therapy": 3, "record_version": 2}
    assert event.reason == "a line was missed" and event.actor_id == actor.id


def test_no_reason_no_correction_and_no_change_no_version(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    actor = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    with pytest.raises(InvalidInput) as refused:
        correct_record(
            session,
            actor=actor,
            record=patient,
            record_type="patient",
            changes={"weight_kg": 41.0},
            reason="  ",
        )
    assert refused.value.field == "reason"
    same = correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes={"weight_kg": patient.weight_kg},
        reason="no change",
    )
    assert same is None and versions(session, record_type="patient", record_id=patient.id) == []


def test_a_version_cannot_be_superseded_twice(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    actor = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    done = correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes={"weight_kg": 42.0},
        reason="r",
    )
    assert done is not None
    fork = RecordVersion(
        record_type="patient",
        record_id=str(patient.id),
        version=3,
        content={},
        content_sha256="0" * 64,
        supersedes_id=done.version.supersedes_id,  # version 1 again: a fork
        created_by_username="x",
    )
    session.add(fork)
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.skipif(BACKEND != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_versions_are_append_only_on_postgresql(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    patient = make_patient(session, net.center_a)
    actor = Actor(make_user(session, Role.CLINICIAN, center=net.center_a))
    correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes={"weight_kg": 42.0},
        reason="r",
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE record_version SET reason = 'rewritten'"))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM record_version"))


def test_supersede_links_both_records_in_the_trail(session: Session) -> None:
    actor = Actor(make_user(session, Role.QC_ANALYST))
    old, new = uuid.uuid4(), uuid.uuid4()
    supersede(
        session,
        actor=actor,
        record_type="qc_result",
        old_id=old,
        new_id=new,
        reason="retest: sample haemolysed",
        new_content={"value": 92.0},
    )
    events = {
        e.record_id: e
        for e in session.execute(
            select(AuditEvent).where(AuditEvent.record_id.in_([str(old), str(new)]))
        ).scalars()
    }
    assert events[str(old)].action == "superseded"
    assert events[str(old)].after == {"superseded_by": str(new)}
    assert events[str(new)].after == {"supersedes": str(old), "value": 92.0}
    with pytest.raises(InvalidInput):
        supersede(session, actor=actor, record_type="qc_result", old_id=old, new_id=new, reason="")
