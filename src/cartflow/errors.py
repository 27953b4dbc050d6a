"""Business errors with a stable machine-readable code and a message a coordinator understands.

Every refusal the product makes is one of these; the API turns them into JSON with their status, the
CLI into one line and exit code 2. A refusal is never swallowed into "unknown error".

The message is a lazy `cartflow.i18n.Message`: it is rendered in the reader's language when it
is shown (the API's Accept-Language, the page user's profile, the CLI's locale); the code never
changes.
"""

from __future__ import annotations

from cartflow.i18n import Message


class CartflowError(Exception):
    """A refusal with a stable `code`, a human `message` and the HTTP `status_code` it maps to."""

    status_code: int = 400
    code: str = "CARTFLOW-ERROR"

    def __init__(
        self, message: str | Message, *, code: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self._message = message
        if code is not None:
            self.code = code
        self.field = field

    @property
    def message(self) -> str:
        """The message in the current language."""
        return str(self._message)

    def __str__(self) -> str:
        return str(self._message)

    def to_dict(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class NotFound(CartflowError):
    """The record does not exist, or exists in another center: the two are indistinguishable."""

    status_code = 404
    code = "NOT-FOUND"


class Forbidden(CartflowError):
    """The acting user's roles do not allow the action."""

    status_code = 403
    code = "FORBIDDEN"


class Unauthorized(CartflowError):
    status_code = 401
    code = "UNAUTHORIZED"


class Conflict(CartflowError):
    """The action breaks a business rule in the record's current state (the code names the rule)."""

    status_code = 409
    code = "CONFLICT"


class InvalidInput(CartflowError):
    """Well-formed but unacceptable input (the field is named)."""

    status_code = 422
    code = "INVALID-INPUT"
