"""User administration: listing, deactivating and unlocking accounts.

Invariants: only a network-wide admin manages users (an admin scoped to one center or site could
otherwise grant themselves, or take from others, roles anywhere in the network). Users are never
removed, only deactivated: their name stays bound to the records and signatures they made (21 CFR
11.10(e), 11.50, 11.100: a signature is never reassigned). Deactivation ends every session of the
user at once; both deactivation and unlock carry a reason and are audited.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired, UserNotFound, UserStateConflict
from cartflow.auth.service import end_sessions, is_locked
from cartflow.db.base import utcnow
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.models import Role, User


def require_network_admin(actor: Actor) -> None:
    if not actor.is_network(Role.ADMIN):
        raise RoleRequired(_("managing users needs the network-wide admin role"))


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput(_("say why"), field="reason")
    return reason.strip()


def get_user(session: Session, *, actor: Actor, user_id: uuid.UUID) -> User:
    require_network_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(_("no user {user_id}", user_id=user_id))
    return user


def user_by_username(session: Session, *, actor: Actor, username: str) -> User:
    require_network_admin(actor)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise UserNotFound(_("no user {username!r}", username=username), field="username")
    return user


def list_users(session: Session, *, actor: Actor, include_inactive: bool = True) -> list[User]:
    require_network_admin(actor)
    stmt = select(User).order_by(User.username)
    if not include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    return list(session.execute(stmt).scalars())


def deactivate_user(session: Session, *, actor: Actor, user: User, reason: str) -> User:
    """Deactivate (never delete) a user and end their sessions."""
    require_network_admin(actor)
    why = _reason(reason)
    if user.id == actor.id:
        raise UserStateConflict(
            _("you cannot deactivate your own account; ask another administrator"),
            code="USER-SELF-DEACTIVATION",
        )
    if not user.is_active:
        raise UserStateConflict(
            _("user {username!r} is already deactivated", username=user.username),
            code="USER-ALREADY-INACTIVE",
        )
    user.is_active = False
    ended = end_sessions(session, user_id=user.id)
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="user",
        record_id=user.id,
        action="deactivate",
        before={"is_active": True},
        after={"is_active": False, "sessions_ended": ended},
        reason=why,
    )
    return user


def unlock_user(session: Session, *, actor: Actor, user: User, reason: str) -> User:
    """Lift a lock-out (or a failure count building up to one) before it expires by itself."""
    require_network_admin(actor)
    why = _reason(reason)
    if not is_locked(user) and user.failed_logins == 0:
        raise UserStateConflict(
            _("user {username!r} is not locked", username=user.username), code="USER-NOT-LOCKED"
        )
    before = {"locked_until": user.locked_until, "failed_logins": user.failed_logins}
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="user",
        record_id=user.id,
        action="unlock",
        before=before,
        after={"locked_until": None, "failed_logins": 0},
        reason=why,
        occurred_at=utcnow(),
    )
    return user
