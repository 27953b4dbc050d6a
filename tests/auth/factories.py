"""Factories for the auth tests: admins of the whole network or of one center."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cartflow.models import Role, TreatmentCenter, User
from tests.factories import make_user


def network_admin(session: Session) -> User:
    return make_user(session, Role.ADMIN)


def center_admin(session: Session, center: TreatmentCenter) -> User:
    return make_user(session, Role.ADMIN, center=center)
