"""Users, log-in, sessions and passwords.

Tokens are random (secrets.token_urlsafe), stored as SHA-256 only, and expire after a period of
inactivity and after an absolute lifetime (21 CFR 11.300; EU GMP Annex 11 §12). Wrong passwords,
at log-in, at signing or when changing one's password, count towards a lock-out
(`CARTFLOW_MAX_FAILED_LOGINS`, default 5, for `CARTFLOW_LOCKOUT_MINUTES`, default 15); the count
restarts at a successful log-in. Every user change is audited; passwords never enter the trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import SYSTEM_ACTOR, AuditActor, record_event
from cartflow.auth.actor import Actor
from cartflow.auth.errors import AccountLocked, InvalidCredentials, SessionExpired, WrongPassword
from cartflow.auth.passwords import check_password_policy, hash_password, verify_password
from cartflow.config import Settings, get_settings
from cartflow.db.base import utcnow
from cartflow.errors import Conflict, InvalidInput
from cartflow.i18n import LOCALES, _
from cartflow.models import (
    AuthSession,
    ManufacturingSite,
    Role,
    RoleAssignment,
    TreatmentCenter,
    User,
)
from cartflow.models.user import CENTER_ROLES, SITE_ROLES

# Refresh last_seen_at at most this often: a write per request would serialise readers on SQLite.
_TOUCH_INTERVAL = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong passwords in a row lock an account, and for how long."""

    max_failures: int = 5
    minutes: int = 15

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> LockoutPolicy:
        settings = settings or get_settings()
        return cls(max_failures=settings.max_failed_logins, minutes=settings.lockout_minutes)

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class RoleGrant:
    role: Role
    center_code: str | None = None
    site_code: str | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_snapshot(user: User) -> dict[str, object]:
    data = snapshot(user, exclude=frozenset({"password_hash", "updated_at", "created_at"}))
    data["roles"] = sorted(
        f"{a.role.value}:{a.center_id or ''}:{a.site_id or ''}" for a in user.roles
    )
    return data


def create_user(
    session: Session,
    *,
    actor: AuditActor,
    username: str,
    full_name: str,
    password: str,
    grants: list[RoleGrant],
    email: str = "",
    locale: str = "",
) -> User:
    check_password_policy(password, username=username)
    if not grants:
        raise InvalidInput(_("a user needs at least one role"), field="roles")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(
            _("username {username!r} is taken", username=username),
            code="USER-EXISTS",
            field="username",
        )
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        locale=locale,
        password_hash=hash_password(password),
    )
    for grant in grants:
        user.roles.append(_assignment(session, grant))
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        record_type="user",
        record_id=user.id,
        action="create",
        after=user_snapshot(user),
    )
    return user


def _assignment(session: Session, grant: RoleGrant) -> RoleAssignment:
    center_id = site_id = None
    if grant.center_code is not None:
        center_id = session.execute(
            select(TreatmentCenter.id).where(TreatmentCenter.code == grant.center_code)
        ).scalar_one_or_none()
        if center_id is None:
            raise InvalidInput(
                _("unknown center code {code!r}", code=grant.center_code), field="center"
            )
    if grant.site_code is not None:
        site_id = session.execute(
            select(ManufacturingSite.id).where(ManufacturingSite.code == grant.site_code)
        ).scalar_one_or_none()
        if site_id is None:
            raise InvalidInput(_("unknown site code {code!r}", code=grant.site_code), field="site")
    if grant.role in CENTER_ROLES and center_id is None:
        raise InvalidInput(
            _("role {role} must be scoped to a center", role=grant.role.value), field="center"
        )
    if grant.role in SITE_ROLES and site_id is None:
        raise InvalidInput(
            _("role {role} must be scoped to a site", role=grant.role.value), field="site"
        )
    if center_id is not None and site_id is not None:
        raise InvalidInput(_("a role is scoped to a center or a site, not both"), field="site")
    if grant.role in CENTER_ROLES and site_id is not None:
        raise InvalidInput(_("role {role} is a center role", role=grant.role.value), field="site")
    if grant.role in SITE_ROLES and center_id is not None:
        raise InvalidInput(_("role {role} is a site role", role=grant.role.value), field="center")
    return RoleAssignment(role=grant.role, center_id=center_id, site_id=site_id)


