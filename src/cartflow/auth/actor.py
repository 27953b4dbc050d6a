"""The acting user with the scopes of their roles: the single place that decides who sees what.

A coordinator, nurse or clinician sees the patients and episodes of their own center; a planner, QC
analyst or qualified person sees the episodes made at their own site (never patient identity); a
network-wide courier sees every episode's chain of identity; a network-wide admin manages reference
data and users but reads no patient data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cartflow.audit.service import AuditActor
from cartflow.models import Role, User
from cartflow.models.user import CENTER_ROLES, SITE_ROLES


@dataclass(frozen=True)
class Actor:
    user: User

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(a.role for a in self.user.roles)

    def has_role(self, *roles: Role) -> bool:
        return any(a.role in roles for a in self.user.roles)

    def center_ids(self, *roles: Role) -> frozenset[uuid.UUID]:
        """Centers where the user holds any of `roles` (any center-scoped role when none given)."""
        wanted = set(roles) if roles else set(CENTER_ROLES) | {Role.REGISTRY_ANALYST}
        return frozenset(
            a.center_id for a in self.user.roles if a.role in wanted and a.center_id is not None
        )

    def site_ids(self, *roles: Role) -> frozenset[uuid.UUID]:
        wanted = set(roles) if roles else set(SITE_ROLES)
        return frozenset(
            a.site_id for a in self.user.roles if a.role in wanted and a.site_id is not None
        )

    def is_network(self, role: Role) -> bool:
        return any(
            a.role is role and a.center_id is None and a.site_id is None for a in self.user.roles
        )

    def as_audit_actor(self) -> AuditActor:
        labels = sorted(
            a.role.value
            + (f"@center:{a.center_id}" if a.center_id else "")
            + (f"@site:{a.site_id}" if a.site_id else "")
            for a in self.user.roles
        )
        return AuditActor(user_id=self.user.id, username=self.user.username, roles=tuple(labels))
