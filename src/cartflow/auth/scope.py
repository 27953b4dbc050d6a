"""Row-level scoping: SQL conditions that restrict every patient and episode query to what the
acting user may see. Out-of-scope records are reported as not found, never as forbidden, so that
an id from another center reveals nothing."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from cartflow.auth.actor import Actor
from cartflow.models import Episode, Patient, Role

# Roles that read identifiable patient records, at their own center only.
PATIENT_READERS = (Role.COORDINATOR, Role.APHERESIS_NURSE, Role.CLINICIAN, Role.REGISTRY_ANALYST)
# Roles that read episodes (pseudonymous) at their center, their site, or network-wide.
EPISODE_CENTER_READERS = (*PATIENT_READERS, Role.COURIER)
EPISODE_SITE_READERS = (Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON, Role.COURIER)
EPISODE_NETWORK_READERS = (Role.COURIER, Role.REGISTRY_ANALYST)


def can_read_patients(actor: Actor) -> bool:
    return bool(actor.center_ids(*PATIENT_READERS))


def patient_scope(actor: Actor) -> ColumnElement[bool]:
    centers = actor.center_ids(*PATIENT_READERS)
    return Patient.center_id.in_(centers) if centers else false()


def can_read_episodes(actor: Actor) -> bool:
    return bool(
        actor.center_ids(*EPISODE_CENTER_READERS)
        or actor.site_ids(*EPISODE_SITE_READERS)
        or any(actor.is_network(r) for r in EPISODE_NETWORK_READERS)
    )


def episode_scope(actor: Actor) -> ColumnElement[bool]:
    if any(actor.is_network(r) for r in EPISODE_NETWORK_READERS):
        return true()
    conditions: list[ColumnElement[bool]] = []
    centers = actor.center_ids(*EPISODE_CENTER_READERS)
    if centers:
        conditions.append(Episode.center_id.in_(centers))
    sites = actor.site_ids(*EPISODE_SITE_READERS)
    if sites:
        conditions.append(Episode.manufacturing_site_id.in_(sites))
    return or_(*conditions) if conditions else false()


def roles_on_episode(actor: Actor, episode: Episode) -> frozenset[Role]:
    """The roles the actor holds *for this episode*: at its center, at its site, or network-wide."""
    held: set[Role] = set()
    for a in actor.user.roles:
        if (
            (a.center_id is not None and a.center_id == episode.center_id)
            or (a.site_id is not None and a.site_id == episode.manufacturing_site_id)
            or (a.center_id is None and a.site_id is None and a.role is not Role.ADMIN)
        ):
            held.add(a.role)
    return frozenset(held)
