"""Reading a record's history: its audit events, its versions and the signatures on it.

Invariant: a record's history is shown only to someone who may read the record itself, by the
record's own scoping rule (an episode's history to those who can read the episode, a patient's to
that patient's center, users and reference data to admins). Out of scope reads as not found, the
same as an unknown id. Each record type says how it is scoped in a `RecordKind`; the foundation's
types are registered here, and a domain registers its own with `register_record_kind` (usually
`episode_owned(...)` for records that belong to an episode).

A signature is shown with `valid`: True or False when the record type can re-derive the content
that was signed (`RecordKind.signed_content`), None when it cannot; and with the number of the
record version whose content it signed, when the record has versions (see `corrections`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cartflow.audit.corrections import default_content, versions
from cartflow.audit.errors import UnknownRecord, UnknownRecordType
from cartflow.audit.service import history
from cartflow.audit.signatures import signatures_for, verify_signature
from cartflow.auth.actor import Actor
from cartflow.auth.admin import require_network_admin
from cartflow.auth.dependencies import require_role
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.models import (
    AuditEvent,
    ElectronicSignature,
    ManufacturingSite,
    Patient,
    Product,
    ReleaseSpecification,
    Role,
    TreatmentCenter,
    User,
)
from cartflow.models.records import RecordVersion

# Checks that the actor may read the record: raises Forbidden or NotFound (returns anything).
Authorize = Callable[[Session, Actor, str], object]
# The content a signature on the record (by id) signed, re-derived from the record as it is now;
# None when it cannot be re-derived.
SignedContent = Callable[[Session, str, ElectronicSignature], dict[str, Any] | None]


@dataclass(frozen=True)
class RecordKind:
    authorize: Authorize
    signed_content: SignedContent | None = None
    uuid_ids: bool = True  # ids are UUIDs, compared in their canonical spelling


_KINDS: dict[str, RecordKind] = {}


def register_record_kind(record_type: str, kind: RecordKind) -> None:
    _KINDS[record_type] = kind


def record_kinds() -> tuple[str, ...]:
    return tuple(sorted(_KINDS))


def parse_uuid(record_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(record_id)
    except ValueError:
        raise InvalidInput(
            _("{record_id!r} is not a record id (UUID)", record_id=record_id), field="record_id"
        ) from None


def episode_owned(episode_of: Callable[[Session, str], uuid.UUID | None]) -> Authorize:
    """Scoping for a record that belongs to an episode: readable by whoever reads the episode."""

    def authorize(session: Session, actor: Actor, record_id: str) -> object:
        from cartflow.episodes.service import get_episode

        episode_id = episode_of(session, record_id)
        if episode_id is None:
            raise UnknownRecord(_("no record {record_id}", record_id=record_id))
        get_episode(session, actor=actor, episode_id=episode_id)
        return episode_id

    return authorize


def _episode(session: Session, actor: Actor, record_id: str) -> object:
    from cartflow.episodes.service import get_episode

    return get_episode(session, actor=actor, episode_id=parse_uuid(record_id))


def _patient(session: Session, actor: Actor, record_id: str) -> object:
    from cartflow.episodes.patients import get_patient

    return get_patient(session, actor=actor, patient_id=parse_uuid(record_id))


def _user(session: Session, actor: Actor, record_id: str) -> object:
    require_network_admin(actor)
    user = session.get(User, parse_uuid(record_id))
    if user is None:
        raise UnknownRecord(_("no user {user_id}", user_id=record_id))
    return user


def _reference(model: type[object]) -> Authorize:
    def authorize(session: Session, actor: Actor, record_id: str) -> object:
        require_role(actor, Role.ADMIN)
        record = session.get(model, parse_uuid(record_id))
        if record is None:
            raise UnknownRecord(_("no record {record_id}", record_id=record_id))
        return record

    return authorize


def _patient_content(
    session: Session, record_id: str, _signature: ElectronicSignature
) -> dict[str, Any] | None:
    patient = session.get(Patient, uuid.UUID(record_id))
    return default_content(patient) if patient is not None else None


register_record_kind("episode", RecordKind(_episode))
register_record_kind("patient", RecordKind(_patient, signed_content=_patient_content))
register_record_kind("user", RecordKind(_user))
register_record_kind("manufacturing_site", RecordKind(_reference(ManufacturingSite)))
register_record_kind("treatment_center", RecordKind(_reference(TreatmentCenter)))
register_record_kind("product", RecordKind(_reference(Product)))
register_record_kind("release_specification", RecordKind(_reference(ReleaseSpecification)))


@dataclass(frozen=True)
class SignatureView:
    signature: ElectronicSignature
    valid: bool | None
    signed_version: int | None


@dataclass(frozen=True)
class RecordHistory:
    record_type: str
    record_id: str
    events: list[AuditEvent]
    versions: list[RecordVersion]
    signatures: list[SignatureView]


def read_history(
    session: Session, *, actor: Actor, record_type: str, record_id: str
) -> RecordHistory:
    kind = _KINDS.get(record_type)
    if kind is None:
        known = ", ".join(record_kinds())
        raise UnknownRecordType(
            _(
                "no record type {record_type!r}; known: {known}",
                record_type=record_type,
                known=known,
            ),
            field="record_type",
        )
    if kind.uuid_ids:
        record_id = str(parse_uuid(record_id))
    kind.authorize(session, actor, record_id)
    record_versions = versions(session, record_type=record_type, record_id=record_id)
    version_of = {v.content_sha256: v.version for v in record_versions}
    views = []
    for signature in signatures_for(session, record_type=record_type, record_id=record_id):
        content = (
            kind.signed_content(session, record_id, signature) if kind.signed_content else None
        )
        valid = (
            None
            if content is None
            else verify_signature(
                signature, record_type=record_type, record_id=record_id, record_content=content
            )
        )
        views.append(SignatureView(signature, valid, version_of.get(signature.record_sha256)))
    return RecordHistory(
        record_type=record_type,
        record_id=record_id,
        events=history(session, record_type=record_type, record_id=record_id),
        versions=record_versions,
        signatures=views,
    )
