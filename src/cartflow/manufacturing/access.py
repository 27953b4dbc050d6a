"""Who may read and act on a batch.

Site staff (planner, QC analyst, qualified person) see the batches made at their own site; the
treating center's clinicians and coordinators see the batches of their own patients (a physician
must see an out-of-specification result to ask for an exceptional release). Everyone else is told
"not found", so a batch id from another site or center reveals nothing. A role counts only where it
is held: a QC analyst of another site cannot verify this site's results.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import roles_on_episode
from cartflow.i18n import Message, _
from cartflow.identity.isbt128 import compact
from cartflow.manufacturing.errors import BatchNotFound
from cartflow.models import Episode, Role
from cartflow.models.manufacturing import Batch

SITE_READERS = (Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON)
CENTER_READERS = (Role.CLINICIAN, Role.COORDINATOR)


def can_read_batches(actor: Actor) -> bool:
    return bool(actor.site_ids(*SITE_READERS) or actor.center_ids(*CENTER_READERS))


def batch_scope(actor: Actor) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    sites = actor.site_ids(*SITE_READERS)
    if sites:
        conditions.append(Batch.site_id.in_(sites))
    centers = actor.center_ids(*CENTER_READERS)
    if centers:
        conditions.append(
            Batch.episode_id.in_(select(Episode.id).where(Episode.center_id.in_(centers)))
        )
    return or_(*conditions) if conditions else false()


def _require_reader(actor: Actor) -> None:
    if not can_read_batches(actor):
        raise RoleRequired(
            _(
                "batches are read by the site's planners, QC analysts and qualified persons, "
                "and by the treating center's clinicians and coordinators"
            )
        )


def get_batch(
    session: Session, *, actor: Actor, batch_id: uuid.UUID, for_update: bool = False
) -> Batch:
    """The batch if the actor may see it (404 otherwise); `for_update` locks its row (PostgreSQL)
    so two dispositions or two verifications of one batch are serialised."""
    _require_reader(actor)
    stmt = select(Batch).where(Batch.id == batch_id, batch_scope(actor))
    if for_update:
        stmt = stmt.with_for_update()
    batch = session.execute(stmt).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(_("no batch {batch}", batch=batch_id))
    return batch


def find_batch(session: Session, *, actor: Actor, reference: str) -> Batch:
    """A batch by its id or its DIN (`A9999 26 000123` or `A999926000123`)."""
    try:
        batch_id = uuid.UUID(reference)
    except ValueError:
        batch_id = None
    if batch_id is not None:
        return get_batch(session, actor=actor, batch_id=batch_id)
    _require_reader(actor)
    batch = session.execute(
        select(Batch).where(Batch.din == compact(reference).upper(), batch_scope(actor))
    ).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(_("no batch {batch}", batch=reference))
    return batch


def episode_of(session: Session, batch: Batch) -> Episode:
    episode = session.get(Episode, batch.episode_id)
    assert episode is not None  # foreign key
    return episode


def require_roles(actor: Actor, episode: Episode, *roles: Role, action: Message) -> None:
    """The actor holds one of `roles` at this episode's site or center (403 otherwise)."""
    if not roles_on_episode(actor, episode) & set(roles):
        names = ", ".join(r.value for r in roles)
        raise RoleRequired(
            _(
                "{action} needs one of the roles {roles} at this batch's site/center",
                action=action,
                roles=names,
            )
        )
