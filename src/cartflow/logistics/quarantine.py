"""Quarantine after a cold-chain excursion, and the qualified person's signed decision.

Invariants: an excursion found in a shipment (temperature, transit time, time since collection)
puts every container that travelled in it and is still in use into quarantine, and a quarantined
container cannot be handed on (the scan is a hard stop). Only a qualified person of the
episode's manufacturing site closes a quarantine, with an electronic signature over the
quarantine record (21 CFR 11.50: printed name, time, meaning): *released from quarantine* puts
the containers back in use, *rejected* discards them. A shipment has at most one open quarantine
(partial unique index); new findings while one is open are added to its containers, not reopened.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import AuditActor, diff, record_event
from cartflow.audit.signatures import REJECTED, sign
from cartflow.auth.actor import Actor
from cartflow.auth.scope import episode_scope
from cartflow.db.base import utcnow
from cartflow.episodes.service import get_episode
from cartflow.i18n import _
from cartflow.logistics.containers import require_any_role, set_container_status
from cartflow.logistics.errors import QuarantineDecided, QuarantineNotFound
from cartflow.logistics.temperature import Finding
from cartflow.models import Episode, Role
from cartflow.models.custody import ContainerStatus, CustodyContainer, CustodyEvent
from cartflow.models.logistics_shipment import (
    Quarantine,
    QuarantinedContainer,
    QuarantineStatus,
    Shipment,
)

RELEASED_FROM_QUARANTINE: Final = "Released from quarantine"
"""Signature meaning of a qualified person's release of quarantined material."""


def shipment_containers(session: Session, shipment: Shipment) -> list[CustodyContainer]:
    """The containers that travelled in a shipment (recorded on their hand-off scans)."""
    ids = select(CustodyEvent.container_id).where(CustodyEvent.shipment_id == shipment.id)
    return list(
        session.execute(
            select(CustodyContainer)
            .where(CustodyContainer.id.in_(ids))
            .order_by(CustodyContainer.din)
            .with_for_update()
        ).scalars()
    )


def quarantine_shipment(
    session: Session,
    *,
    actor: AuditActor,
    shipment: Shipment,
    findings: Sequence[Finding],
    now: dt.datetime,
) -> Quarantine:
    """Hold the shipment's containers in use; reuse the shipment's open quarantine if any."""
    quarantine = session.execute(
        select(Quarantine)
        .where(Quarantine.shipment_id == shipment.id, Quarantine.status == QuarantineStatus.OPEN)
        .with_for_update()
    ).scalar_one_or_none()
    reason = "; ".join(f.as_dict()["message"] for f in findings)
    if quarantine is None:
        quarantine = Quarantine(
            episode_id=shipment.episode_id,
            shipment_id=shipment.id,
            reason=reason,
            findings=[f.as_dict() for f in findings],
            opened_at=now,
            status=QuarantineStatus.OPEN,
        )
        session.add(quarantine)
        session.flush()
        action = "open"
    else:
        quarantine.findings = [*quarantine.findings, *(f.as_dict() for f in findings)]
        action = "add_findings"
    record_event(
        session,
        actor=actor,
        record_type="quarantine",
        record_id=quarantine.id,
        action=action,
        after={"findings": [f.as_dict() for f in findings], "shipment_id": shipment.id},
        reason=reason,
        occurred_at=now,
    )
    held = set(
        session.execute(
            select(QuarantinedContainer.container_id).where(
                QuarantinedContainer.quarantine_id == quarantine.id
            )
        ).scalars()
    )
    for container in shipment_containers(session, shipment):
        if container.status is not ContainerStatus.IN_USE or container.id in held:
            continue
        session.add(QuarantinedContainer(quarantine_id=quarantine.id, container_id=container.id))
        set_container_status(
            session,
            actor=actor,
            container=container,
            status=ContainerStatus.QUARANTINED,
            reason=f"quarantine {quarantine.id}: {reason}",
            action="quarantine",
        )
    session.flush()
    return quarantine


