"""Authentication and authorisation refusals."""

from cartflow.errors import Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "AUTH-INVALID-CREDENTIALS"


class AccountLocked(Unauthorized):
    code = "AUTH-LOCKED"


class SessionExpired(Unauthorized):
    code = "AUTH-SESSION-EXPIRED"


class RoleRequired(Forbidden):
    code = "AUTH-ROLE-REQUIRED"
