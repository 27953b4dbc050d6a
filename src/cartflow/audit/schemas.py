"""API shapes for record histories and the audit-chain verification."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="position in the hash chain")
    occurred_at: dt.datetime
    actor_id: uuid.UUID | None
    actor_username: str
    actor_roles: list[str] = Field(description="the actor's roles at that moment, with scope")
    action: str
    reason: str
    before: dict[str, Any] | None = Field(description="changed fields, previous values")
    after: dict[str, Any] | None = Field(description="changed fields, new values")
    hash: str


class RecordVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    reason: str
    created_at: dt.datetime
    created_by_username: str
    content: dict[str, Any]
    content_sha256: str


class SignatureOut(BaseModel):
    id: uuid.UUID
    signer_username: str
    signer_printed_name: str
    meaning: str
    signed_at: dt.datetime
    record_sha256: str = Field(description="SHA-256 of the exact content that was signed")
    valid: bool | None = Field(
        description="whether the signature verifies against the record as it is now; "
        "null when this record type cannot re-derive the signed content"
    )
    signed_version: int | None = Field(
        description="the record version whose content was signed, when the record has versions"
    )


class RecordHistoryOut(BaseModel):
    record_type: str
    record_id: str
    events: list[AuditEventOut]
    versions: list[RecordVersionOut]
    signatures: list[SignatureOut]


class ChainVerificationOut(BaseModel):
    ok: bool
    verified: int = Field(description="events verified (before the first broken one, if any)")
    first_broken_id: int | None
    problem: str | None
