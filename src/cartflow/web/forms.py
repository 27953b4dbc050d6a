"""Reading posted forms and turning refusals into messages beside the fields they concern.

Forms are validated by the same Pydantic schemas as the API (`cartflow.*.schemas`), so a page
accepts exactly what the API accepts; the web layer only maps field names to messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import count_wrong_password, is_wrong_password
from cartflow.auth.service import LockoutPolicy
from cartflow.config import Settings
from cartflow.errors import CartflowError
from cartflow.i18n import current_locale
from cartflow.i18n.validation import validation_message
from cartflow.web.csrf import FORM_FIELD


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {
        key: value.strip()
        for key, value in form.multi_items()
        if isinstance(value, str) and key != FORM_FIELD
    }


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


def filled(fields: dict[str, str], *names: str) -> dict[str, str]:
    """The named fields that were filled in (an empty input means "not given")."""
    chosen = names or tuple(fields)
    return {name: fields[name] for name in chosen if fields.get(name, "") != ""}


def _message(error: Mapping[str, Any]) -> str:
    # A rule of our own (a validator's ValueError) already speaks the reader's language;
    # Pydantic's own messages come from the catalog (cartflow.i18n.validation).
    if error.get("type") == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if current_locale() == "en":
        return str(error["msg"])
    return validation_message(error)


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"]) or "form"
        errors.setdefault(field, _message(error))
    return errors


def refusal(session: Session, exc: CartflowError) -> dict[str, str]:
    """Undo whatever the refused action wrote, and say why beside its field (or the form)."""
    session.rollback()
    return {exc.field or "form": f"{exc.message} ({exc.code})"}


def signature_refusal(
    request: Request, session: Session, actor: Actor, exc: CartflowError
) -> dict[str, str]:
    """Like `refusal`, and a wrong password at signing also counts towards the lock-out, in a
    unit of work of its own (the refused signature itself is rolled back)."""
    if is_wrong_password(exc):
        settings: Settings = request.app.state.settings
        count_wrong_password(
            session,
            policy=LockoutPolicy.from_settings(settings),
            what="signing",
            user_id=actor.id,
        )
        return {"password": f"{exc.message} ({exc.code})"}
    return refusal(session, exc)
