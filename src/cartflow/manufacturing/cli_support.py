"""Shared pieces of the `cartflow manufacturing` commands: acting as a user in one transaction,
reading times and values from the command line, naming a batch by id or DIN."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from cartflow.cli.common import fail, read_password
from cartflow.i18n import _, gettext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cartflow.auth.actor import Actor
    from cartflow.manufacturing.schemas import BatchOut

UserOpt = typer.Option(..., "--user", help="the username to act as")
PasswordStdin = typer.Option(False, "--password-stdin", help="read the password from stdin")
Operators = typer.Option([], "--operator", help="who performed the step (repeat); default: you")


def when(text: str | None, field: str) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(_("{field}: not an ISO 8601 date-time: {text!r}", field=field, text=text))
    if moment.tzinfo is None:
        fail(_("{field}: give the time zone, e.g. {text}+03:00 or {text}Z", field=field, text=text))
    return moment


def number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def act(user: str, password_stdin: bool, work: Callable[[Session, Actor, str], list[str]]) -> None:
    """Run `work` as the user in one transaction; print its lines after the commit."""
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from cartflow.cli.common import cli_actor
    from cartflow.config import get_settings
    from cartflow.db.engine import make_engine
    from cartflow.db.session import make_sessionmaker, session_scope
    from cartflow.errors import CartflowError

    password = read_password(password_stdin)
    try:
        url = get_settings().database_url
    except ValueError as exc:
        fail(_("configuration error: {error}", error=str(exc).splitlines()[0]))
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            lines = work(session, cli_actor(session, username=user, password=password), password)
    except CartflowError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    except (IntegrityError, StaleDataError):
        fail(_("the change conflicts with a concurrent change or an existing record; retry"))
    except OperationalError as exc:
        fail(_("cannot use the database: {error}", error=str(exc.orig).splitlines()[0]))
    finally:
        engine.dispose()
    for line in lines:
        typer.echo(line)


def batch_id_of(session: Session, actor: Actor, reference: str) -> uuid.UUID:
    from cartflow.manufacturing.access import find_batch

    return find_batch(session, actor=actor, reference=reference).id


def parse_id(text: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        fail(_("{field}: not an id: {text!r}", field=field, text=text))


def summary(record: BatchOut) -> list[str]:
    line = gettext(
        "batch {din} ({batch}) {state}", din=record.din, batch=record.id, state=record.state.value
    )
    if record.next_step is not None:
        line += "; " + gettext("next step: {step}", step=record.next_step.value)
    return [line]


def record_of(session: Session, actor: Actor, batch_id: uuid.UUID) -> BatchOut:
    from cartflow.manufacturing.access import get_batch
    from cartflow.manufacturing.views import batch_out

    return batch_out(session, get_batch(session, actor=actor, batch_id=batch_id))
