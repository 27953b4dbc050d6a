"""Patient registration and correction at the treatment center.

Invariants: a patient belongs to exactly one center; only that center's coordinators register or
correct them; the MRN is unique within the center; every change is audited with its reason.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.corrections import correct_record
from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import can_read_patients, patient_scope
from cartflow.episodes.errors import PatientNotFound
from cartflow.episodes.schemas import PatientCreate, PatientUpdate
from cartflow.errors import Conflict, InvalidInput
from cartflow.i18n import _
from cartflow.models import Diagnosis, Patient, Role, TreatmentCenter

_PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the bedside


def _new_pseudonym(session: Session) -> str:
    while True:
        candidate = "P-" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(8))
        if (
            session.execute(select(Patient.id).where(Patient.pseudonym == candidate)).first()
            is None
        ):
            return candidate


def _audit_snapshot(patient: Patient) -> dict[str, object]:
    return snapshot(patient, exclude=frozenset({"created_at", "updated_at"}))


def register_patient(
    session: Session, *, actor: Actor, data: PatientCreate, is_synthetic: bool = False
) -> Patient:
    require_role(actor, Role.COORDINATOR)
    centers = actor.center_ids(Role.COORDINATOR)
    if data.center is not None:
        center_id = session.execute(
            select(TreatmentCenter.id).where(TreatmentCenter.code == data.center)
        ).scalar_one_or_none()
        if center_id is None or center_id not in centers:
            raise InvalidInput(
                _("you do not coordinate at a center with code {code!r}", code=data.center),
                field="center",
            )
    elif len(centers) == 1:
        (center_id,) = centers
    else:
        raise InvalidInput(_("you coordinate at several centers: name the center"), field="center")
    if session.execute(
        select(Patient.id).where(Patient.center_id == center_id, Patient.mrn == data.mrn)
    ).first():
        raise Conflict(
            _("a patient with MRN {mrn!r} is already registered at this center", mrn=data.mrn),
            code="PATIENT-MRN-EXISTS",
            field="mrn",
        )
    patient = Patient(
        pseudonym=_new_pseudonym(session),
        center_id=center_id,
        is_synthetic=is_synthetic,
        **data.model_dump(exclude={"center"}),
    )
    session.add(patient)
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="patient",
        record_id=patient.id,
        action="create",
        after=_audit_snapshot(patient),
    )
    return patient


def get_patient(session: Session, *, actor: Actor, patient_id: uuid.UUID) -> Patient:
    if not can_read_patients(actor):
        raise RoleRequired(_("reading patient records needs a clinical role at a treatment center"))
    patient = session.execute(
        select(Patient).where(Patient.id == patient_id, patient_scope(actor))
    ).scalar_one_or_none()
    if patient is None:
        raise PatientNotFound(_("no patient {patient_id}", patient_id=patient_id))
    return patient


def update_patient(
    session: Session, *, actor: Actor, patient_id: uuid.UUID, data: PatientUpdate
) -> Patient:
    patient = get_patient(session, actor=actor, patient_id=patient_id)
    if patient.center_id not in actor.center_ids(Role.COORDINATOR, Role.CLINICIAN):
        raise RoleRequired(_("correcting a patient record needs a coordinator or clinician"))
    # A correction: the previous values stay readable as a superseded version (audit.corrections).
    correct_record(
        session,
        actor=actor,
        record=patient,
        record_type="patient",
        changes=data.model_dump(exclude={"reason"}, exclude_none=True),
        reason=data.reason,
        content_of=_audit_snapshot,
    )
    return patient


@dataclass(frozen=True)
class PatientFilter:
    diagnosis: Diagnosis | None = None
    mrn: str | None = None
    center_id: uuid.UUID | None = None


def list_patients(
    session: Session, *, actor: Actor, filters: PatientFilter, limit: int, offset: int
) -> tuple[list[Patient], int]:
    if not can_read_patients(actor):
        raise RoleRequired(_("reading patient records needs a clinical role at a treatment center"))
    conditions = [patient_scope(actor)]
    if filters.diagnosis is not None:
        conditions.append(Patient.diagnosis == filters.diagnosis)
    if filters.mrn is not None:
        conditions.append(Patient.mrn == filters.mrn)
    if filters.center_id is not None:
        conditions.append(Patient.center_id == filters.center_id)
    total = session.execute(select(func.count(Patient.id)).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Patient)
        .where(*conditions)
        .order_by(Patient.created_at.desc(), Patient.id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), total
