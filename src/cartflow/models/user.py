"""Users, their role assignments (each scoped to a center, a site or the whole network) and log-in
sessions. A session token is stored only as its SHA-256: a database dump does not log anyone in."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    APHERESIS_NURSE = "apheresis_nurse"
    PLANNER = "planner"
    QC_ANALYST = "qc_analyst"
    QUALIFIED_PERSON = "qualified_person"
    COURIER = "courier"
    CLINICIAN = "clinician"
    REGISTRY_ANALYST = "registry_analyst"
    ADMIN = "admin"


CENTER_ROLES = frozenset({Role.COORDINATOR, Role.APHERESIS_NURSE, Role.CLINICIAN})
SITE_ROLES = frozenset({Role.PLANNER, Role.QC_ANALYST, Role.QUALIFIED_PERSON})
# Couriers, registry analysts and admins may be network-wide or tied to one center or site.
FLEXIBLE_ROLES = frozenset({Role.COURIER, Role.REGISTRY_ANALYST, Role.ADMIN})


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The printed name bound to every electronic signature (21 CFR 11.50).
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    # "ru" or "en"; empty follows the browser's Accept-Language.
    locale: Mapped[str] = mapped_column(String(8), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )


class RoleAssignment(UUIDPrimaryKey, Base):
    __tablename__ = "role_assignment"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "center_id", "site_id"),
        CheckConstraint("center_id IS NULL OR site_id IS NULL", name="one_scope"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    center_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_center.id"))
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("manufacturing_site.id"))

    user: Mapped[User] = relationship(back_populates="roles", lazy="raise")


class AuthSession(UUIDPrimaryKey, Base):
    __tablename__ = "auth_session"

    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    client: Mapped[str] = mapped_column(String(16), default="api")  # "api" or "web"

    user: Mapped[User] = relationship(lazy="raise")
