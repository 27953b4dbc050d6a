"""Signing and verifying electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.200).

Signing needs the signer's password again at that moment (two components: the logged-in identity
and the password). The signature stores the printed name, UTC time and meaning, and the SHA-256 of
the signed record's canonical content; `signature_sha256` covers all of those plus the record's
type and id, so a signature replayed on another record, or on a changed record, fails
verification. A wrong password writes nothing (the error rolls the transaction back).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import canonical_json
from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.passwords import verify_password
from cartflow.db.base import utcnow
from cartflow.errors import Forbidden, InvalidInput
from cartflow.i18n import _
from cartflow.models import ElectronicSignature

# The meanings used across the platform; a signature's meaning is shown wherever it is.
QC_VERIFIED = "QC verified"
RELEASED_FOR_INFUSION = "Released for infusion"
REJECTED = "Rejected"
EXCEPTIONAL_RELEASE_APPROVED = "Exceptional release approved"
IDENTITY_VERIFIED_AT_BEDSIDE = "Identity verified at bedside"
RECEIVED_AND_VERIFIED = "Received and verified"


class SignatureRefused(Forbidden):
    code = "SIGNATURE-REFUSED"


def record_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _signature_sha256(signature: ElectronicSignature) -> str:
    payload = {
        "signer_id": signature.signer_id,
        "signer_printed_name": signature.signer_printed_name,
        "meaning": signature.meaning,
        "signed_at": signature.signed_at,
        "record_type": signature.record_type,
        "record_id": signature.record_id,
        "record_sha256": signature.record_sha256,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def sign(
    session: Session,
    *,
    actor: Actor,
    password: str,
    meaning: str,
    record_type: str,
    record_id: uuid.UUID | str,
    record_content: dict[str, Any],
) -> ElectronicSignature:
    """Sign the record's current content; refuses (writing nothing) when the password is wrong."""
    if not meaning.strip():
        raise InvalidInput(_("a signature needs its meaning"), field="meaning")
    if not verify_password(actor.user.password_hash, password):
        raise SignatureRefused(
            _("the password does not match: nothing was signed"), field="password"
        )
    signature = ElectronicSignature(
        signer_id=actor.user.id,
        signer_username=actor.user.username,
        signer_printed_name=actor.user.full_name,
        meaning=meaning,
        signed_at=utcnow(),
        record_type=record_type,
        record_id=str(record_id),
        record_sha256=record_sha256(record_content),
    )
    signature.signature_sha256 = _signature_sha256(signature)
    session.add(signature)
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type=record_type,
        record_id=record_id,
        action="sign",
        after={
            "signature_id": signature.id,
            "meaning": meaning,
            "signer_printed_name": signature.signer_printed_name,
            "record_sha256": signature.record_sha256,
        },
    )
    return signature


def verify_signature(
    signature: ElectronicSignature,
    *,
    record_type: str,
    record_id: uuid.UUID | str,
    record_content: dict[str, Any],
) -> bool:
    """True only for this record, in exactly the content that was signed."""
    return (
        signature.record_type == record_type
        and signature.record_id == str(record_id)
        and signature.record_sha256 == record_sha256(record_content)
        and signature.signature_sha256 == _signature_sha256(signature)
    )


def signatures_for(
    session: Session, *, record_type: str, record_id: uuid.UUID | str
) -> list[ElectronicSignature]:
    return list(
        session.execute(
            select(ElectronicSignature)
            .where(
                ElectronicSignature.record_type == record_type,
                ElectronicSignature.record_id == str(record_id),
            )
            .order_by(ElectronicSignature.signed_at)
        ).scalars()
    )