def get_quarantine(session: Session, *, actor: Actor, quarantine_id: uuid.UUID) -> Quarantine:
    quarantine = session.execute(
        select(Quarantine)
        .join(Episode, Episode.id == Quarantine.episode_id)
        .where(Quarantine.id == quarantine_id, episode_scope(actor))
    ).scalar_one_or_none()
    if quarantine is None:
        raise QuarantineNotFound(_("no quarantine {quarantine_id}", quarantine_id=quarantine_id))
    return quarantine


def list_quarantines(
    session: Session, *, actor: Actor, status: QuarantineStatus | None = None
) -> list[Quarantine]:
    conditions = [episode_scope(actor)]
    if status is not None:
        conditions.append(Quarantine.status == status)
    return list(
        session.execute(
            select(Quarantine)
            .join(Episode, Episode.id == Quarantine.episode_id)
            .where(*conditions)
            .order_by(Quarantine.opened_at.desc())
        ).scalars()
    )


def quarantined_container_ids(session: Session, quarantine: Quarantine) -> list[uuid.UUID]:
    return list(
        session.execute(
            select(QuarantinedContainer.container_id).where(
                QuarantinedContainer.quarantine_id == quarantine.id
            )
        ).scalars()
    )


def signed_content(quarantine: Quarantine, container_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """Exactly what the qualified person signs: the quarantine, its findings, its containers."""
    data = snapshot(quarantine, exclude=frozenset({"signature_id"}))
    data["container_ids"] = sorted(str(i) for i in container_ids)
    return data


def decide_quarantine(
    session: Session,
    *,
    actor: Actor,
    quarantine_id: uuid.UUID,
    decision: Literal["release", "reject"],
    reason: str,
    password: str,
    now: dt.datetime | None = None,
) -> Quarantine:
    """The qualified person releases the material from quarantine or rejects it, signing."""
    quarantine = get_quarantine(session, actor=actor, quarantine_id=quarantine_id)
    episode = get_episode(session, actor=actor, episode_id=quarantine.episode_id)
    require_any_role(
        actor, episode, frozenset({Role.QUALIFIED_PERSON}), _("deciding on quarantined material")
    )
    session.refresh(quarantine, with_for_update=True)
    if quarantine.status is not QuarantineStatus.OPEN:
        raise QuarantineDecided(
            _("the quarantine was already {status}", status=quarantine.status.value)
        )
    before = snapshot(quarantine)
    quarantine.status = (
        QuarantineStatus.RELEASED if decision == "release" else QuarantineStatus.REJECTED
    )
    quarantine.decided_at = now or utcnow()
    quarantine.decided_by_id = actor.id
    quarantine.decision_reason = reason
    session.flush()
    container_ids = quarantined_container_ids(session, quarantine)
    signature = sign(
        session,
        actor=actor,
        password=password,
        meaning=RELEASED_FROM_QUARANTINE if decision == "release" else REJECTED,
        record_type="quarantine",
        record_id=quarantine.id,
        record_content=signed_content(quarantine, container_ids),
    )
    quarantine.signature_id = signature.id
    session.flush()
    old, new = diff(before, snapshot(quarantine))
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="quarantine",
        record_id=quarantine.id,
        action=decision,
        before=old,
        after=new,
        reason=reason,
    )
    containers = session.execute(
        select(CustodyContainer)
        .where(CustodyContainer.id.in_(container_ids))
        .order_by(CustodyContainer.din)
        .with_for_update()
    ).scalars()
    for container in containers:
        if container.status is not ContainerStatus.QUARANTINED:
            continue
        set_container_status(
            session,
            actor=actor.as_audit_actor(),
            container=container,
            status=ContainerStatus.IN_USE if decision == "release" else ContainerStatus.DISCARDED,
            reason=f"{quarantine.status.value} by the qualified person: {reason}",
            action="release_quarantine" if decision == "release" else "reject",
        )
    return quarantine
