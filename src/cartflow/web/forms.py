"""Reading posted forms and turning refusals into messages beside the fields they concern.

Forms are validated by the same Pydantic schemas as the API (`cartflow.*.schemas`), so a page
accepts exactly what the API accepts; the web layer only maps field names to messages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cartflow.errors import CartflowError
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


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"]) or "form"
        errors.setdefault(field, str(error["msg"]).removeprefix("Value error, "))
    return errors


def refusal(session: Session, exc: CartflowError) -> dict[str, str]:
    """Undo whatever the refused action wrote, and say why beside its field (or the form)."""
    session.rollback()
    return {exc.field or "form": f"{exc.message} ({exc.code})"}
