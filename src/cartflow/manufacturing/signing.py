"""What a disposition rests on and what its signatures cover: the batch's exceptional release
request and dispositions, the facts the disposition guards judge, and `disposition_content`, the
decision with every current result, its limit, enterer and verifier (21 CFR 11.70: a result changed
after signing no longer matches the signature)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import to_jsonable
from cartflow.manufacturing import workflow
from cartflow.manufacturing.records import (
    batch_results,
    result_facts,
    specification_of,
    superseded_ids,
)
from cartflow.manufacturing.specs import parse_criteria
from cartflow.models import Episode, User
from cartflow.models.manufacturing import Batch
from cartflow.models.manufacturing_qc import (
    BatchDisposition,
    DispositionDecision,
    DispositionStatus,
    ExceptionalReleaseRequest,
    QcResult,
)

DISPOSITION_RECORD = "batch_disposition"
REQUEST_RECORD = "exceptional_release_request"


def exceptional_request(session: Session, batch_id: uuid.UUID) -> ExceptionalReleaseRequest | None:
    return session.execute(
        select(ExceptionalReleaseRequest).where(ExceptionalReleaseRequest.batch_id == batch_id)
    ).scalar_one_or_none()


def pending_disposition(session: Session, batch_id: uuid.UUID) -> BatchDisposition | None:
    return session.execute(
        select(BatchDisposition).where(
            BatchDisposition.batch_id == batch_id,
            BatchDisposition.status == DispositionStatus.AWAITING_SECOND_SIGNATURE,
        )
    ).scalar_one_or_none()


def dispositions(session: Session, batch_id: uuid.UUID) -> list[BatchDisposition]:
    return list(
        session.execute(
            select(BatchDisposition)
            .where(BatchDisposition.batch_id == batch_id)
            .order_by(BatchDisposition.signed_at)
        ).scalars()
    )


def disposition_facts(session: Session, batch: Batch) -> workflow.DispositionFacts:
    spec = specification_of(session, batch)
    request = exceptional_request(session, batch.id)
    pending = pending_disposition(session, batch.id)
    return workflow.DispositionFacts(
        state=batch.state,
        required_tests=parse_criteria(spec.criteria).required_tests if spec else (),
        results=result_facts(batch_results(session, batch.id)),
        has_exceptional_request=request is not None,
        requested_by=request.physician_id if request else None,
        first_signer=pending.signer_id if pending else None,
    )


def _usernames(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(User.id, User.username).where(User.id.in_(ids))).all()
    return {row.id: row.username for row in rows}


def result_lines(session: Session, results: list[QcResult]) -> list[dict[str, Any]]:
    gone = superseded_ids(results)
    current = [r for r in results if r.id not in gone]
    people = {r.entered_by_id for r in current} | {
        r.verified_by_id for r in current if r.verified_by_id is not None
    }
    names = _usernames(session, people)
    return [
        {
            "test": r.test,
            "attempt": r.attempt,
            "value": r.value_number if r.value_number is not None else r.value_text,
            "unit": r.unit,
            "within_spec": r.within_spec,
            "failed_limit": r.failed_limit,
            "entered_by": names[r.entered_by_id],
            "verified_by": names.get(r.verified_by_id) if r.verified_by_id else None,
            "verified_at": r.verified_at,
        }
        for r in current
    ]


def disposition_content(
    session: Session,
    batch: Batch,
    episode: Episode,
    *,
    decision: DispositionDecision,
    exceptional: bool,
    reason: str,
) -> dict[str, Any]:
    """What a disposition signature covers, as canonical-JSON-ready data."""
    spec = specification_of(session, batch)
    request = exceptional_request(session, batch.id)
    content: dict[str, Any] = to_jsonable(
        {
            "record": "batch disposition",
            "batch_id": str(batch.id),
            "din": batch.din,
            "chain_of_identity": episode.chain_of_identity,
            "decision": decision.value,
            "exceptional": exceptional,
            "reason": reason,
            "specification_id": str(spec.id) if spec else None,
            "specification_version": spec.version if spec else None,
            "results": result_lines(session, batch_results(session, batch.id)),
            "exceptional_request_id": str(request.id) if request else None,
        }
    )
    return content
