"""Electronic signatures: password re-entered at signing, bound to one record's exact content."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.signatures import (
    RELEASED_FOR_INFUSION,
    SignatureRefused,
    sign,
    signatures_for,
    verify_signature,
)
from cartflow.auth.actor import Actor
from cartflow.models import ElectronicSignature, Role
from tests.factories import PASSWORD, make_user


def test_signature_binds_name_time_meaning_and_record(session: Session) -> None:
    actor = Actor(make_user(session, Role.QUALIFIED_PERSON, site=None))
    record_id = uuid.uuid4()
    content = {"batch": "B-1", "viability_percent": 91.5}
    signature = sign(
        session,
        actor=actor,
        password=PASSWORD,
        meaning=RELEASED_FOR_INFUSION,
        record_type="batch",
        record_id=record_id,
        record_content=content,
    )
    assert signature.signer_printed_name == actor.user.full_name
    assert (
        signature.signed_at.utcoffset() is not None
        and signature.signed_at.utcoffset().total_seconds() == 0
    )
    assert verify_signature(
        signature, record_type="batch", record_id=record_id, record_content=content
    )
    assert signatures_for(session, record_type="batch", record_id=record_id) == [signature]


def test_signature_fails_on_another_record_or_changed_content(session: Session) -> None:
    actor = Actor(make_user(session, Role.QUALIFIED_PERSON))
    record_id = uuid.uuid4()
    content = {"batch": "B-1", "viability_percent": 91.5}
    signature = sign(
        session,
        actor=actor,
        password=PASSWORD,
        meaning=RELEASED_FOR_INFUSION,
        record_type="batch",
        record_id=record_id,
        record_content=content,
    )
    assert not verify_signature(
        signature, record_type="batch", record_id=uuid.uuid4(), record_content=content
    )
    assert not verify_signature(
        signature,
        record_type="batch",
        record_id=record_id,
        record_content=content | {"viability_percent": 60},
    )
    signature.meaning = "QC verified"  # an edited meaning breaks the signature's own hash
    assert not verify_signature(
        signature, record_type="batch", record_id=record_id, record_content=content
    )


def test_wrong_password_signs_nothing(session: Session) -> None:
    actor = Actor(make_user(session, Role.QUALIFIED_PERSON))
    before = session.execute(select(func.count(ElectronicSignature.id))).scalar_one()
    with pytest.raises(SignatureRefused):
        sign(
            session,
            actor=actor,
            password="not-my-password",
            meaning=RELEASED_FOR_INFUSION,
            record_type="batch",
            record_id=uuid.uuid4(),
            record_content={},
        )
    assert session.execute(select(func.count(ElectronicSignature.id))).scalar_one() == before
