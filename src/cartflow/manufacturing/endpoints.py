"""Manufacturing over HTTP: batches and their steps, QC results, disposition, the certificate of
analysis and the worklists. A thin layer over the services; every write answers with the batch
record as it now stands."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cartflow.auth.dependencies import CurrentActor
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.manufacturing import disposition, qc, service, steps, views, worklists
from cartflow.manufacturing.access import get_batch
from cartflow.manufacturing.schemas import (
    BatchOut,
    BatchStart,
    BatchSummary,
    CriteriaIn,
    ExceptionalReleaseRequestIn,
    QcResultIn,
    QcResultOut,
    QcTestOut,
    QcWorkItem,
    QpWorkItem,
    Reason,
    Reject,
    RetestIn,
    Sign,
    SpecificationCheckOut,
    StepCorrection,
    StepRecord,
    SubmitForQc,
    Terminate,
)
from cartflow.manufacturing.specs import TESTS, parse_criteria
from cartflow.models.manufacturing import BatchState
from cartflow.models.manufacturing_qc import QcResult
from cartflow.schemas_common import MAX_PAGE_SIZE, Page

router = APIRouter(tags=["manufacturing and QC release"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]  # beyond, databases overflow
REFUSALS: dict[int | str, dict[str, str]] = {
    403: {"description": "the user lacks the role at this batch's site or center"},
    404: {"description": "no such batch in the user's scope"},
    409: {"description": "a rule refused the step; `code` names it (see docs/manufacturing.md)"},
}


def _batch(session: DbSession, actor: CurrentActor, batch_id: uuid.UUID) -> BatchOut:
    return views.batch_out(session, get_batch(session, actor=actor, batch_id=batch_id))


@router.get("/batches", response_model=Page[BatchSummary])
def list_batches(
    session: DbSession,
    actor: CurrentActor,
    episode_id: uuid.UUID | None = None,
    state: BatchState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[BatchSummary]:
    items, total = views.list_batches(
        session, actor=actor, episode_id=episode_id, state=state, limit=limit, offset=offset
    )
    return Page[BatchSummary](items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/batches",
    response_model=BatchOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def start_batch(body: BatchStart, session: DbSession, actor: CurrentActor) -> BatchOut:
    """Receive the apheresis material and start a batch on a device (episode: in_manufacturing)."""
    batch = service.start_batch(session, actor=actor, data=body)
    return _batch(session, actor, batch.id)


@router.get("/batches/{batch_id}", response_model=BatchOut, responses=REFUSALS)
def get_batch_record(batch_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> BatchOut:
    return _batch(session, actor, batch_id)


@router.post("/batches/{batch_id}/steps", response_model=BatchOut, responses=REFUSALS)
def record_step(
    batch_id: uuid.UUID, body: StepRecord, session: DbSession, actor: CurrentActor
) -> BatchOut:
    steps.record_step(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.post("/batch-steps/{step_id}/corrections", response_model=BatchOut, responses=REFUSALS)
def correct_step(
    step_id: uuid.UUID, body: StepCorrection, session: DbSession, actor: CurrentActor
) -> BatchOut:
    row = steps.correct_step(session, actor=actor, step_id=step_id, data=body)
    return _batch(session, actor, row.batch_id)


@router.post("/batches/{batch_id}/terminate", response_model=BatchOut, responses=REFUSALS)
def terminate_batch(
    batch_id: uuid.UUID, body: Terminate, session: DbSession, actor: CurrentActor
) -> BatchOut:
    service.terminate_batch(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.post("/batches/{batch_id}/submit-for-qc", response_model=BatchOut, responses=REFUSALS)
def submit_for_qc(
    batch_id: uuid.UUID, body: SubmitForQc, session: DbSession, actor: CurrentActor
) -> BatchOut:
    """The cryopreserved product goes to release testing (episode to qc)."""
    service.submit_for_qc(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.post("/batches/{batch_id}/remanufacture", response_model=BatchOut, responses=REFUSALS)
def remanufacture(
    batch_id: uuid.UUID, body: Reason, session: DbSession, actor: CurrentActor
) -> BatchOut:
    """Send the episode of a rejected or terminated batch back for a new run."""
    service.remanufacture(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


def _result_out(session: DbSession, _actor: CurrentActor, result: QcResult) -> QcResultOut:
    return views.result_view(session, result)


@router.post(
    "/batches/{batch_id}/qc-results",
    response_model=QcResultOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def enter_result(
    batch_id: uuid.UUID, body: QcResultIn, session: DbSession, actor: CurrentActor
) -> QcResultOut:
    result = qc.enter_result(session, actor=actor, batch_id=batch_id, data=body)
    return _result_out(session, actor, result)


@router.post(
    "/qc-results/{result_id}/retest",
    response_model=QcResultOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def retest(
    result_id: uuid.UUID, body: RetestIn, session: DbSession, actor: CurrentActor
) -> QcResultOut:
    result = qc.retest(session, actor=actor, result_id=result_id, data=body)
    return _result_out(session, actor, result)


@router.post("/qc-results/{result_id}/verify", response_model=QcResultOut, responses=REFUSALS)
def verify_result(result_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> QcResultOut:
    """A second analyst verifies the result (never the one who entered it)."""
    result = qc.verify_result(session, actor=actor, result_id=result_id)
    return _result_out(session, actor, result)


@router.post(
    "/batches/{batch_id}/exceptional-release-request",
    response_model=BatchOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def request_exceptional_release(
    batch_id: uuid.UUID,
    body: ExceptionalReleaseRequestIn,
    session: DbSession,
    actor: CurrentActor,
) -> BatchOut:
    """The treating physician's signed, written request to release an out-of-specification
    product for their patient."""
    disposition.request_exceptional_release(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.post("/batches/{batch_id}/release", response_model=BatchOut, responses=REFUSALS)
def release(batch_id: uuid.UUID, body: Sign, session: DbSession, actor: CurrentActor) -> BatchOut:
    """The qualified person signs the release (the first of two signatures when the product is
    out of specification)."""
    disposition.release(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.post(
    "/batches/{batch_id}/exceptional-release/approve",
    response_model=BatchOut,
    responses=REFUSALS,
)
def approve_exceptional_release(
    batch_id: uuid.UUID, body: Sign, session: DbSession, actor: CurrentActor
) -> BatchOut:
    """The second signature, by a different qualified person, of an exceptional release."""
    disposition.approve_exceptional_release(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.post("/batches/{batch_id}/reject", response_model=BatchOut, responses=REFUSALS)
def reject(batch_id: uuid.UUID, body: Reject, session: DbSession, actor: CurrentActor) -> BatchOut:
    disposition.reject(session, actor=actor, batch_id=batch_id, data=body)
    return _batch(session, actor, batch_id)


@router.get(
    "/batches/{batch_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **REFUSALS},
)
def certificate(batch_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    pdf = views.certificate(session, actor=actor, batch_id=batch_id, now=utcnow())
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="coa-{batch_id}.pdf"'},
    )


@router.get("/worklists/qc", response_model=list[QcWorkItem], responses=REFUSALS)
def qc_worklist(session: DbSession, actor: CurrentActor) -> list[QcWorkItem]:
    return worklists.qc_worklist(session, actor=actor)


@router.get("/worklists/qualified-person", response_model=list[QpWorkItem], responses=REFUSALS)
def qp_worklist(session: DbSession, actor: CurrentActor) -> list[QpWorkItem]:
    return worklists.qp_worklist(session, actor=actor)


@router.get("/qc-tests", response_model=list[QcTestOut])
def qc_tests(_actor: CurrentActor) -> list[QcTestOut]:
    """The tests a release specification may name, with their units and possible values."""
    return [
        QcTestOut(
            name=t.name,
            title=str(t.title),
            kind=t.kind.value,
            unit=t.unit,
            lowest=t.lowest if t.outcomes == () else None,
            highest=t.highest if t.outcomes == () else None,
            outcomes=list(t.outcomes),
            typical_method=t.typical_method,
        )
        for t in TESTS.values()
    ]


@router.post("/specifications/check", response_model=SpecificationCheckOut)
def check_specification(body: CriteriaIn, _actor: CurrentActor) -> SpecificationCheckOut:
    """Validate release criteria before an admin adds them as a product's new version."""
    spec = parse_criteria(body.criteria)
    return SpecificationCheckOut(
        criteria=views.criteria_out(spec.criteria), required_tests=list(spec.required_tests)
    )
