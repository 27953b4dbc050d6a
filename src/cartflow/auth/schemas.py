"""API shapes for log-in, passwords and users."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from cartflow.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from cartflow.models import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RoleGrantIn(BaseModel):
    role: Role
    center: str | None = Field(default=None, description="treatment center code")
    site: str | None = Field(default=None, description="manufacturing site code")


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: Role
    center_id: uuid.UUID | None
    site_id: uuid.UUID | None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    full_name: str
    email: str
    locale: str
    is_active: bool
    locked_until: dt.datetime | None = Field(
        default=None, description="set while the account is locked after wrong passwords"
    )
    roles: list[RoleOut]


class LoginResponse(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    user: UserOut


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    email: str = Field(default="", max_length=200)
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="at least 10 characters, not the username, not a common password",
    )
    locale: str = Field(
        default="", pattern=r"^(ru|en)?$", description="ru, en, or empty to follow the browser"
    )
    roles: list[RoleGrantIn] = Field(min_length=1)


class PasswordChange(BaseModel):
    old_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="the new password: at least 10 characters, not the username, not common",
    )


class UserAdminAction(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, description="why (kept in the audit trail)")


class LocaleChange(BaseModel):
    locale: str = Field(pattern=r"^(ru|en)?$", description="ru, en, or empty to follow the browser")