@dataclass(frozen=True)
class LoginOutcome:
    """A log-in result. A refusal is returned, not raised, so that the failed-attempt count and
    any lock-out are committed with the request instead of rolled back with the error."""

    token: str | None
    user: User | None
    refusal: InvalidCredentials | AccountLocked | None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client: str,
    lifetime: dt.timedelta,
    lockout: LockoutPolicy | None = None,
) -> LoginOutcome:
    """Check the password and open a session; the raw token is shown once and stored hashed."""
    policy = lockout or LockoutPolicy.from_settings()
    now = utcnow()
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        # Same message for unknown and disabled users: do not reveal which usernames exist.
        return LoginOutcome(None, None, InvalidCredentials(_("wrong username or password")))
    if is_locked(user, now=now):
        return LoginOutcome(
            None,
            None,
            AccountLocked(
                _(
                    "too many wrong passwords: the account is locked; try again later "
                    "or ask an administrator to unlock it"
                )
            ),
        )
    if not verify_password(user.password_hash, password):
        register_failed_password(session, user=user, policy=policy, what="log-in", now=now)
        return LoginOutcome(None, None, InvalidCredentials(_("wrong username or password")))
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_sha256=token_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            client=client,
        )
    )
    session.flush()
    return LoginOutcome(token, user, None)


def is_locked(user: User, *, now: dt.datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def register_failed_password(
    session: Session,
    *,
    user: User,
    policy: LockoutPolicy,
    what: str,
    now: dt.datetime | None = None,
) -> bool:
    """Count one wrong password (at log-in, signing or password change); lock the account when the
    count reaches the policy's limit. Returns True when this failure locked the account."""
    now = now or utcnow()
    user.failed_logins += 1
    if user.failed_logins < policy.max_failures:
        session.flush()
        return False
    user.locked_until = now + policy.duration
    user.failed_logins = 0
    session.flush()
    record_event(
        session,
        actor=SYSTEM_ACTOR,
        record_type="user",
        record_id=user.id,
        action="lock",
        after={"locked_until": user.locked_until},
        reason=f"{policy.max_failures} wrong passwords in a row (last at {what})",
        occurred_at=now,
    )
    return True


def end_sessions(session: Session, *, user_id: uuid.UUID, keep_token: str | None = None) -> int:
    """Revoke the user's open sessions (all but `keep_token`'s); returns how many ended."""
    now = utcnow()
    keep = token_digest(keep_token) if keep_token is not None else None
    open_sessions = session.execute(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    ).scalars()
    ended = 0
    for auth in open_sessions:
        if auth.token_sha256 != keep:
            auth.revoked_at = now
            ended += 1
    session.flush()
    return ended


def change_password(
    session: Session,
    *,
    actor: Actor,
    old_password: str,
    new_password: str,
    current_token: str | None,
) -> None:
    """Change one's own password. The old one is needed (a wrong one counts towards the lock-out,
    see `auth.dependencies`); the new one must meet the policy; the other sessions end."""
    user = actor.user
    if not verify_password(user.password_hash, old_password):
        raise WrongPassword(_("the current password does not match"), field="old_password")
    check_password_policy(new_password, username=user.username)
    if verify_password(user.password_hash, new_password):
        raise InvalidInput(_("the new password must differ from the current one"), field="password")
    user.password_hash = hash_password(new_password)
    ended = end_sessions(session, user_id=user.id, keep_token=current_token)
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="user",
        record_id=user.id,
        action="change_password",
        after={"sessions_ended": ended},
        reason="changed by the user",
    )


def set_preferred_locale(session: Session, *, actor: Actor, locale: str) -> None:
    """The user's language in their profile: ``ru``, ``en``, or ``""`` to follow the browser."""
    if locale not in ("", *LOCALES):
        raise InvalidInput(
            _("language must be one of ru, en, or empty to follow the browser"), field="locale"
        )
    user = actor.user
    if user.locale == locale:
        return
    before = {"locale": user.locale}
    user.locale = locale
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="user",
        record_id=user.id,
        action="set_locale",
        before=before,
        after={"locale": locale},
        reason="changed by the user",
    )


def authenticate(session: Session, *, token: str, idle: dt.timedelta) -> User:
    now = utcnow()
    # The session, its user and the user's roles (every scope check reads them) in one round
    # trip: authentication precedes every request.
    found = (
        session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_sha256 == token_digest(token))
            .options(joinedload(User.roles))
        )
        .unique()
        .one_or_none()
    )
    if found is None or found[0].revoked_at is not None:
        raise SessionExpired(_("not logged in, or the session has ended"))
    auth, user = found
    if auth.expires_at <= now or auth.last_seen_at + idle <= now:
        raise SessionExpired(_("the session has expired; log in again"))
    if not user.is_active:
        raise SessionExpired(_("the account is no longer active"))
    if now - auth.last_seen_at > _TOUCH_INTERVAL:
        auth.last_seen_at = now
    return user


def logout(session: Session, *, token: str) -> None:
    auth = session.execute(
        select(AuthSession).where(AuthSession.token_sha256 == token_digest(token))
    ).scalar_one_or_none()
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = utcnow()


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)
