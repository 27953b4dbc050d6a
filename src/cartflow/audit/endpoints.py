"""The audit trail over HTTP: a record's history (scoped like the record) and, for admins, the
verification of the whole hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from cartflow.audit.history import RecordHistory, read_history
from cartflow.audit.schemas import (
    AuditEventOut,
    ChainVerificationOut,
    RecordHistoryOut,
    RecordVersionOut,
    SignatureOut,
)
from cartflow.audit.service import verify_audit_trail
from cartflow.auth.dependencies import CurrentActor, require_role
from cartflow.db.session import DbSession
from cartflow.models import Role

router = APIRouter(tags=["audit"])


@router.get("/audit/verify", response_model=ChainVerificationOut)
def verify(session: DbSession, actor: CurrentActor) -> ChainVerificationOut:
    require_role(actor, Role.ADMIN)
    result = verify_audit_trail(session)
    return ChainVerificationOut(
        ok=result.ok,
        verified=result.verified,
        first_broken_id=result.first_broken_id,
        problem=result.problem,
    )


@router.get(
    "/audit/{record_type}/{record_id}",
    response_model=RecordHistoryOut,
    responses={404: {"description": "unknown record type or record, or outside your scope"}},
)
def record_history(
    record_type: Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z_]+$")],
    record_id: Annotated[str, Path(min_length=1, max_length=64)],
    session: DbSession,
    actor: CurrentActor,
) -> RecordHistoryOut:
    return history_out(
        read_history(session, actor=actor, record_type=record_type, record_id=record_id)
    )


def history_out(found: RecordHistory) -> RecordHistoryOut:
    return RecordHistoryOut(
        record_type=found.record_type,
        record_id=found.record_id,
        events=[AuditEventOut.model_validate(e) for e in found.events],
        versions=[RecordVersionOut.model_validate(v) for v in found.versions],
        signatures=[
            SignatureOut(
                id=v.signature.id,
                signer_username=v.signature.signer_username,
                signer_printed_name=v.signature.signer_printed_name,
                meaning=v.signature.meaning,
                signed_at=v.signature.signed_at,
                record_sha256=v.signature.record_sha256,
                valid=v.valid,
                signed_version=v.signed_version,
            )
            for v in found.signatures
        ],
    )
