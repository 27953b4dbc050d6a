"""API shapes for log-in and users."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from cartflow.models import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


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
    roles: list[RoleOut]


class LoginResponse(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    user: UserOut


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    email: str = Field(default="", max_length=200)
    password: str = Field(min_length=10, max_length=256)
    locale: str = Field(default="ru", pattern=r"^(ru|en)$")
    roles: list[RoleGrantIn] = Field(min_length=1)
