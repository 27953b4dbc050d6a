"""Authentication and authorisation refusals."""

from cartflow.errors import Conflict, Forbidden, NotFound, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "AUTH-INVALID-CREDENTIALS"


class AccountLocked(Unauthorized):
    code = "AUTH-LOCKED"


class SessionExpired(Unauthorized):
    code = "AUTH-SESSION-EXPIRED"


class RoleRequired(Forbidden):
    code = "AUTH-ROLE-REQUIRED"


class WrongPassword(Forbidden):
    """A logged-in user re-entered a wrong password (it counts towards the lock-out). 403, not 401:
    the session itself is still valid, and a client must not read this as "log in again"."""

    code = "AUTH-WRONG-PASSWORD"


class UserNotFound(NotFound):
    code = "USER-NOT-FOUND"


class UserStateConflict(Conflict):
    code = "USER-STATE"
