"""Disposition: the qualified person releases or rejects a batch with an electronic signature.

Every signature (21 CFR 11.50, 11.70) covers `disposition_content`: the decision and every current
result with its limit, enterer and verifier, so a result changed after signing no longer matches.
The password is checked before anything is written, so a wrong password leaves no trace but the
refusal. An out-of-specification batch is released only as an exceptional release (EU GMP for
ATMPs, C(2017) 7694 §11.5): the treating physician's signed, written request is on record first,
then a qualified person signs the release and a different qualified person adds the second
signature that makes it effective. A rejection sends the episode back for a new run when asked;
otherwise the treating center decides (re-manufacture or withdrawal).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot, to_jsonable
from cartflow.audit.signatures import (
    EXCEPTIONAL_RELEASE_APPROVED,
    REJECTED,
    RELEASED_FOR_INFUSION,
    sign,
)
from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.i18n import _
from cartflow.manufacturing import workflow
from cartflow.manufacturing.access import episode_of, get_batch, require_roles
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.manufacturing.labels import EXCEPTIONAL_RELEASE_REQUESTED
from cartflow.manufacturing.records import (
    audit,
    audit_change,
    batch_results,
    batch_snapshot,
    move_episode,
    refuse,
)
from cartflow.manufacturing.schemas import ExceptionalReleaseRequestIn, Reject, Sign
from cartflow.manufacturing.signing import (
    DISPOSITION_RECORD,
    REQUEST_RECORD,
    disposition_content,
    disposition_facts,
    exceptional_request,
    pending_disposition,
    result_lines,
)
from cartflow.models import Episode, Role
from cartflow.models.manufacturing import Batch, BatchState
from cartflow.models.manufacturing_qc import (
    BatchDisposition,
    DispositionDecision,
    DispositionStatus,
    ExceptionalReleaseRequest,
)


def _lock(session: Session, actor: Actor, batch_id: uuid.UUID) -> tuple[Batch, Episode]:
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(actor, episode, Role.QUALIFIED_PERSON, action=_("a batch disposition"))
    return batch, episode


def _close(
    session: Session, actor: Actor, batch: Batch, state: BatchState, now: dt.datetime
) -> None:
    before = batch_snapshot(batch)
    batch.state = state
    if state in (BatchState.RELEASED, BatchState.REJECTED):
        batch.closed_at = now
    session.flush()
    audit_change(
        session, actor, "batch", batch.id, state.value, before=before, after=batch_snapshot(batch)
    )


def release(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: Sign,
    now: dt.datetime | None = None,
) -> BatchDisposition:
    """Sign the release. Within specification it takes effect at once and the episode is
    released; out of specification it is the first of the two signatures of an exceptional
    release."""
    now = now or utcnow()
    batch, episode = _lock(session, actor, batch_id)
    facts = disposition_facts(session, batch)
    refuse(workflow.guard_release(facts, signer=actor.id))
    exceptional = bool(facts.out_of_specification)
    content = disposition_content(
        session,
        batch,
        episode,
        decision=DispositionDecision.RELEASE,
        exceptional=exceptional,
        reason=data.reason,
    )
    disposition_id = uuid.uuid4()
    signature = sign(
        session,
        actor=actor,
        password=data.password,
        meaning=RELEASED_FOR_INFUSION,
        record_type=DISPOSITION_RECORD,
        record_id=disposition_id,
        record_content=content,
    )
    request = exceptional_request(session, batch.id)
    disposition = BatchDisposition(
        id=disposition_id,
        batch_id=batch.id,
        effective_for_batch_id=None if exceptional else batch.id,
        decision=DispositionDecision.RELEASE,
        status=(
            DispositionStatus.AWAITING_SECOND_SIGNATURE
            if exceptional
            else DispositionStatus.EFFECTIVE
        ),
        exceptional=exceptional,
        exceptional_request_id=request.id if exceptional and request else None,
        reason=data.reason,
        specification_id=batch.specification_id,
        signed_content=content,
        signer_id=actor.id,
        signed_at=signature.signed_at,
        signature_id=signature.id,
    )
    session.add(disposition)
    session.flush()
    audit(session, actor, DISPOSITION_RECORD, disposition.id, "create", after=snapshot(disposition))
    if exceptional:
        _close(session, actor, batch, BatchState.AWAITING_SECOND_SIGNATURE, now)
    else:
        _close(session, actor, batch, BatchState.RELEASED, now)
        move_episode(session, actor, episode, "release", data.reason or "released", now)
    return disposition


def approve_exceptional_release(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: Sign,
    now: dt.datetime | None = None,
) -> BatchDisposition:
    """The second signature, by a different qualified person, that makes an exceptional release
    effective; it signs the same content as the first."""
    now = now or utcnow()
    batch, episode = _lock(session, actor, batch_id)
    facts = disposition_facts(session, batch)
    refuse(workflow.guard_second_signature(facts, signer=actor.id))
    pending = pending_disposition(session, batch.id)
    assert pending is not None  # the batch state says so
    current = disposition_content(
        session,
        batch,
        episode,
        decision=pending.decision,
        exceptional=pending.exceptional,
        reason=pending.reason,
    )
    if current != pending.signed_content:
        raise ManufacturingRefused(
            _("REL-010: the records changed since the first signature; reject and start again"),
            code="REL-010",
        )
    signature = sign(
        session,
        actor=actor,
        password=data.password,
        meaning=EXCEPTIONAL_RELEASE_APPROVED,
        record_type=DISPOSITION_RECORD,
        record_id=pending.id,
        record_content=pending.signed_content,
    )
    before = snapshot(pending)
    pending.second_signer_id = actor.id
    pending.second_signed_at = signature.signed_at
    pending.second_signature_id = signature.id
    pending.status = DispositionStatus.EFFECTIVE
    pending.effective_for_batch_id = batch.id
    session.flush()
    audit_change(
        session,
        actor,
        DISPOSITION_RECORD,
        pending.id,
        "second_signature",
        before=before,
        after=snapshot(pending),
        reason=data.reason,
    )
    _close(session, actor, batch, BatchState.RELEASED, now)
    reason = "exceptional release of an out-of-specification product at the physician's request"
    move_episode(session, actor, episode, "release", reason, now)
    return pending


def reject(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: Reject,
    now: dt.datetime | None = None,
) -> BatchDisposition:
    now = now or utcnow()
    batch, episode = _lock(session, actor, batch_id)
    refuse(workflow.guard_reject(disposition_facts(session, batch), signer=actor.id))
    content = disposition_content(
        session,
        batch,
        episode,
        decision=DispositionDecision.REJECT,
        exceptional=False,
        reason=data.reason,
    )
    disposition_id = uuid.uuid4()
    signature = sign(
        session,
        actor=actor,
        password=data.password,
        meaning=REJECTED,
        record_type=DISPOSITION_RECORD,
        record_id=disposition_id,
        record_content=content,
    )
    pending = pending_disposition(session, batch.id)
    if pending is not None:
        before = snapshot(pending)
        pending.status = DispositionStatus.CANCELLED
        pending.cancelled_at = now
        session.flush()
        audit_change(
            session,
            actor,
            DISPOSITION_RECORD,
            pending.id,
            "cancel",
            before=before,
            after=snapshot(pending),
            reason=data.reason,
        )
    disposition = BatchDisposition(
        id=disposition_id,
        batch_id=batch.id,
        effective_for_batch_id=batch.id,
        decision=DispositionDecision.REJECT,
        status=DispositionStatus.EFFECTIVE,
        exceptional=False,
        reason=data.reason,
        specification_id=batch.specification_id,
        signed_content=content,
        signer_id=actor.id,
        signed_at=signature.signed_at,
        signature_id=signature.id,
    )
    session.add(disposition)
    session.flush()
    audit(
        session,
        actor,
        DISPOSITION_RECORD,
        disposition.id,
        "create",
        after=snapshot(disposition),
        reason=data.reason,
    )
    _close(session, actor, batch, BatchState.REJECTED, now)
    if data.remanufacture:
        move_episode(session, actor, episode, "remanufacture", data.reason, now)
    return disposition


def request_exceptional_release(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: ExceptionalReleaseRequestIn,
    now: dt.datetime | None = None,
) -> ExceptionalReleaseRequest:
    """The treating physician asks, in writing and signed, for an out-of-specification product to
    be released for their patient."""
    now = now or utcnow()
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(actor, episode, Role.CLINICIAN, action=_("an exceptional release request"))
    facts = disposition_facts(session, batch)
    refuse(workflow.guard_exceptional_request(facts))
    failing = [
        line
        for line in result_lines(session, batch_results(session, batch.id))
        if not line["within_spec"]
    ]
    request_id = uuid.uuid4()
    content: dict[str, Any] = to_jsonable(
        {
            "record": "exceptional release request",
            "batch_id": str(batch.id),
            "din": batch.din,
            "chain_of_identity": episode.chain_of_identity,
            "out_of_specification": [
                {k: line[k] for k in ("test", "attempt", "value", "unit", "failed_limit")}
                for line in failing
            ],
            "justification": data.justification,
        }
    )
    signature = sign(
        session,
        actor=actor,
        password=data.password,
        meaning=EXCEPTIONAL_RELEASE_REQUESTED,
        record_type=REQUEST_RECORD,
        record_id=request_id,
        record_content=content,
    )
    request = ExceptionalReleaseRequest(
        id=request_id,
        batch_id=batch.id,
        physician_id=actor.id,
        physician_printed_name=actor.user.full_name,
        requested_at=now,
        justification=data.justification,
        signed_content=content,
        signature_id=signature.id,
    )
    session.add(request)
    session.flush()
    audit(session, actor, REQUEST_RECORD, request.id, "create", after=snapshot(request))
    return request
