"""Reading batches: the full batch record (steps, results, request, dispositions with their
signatures checked against what they signed) and the list of batches in the actor's scope."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.signatures import verify_signature
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.i18n import _
from cartflow.manufacturing import workflow
from cartflow.manufacturing.access import batch_scope, can_read_batches, get_batch
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.manufacturing.records import (
    all_steps,
    batch_results,
    current_steps,
    specification_of,
    superseded_ids,
)
from cartflow.manufacturing.schemas import (
    BatchOut,
    BatchSummary,
    CriterionOut,
    DispositionOut,
    ExceptionalReleaseRequestOut,
    Person,
    QcResultOut,
    SignatureOut,
    StepOut,
)
from cartflow.manufacturing.signing import (
    DISPOSITION_RECORD,
    REQUEST_RECORD,
    dispositions,
    exceptional_request,
)
from cartflow.manufacturing.specs import TESTS, Criterion, limit_text, parse_criteria
from cartflow.models import (
    Device,
    ElectronicSignature,
    Episode,
    ManufacturingSite,
    Product,
    ReleaseSpecification,
    User,
)
from cartflow.models.manufacturing import Batch, BatchState, BatchStep
from cartflow.models.manufacturing_qc import BatchDisposition, QcResult


class People:
    """Printed names of the users a record mentions, read in one query."""

    def __init__(self, session: Session, ids: set[uuid.UUID]) -> None:
        rows = session.execute(
            select(User.id, User.username, User.full_name).where(User.id.in_(ids))
        ).all()
        self._by_id = {r.id: Person(username=r.username, printed_name=r.full_name) for r in rows}

    def __getitem__(self, user_id: uuid.UUID) -> Person:
        return self._by_id[user_id]


def criteria_out(criteria: dict[str, Criterion]) -> list[CriterionOut]:
    return [
        CriterionOut(
            test=name,
            title=str(TESTS[name].title),
            limit=limit_text(name, c),
            unit=TESTS[name].unit,
            required=c.required,
            description=c.description,
        )
        for name, c in criteria.items()
    ]


def result_out(
    result: QcResult, *, current: bool, people: People, limits: dict[str, str]
) -> QcResultOut:
    value: float | str = (
        result.value_number if result.value_number is not None else result.value_text or ""
    )
    return QcResultOut(
        id=result.id,
        batch_id=result.batch_id,
        test=result.test,
        title=str(TESTS[result.test].title) if result.test in TESTS else result.test,
        attempt=result.attempt,
        current=current,
        supersedes_id=result.supersedes_id,
        retest_reason=result.retest_reason,
        value=value,
        unit=result.unit,
        method=result.method,
        comment=result.comment,
        limit=limits.get(result.test, ""),
        within_spec=result.within_spec,
        failed_limit=result.failed_limit,
        compared_value=result.compared_value,
        entered_by=people[result.entered_by_id],
        entered_at=result.entered_at,
        verified_by=people[result.verified_by_id] if result.verified_by_id else None,
        verified_at=result.verified_at,
    )


def signature_out(
    signature: ElectronicSignature,
    *,
    record_type: str,
    record_id: uuid.UUID,
    content: dict[str, Any],
) -> SignatureOut:
    return SignatureOut(
        signer=Person(
            username=signature.signer_username, printed_name=signature.signer_printed_name
        ),
        meaning=signature.meaning,
        signed_at=signature.signed_at,
        valid=verify_signature(
            signature, record_type=record_type, record_id=record_id, record_content=content
        ),
    )


def _signatures(
    session: Session, ids: list[uuid.UUID | None]
) -> dict[uuid.UUID, ElectronicSignature]:
    wanted = [i for i in ids if i is not None]
    rows = session.execute(
        select(ElectronicSignature).where(ElectronicSignature.id.in_(wanted))
    ).scalars()
    return {s.id: s for s in rows}


def disposition_out(
    session: Session, disposition: BatchDisposition, spec_version: int
) -> DispositionOut:
    found = _signatures(session, [disposition.signature_id, disposition.second_signature_id])
    signed = [found[i] for i in (disposition.signature_id, disposition.second_signature_id) if i]
    return DispositionOut(
        id=disposition.id,
        decision=disposition.decision,
        status=disposition.status,
        exceptional=disposition.exceptional,
        reason=disposition.reason,
        specification_version=spec_version,
        signatures=[
            signature_out(
                s,
                record_type=DISPOSITION_RECORD,
                record_id=disposition.id,
                content=disposition.signed_content,
            )
            for s in signed
        ],
    )


@dataclass(frozen=True)
class BatchContext:
    episode: Episode
    product: Product
    site: ManufacturingSite
    device: Device
    spec: ReleaseSpecification | None


def _context(session: Session, batch: Batch) -> BatchContext:
    episode = session.get(Episode, batch.episode_id)
    product = session.get(Product, batch.product_id)
    site = session.get(ManufacturingSite, batch.site_id)
    device = session.get(Device, batch.device_id)
    assert episode and product and site and device  # foreign keys
    return BatchContext(episode, product, site, device, specification_of(session, batch))


def step_out(step: BatchStep, *, current: bool, people: People) -> StepOut:
    return StepOut(
        id=step.id,
        step=step.step,
        revision=step.revision,
        current=current,
        supersedes_id=step.supersedes_id,
        started_at=step.started_at,
        completed_at=step.completed_at,
        recorded_by=people[step.recorded_by_id],
        recorded_at=step.recorded_at,
        operators=[
            Person(username=o.username, printed_name=o.printed_name) for o in step.operators
        ],
        notes=step.notes,
        parameters=step.parameters,
        correction_reason=step.correction_reason,
    )


def batch_out(session: Session, batch: Batch) -> BatchOut:
    ctx = _context(session, batch)
    steps = all_steps(session, batch.id, with_operators=True)
    current_ids = {s.id for s in current_steps(session, batch.id)}
    results = batch_results(session, batch.id)
    gone = superseded_ids(results)
    request = exceptional_request(session, batch.id)
    decisions = dispositions(session, batch.id)
    ids = {batch.started_by_id} | {s.recorded_by_id for s in steps}
    ids |= {r.entered_by_id for r in results} | {
        r.verified_by_id for r in results if r.verified_by_id
    }
    if request is not None:
        ids.add(request.physician_id)
    people = People(session, ids)
    criteria = parse_criteria(ctx.spec.criteria).criteria if ctx.spec else {}
    limits = {name: limit_text(name, c) for name, c in criteria.items()}
    request_out = None
    if request is not None:
        signature = _signatures(session, [request.signature_id])[request.signature_id]
        request_out = ExceptionalReleaseRequestOut(
            id=request.id,
            physician=people[request.physician_id],
            requested_at=request.requested_at,
            justification=request.justification,
            signature=signature_out(
                signature,
                record_type=REQUEST_RECORD,
                record_id=request.id,
                content=request.signed_content,
            ),
        )
    recorded = [s.step for s in steps if s.id in current_ids]
    return BatchOut(
        **_summary(batch, ctx).model_dump(),
        site_code=ctx.site.code,
        remanufacture_of_id=batch.remanufacture_of_id,
        started_by=people[batch.started_by_id],
        next_step=workflow.next_step(recorded) if batch.state is BatchState.IN_PROCESS else None,
        cryopreserved_at=batch.cryopreserved_at,
        submitted_for_qc_at=batch.submitted_for_qc_at,
        closed_at=batch.closed_at,
        termination_reason=batch.termination_reason,
        specification_version=ctx.spec.version if ctx.spec else None,
        specification=criteria_out(criteria),
        patient_weight_kg=batch.patient_weight_kg,
        steps=[step_out(s, current=s.id in current_ids, people=people) for s in steps],
        results=[
            result_out(r, current=r.id not in gone, people=people, limits=limits) for r in results
        ],
        exceptional_request=request_out,
        dispositions=[
            disposition_out(session, d, ctx.spec.version if ctx.spec else 0) for d in decisions
        ],
        version=batch.version,
    )


def _summary(batch: Batch, ctx: BatchContext) -> BatchSummary:
    return BatchSummary(
        id=batch.id,
        din=batch.din,
        episode_id=batch.episode_id,
        chain_of_identity=ctx.episode.chain_of_identity,
        product_code=ctx.product.code,
        run_number=batch.run_number,
        device_code=ctx.device.code,
        state=batch.state,
        started_at=batch.started_at,
    )


def list_batches(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID | None,
    state: BatchState | None,
    limit: int,
    offset: int,
) -> tuple[list[BatchSummary], int]:
    if not can_read_batches(actor):
        raise RoleRequired(_("reading batches needs a role at a manufacturing site or center"))
    conditions = [batch_scope(actor)]
    if episode_id is not None:
        conditions.append(Batch.episode_id == episode_id)
    if state is not None:
        conditions.append(Batch.state == state)
    total = session.execute(select(func.count(Batch.id)).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Batch)
        .where(*conditions)
        .order_by(Batch.started_at.desc(), Batch.id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return [_summary(b, _context(session, b)) for b in rows], total


def certificate(session: Session, *, actor: Actor, batch_id: uuid.UUID, now: dt.datetime) -> bytes:
    """The certificate of analysis PDF of a batch that has been tested (a draft until its
    disposition)."""
    from cartflow.manufacturing.coa import CertificateHeader, render_certificate

    batch = get_batch(session, actor=actor, batch_id=batch_id)
    if batch.submitted_for_qc_at is None:
        raise ManufacturingRefused(
            _("COA-001: the batch has not been submitted for QC; there is nothing to certify"),
            code="COA-001",
        )
    ctx = _context(session, batch)
    header = CertificateHeader(
        product_name=ctx.product.name,
        product_code=ctx.product.code,
        site_name=ctx.site.name,
        specification_source=ctx.spec.source if ctx.spec else "",
        generated_at=now,
    )
    return render_certificate(batch_out(session, batch), header)


def result_view(session: Session, result: QcResult) -> QcResultOut:
    """One result as the API shows it, without reading the whole batch record."""
    batch = session.get(Batch, result.batch_id)
    assert batch is not None  # foreign key
    spec = specification_of(session, batch)
    criteria = parse_criteria(spec.criteria).criteria if spec else {}
    superseded = session.execute(
        select(func.count(QcResult.id)).where(QcResult.supersedes_id == result.id)
    ).scalar_one()
    people = People(
        session,
        {result.entered_by_id} | ({result.verified_by_id} if result.verified_by_id else set()),
    )
    limits = {name: limit_text(name, c) for name, c in criteria.items()}
    return result_out(result, current=superseded == 0, people=people, limits=limits)
