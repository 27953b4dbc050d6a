"""Reading the custody log: an episode's timeline, where its containers are now, what each
center, site or courier holds, and the deviations opened by refused scans.

Every read goes through the actor's episode scope: another center's containers, events and
deviations are not found, never forbidden.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import diff, record_event
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import episode_scope
from cartflow.db.base import utcnow
from cartflow.episodes.service import get_episode
from cartflow.i18n import _
from cartflow.logistics.containers import require_any_role
from cartflow.logistics.errors import DeviationClosed, DeviationNotFound, PlaceNotFound
from cartflow.logistics.workflow import CENTER_STAFF, kinds_at, next_step
from cartflow.models import Episode, ManufacturingSite, Role, TreatmentCenter
from cartflow.models.custody import (
    ContainerStatus,
    CustodyContainer,
    CustodyDeviation,
    CustodyEvent,
    DeviationStatus,
    HandoffStep,
)

SITE_STAFF = frozenset({Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON})
DEVIATION_CLOSERS = frozenset({Role.QUALIFIED_PERSON, Role.COORDINATOR})
LIVE = (ContainerStatus.IN_USE, ContainerStatus.QUARANTINED)


def timeline(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[tuple[CustodyEvent, CustodyContainer]]:
    """Every custody event of the episode's containers, oldest first."""
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    rows = session.execute(
        select(CustodyEvent, CustodyContainer)
        .join(CustodyContainer, CustodyContainer.id == CustodyEvent.container_id)
        .where(CustodyEvent.episode_id == episode.id)
        .order_by(CustodyEvent.occurred_at, CustodyContainer.din)
    ).all()
    return [(event, container) for event, container in rows]


def where_now(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> tuple[Episode, list[CustodyContainer]]:
    """The episode and each of its containers with its current custodian and status."""
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    containers = session.execute(
        select(CustodyContainer)
        .where(CustodyContainer.episode_id == episode.id)
        .order_by(CustodyContainer.kind, CustodyContainer.din)
    ).scalars()
    return episode, list(containers)


def holdings(
    session: Session,
    *,
    actor: Actor,
    center_code: str | None = None,
    site_code: str | None = None,
) -> list[CustodyContainer]:
    """Live containers in the custody of a center or a site (its staff only), or, with neither
    named, of the acting courier."""
    condition = None
    if center_code is not None:
        center = session.execute(
            select(TreatmentCenter).where(TreatmentCenter.code == center_code)
        ).scalar_one_or_none()
        if center is None or center.id not in actor.center_ids(*CENTER_STAFF):
            raise PlaceNotFound(_("no center {code!r} among yours", code=center_code))
        condition = CustodyContainer.custodian_center_id == center.id
    elif site_code is not None:
        site = session.execute(
            select(ManufacturingSite).where(ManufacturingSite.code == site_code)
        ).scalar_one_or_none()
        if site is None or site.id not in actor.site_ids(*SITE_STAFF):
            raise PlaceNotFound(_("no site {code!r} among yours", code=site_code))
        condition = CustodyContainer.custodian_site_id == site.id
    else:
        if not actor.has_role(Role.COURIER):
            raise RoleRequired(
                _("name a center or a site; only a courier holds containers in person")
            )
        condition = CustodyContainer.custodian_user_id == actor.id
    return list(
        session.execute(
            select(CustodyContainer)
            .join(Episode, Episode.id == CustodyContainer.episode_id)
            .where(condition, CustodyContainer.status.in_(LIVE), episode_scope(actor))
            .order_by(CustodyContainer.last_event_at, CustodyContainer.din)
        ).scalars()
    )


def step_done(session: Session, *, episode_id: uuid.UUID, step: HandoffStep) -> bool:
    """True when some container of the episode took `step` and none still in use is due at it.

    For other domains' guards, e.g. manufacturing may ask for `site_receipt` before starting a
    batch and clinical for `bedside` before recording an infusion. No scope check: the caller has
    already read the episode in the actor's scope.
    """
    taken = session.execute(
        select(CustodyEvent.id)
        .where(CustodyEvent.episode_id == episode_id, CustodyEvent.step == step)
        .limit(1)
    ).first()
    if taken is None:
        return False
    live = session.execute(
        select(CustodyContainer).where(
            CustodyContainer.episode_id == episode_id,
            CustodyContainer.kind.in_(kinds_at(step)),
            CustodyContainer.status.in_(LIVE),
        )
    ).scalars()
    return not any(next_step(c.kind, c.last_step) is step for c in live)


def list_deviations(
    session: Session,
    *,
    actor: Actor,
    status: DeviationStatus | None = None,
    episode_id: uuid.UUID | None = None,
) -> list[CustodyDeviation]:
    conditions = [episode_scope(actor)]
    if status is not None:
        conditions.append(CustodyDeviation.status == status)
    if episode_id is not None:
        conditions.append(CustodyDeviation.episode_id == episode_id)
    return list(
        session.execute(
            select(CustodyDeviation)
            .join(Episode, Episode.id == CustodyDeviation.episode_id)
            .where(*conditions)
            .order_by(CustodyDeviation.occurred_at.desc())
        ).scalars()
    )


def get_deviation(session: Session, *, actor: Actor, deviation_id: uuid.UUID) -> CustodyDeviation:
    deviation = session.execute(
        select(CustodyDeviation)
        .join(Episode, Episode.id == CustodyDeviation.episode_id)
        .where(CustodyDeviation.id == deviation_id, episode_scope(actor))
    ).scalar_one_or_none()
    if deviation is None:
        raise DeviationNotFound(_("no deviation {deviation_id}", deviation_id=deviation_id))
    return deviation


def close_deviation(
    session: Session,
    *,
    actor: Actor,
    deviation_id: uuid.UUID,
    note: str,
    now: dt.datetime | None = None,
) -> CustodyDeviation:
    """Record the investigation's outcome; the deviation itself stays as it was opened."""
    deviation = get_deviation(session, actor=actor, deviation_id=deviation_id)
    episode = get_episode(session, actor=actor, episode_id=deviation.episode_id)
    require_any_role(actor, episode, DEVIATION_CLOSERS, _("closing a custody deviation"))
    if deviation.status is DeviationStatus.CLOSED:
        raise DeviationClosed(_("the deviation is already closed"))
    before = snapshot(deviation)
    deviation.status = DeviationStatus.CLOSED
    deviation.closed_at = now or utcnow()
    deviation.closed_by_id = actor.id
    deviation.closure_note = note
    session.flush()
    old, new = diff(before, snapshot(deviation))
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="custody_deviation",
        record_id=deviation.id,
        action="close",
        before=old,
        after=new,
        reason=note,
    )
    return deviation
