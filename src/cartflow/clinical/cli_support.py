"""Shared plumbing of `cartflow clinical`: the acting user, one transaction per command, JSON out,
and every refusal as one line on stderr with exit code 2 (never a traceback)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.cli.common import cli_actor, fail, read_password
from cartflow.errors import CartflowError
from cartflow.i18n import _
from cartflow.i18n.validation import validation_message

User = Annotated[str, typer.Option("--user", help="act as this user")]
Password = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from stdin (else a prompt)")
]
ModelT = TypeVar("ModelT", bound=BaseModel)
Result = BaseModel | Sequence[BaseModel]


def _validation_line(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "input"
    return f"{where}: {validation_message(err)}"


def parse_json_option(raw: str | Mapping[str, Any], model: type[ModelT]) -> ModelT:
    """Validate JSON text (or already-built options) into `model`; refuse with the field named."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except json.JSONDecodeError as exc:
        fail(_("--json: not valid JSON ({error})", error=str(exc)))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fail(_validation_line(exc))


def parse_time(text: str | None, option: str) -> dt.datetime | None:
    """An ISO 8601 time with its UTC offset; a time without one is refused, not guessed."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(
            _(
                "{option}: {text!r} is not an ISO time such as {example}",
                option=option,
                text=text,
                example="2026-03-02T09:15:00+03:00",
            )
        )
    if moment.tzinfo is None:
        fail(_("{option}: give the time with its UTC offset (e.g. +03:00)", option=option))
    return moment


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(
            _(
                "{option}: {text!r} is not a date such as {example}",
                option=option,
                text=text,
                example="2026-03-02",
            )
        )


def _dump(result: Result) -> str:
    if isinstance(result, BaseModel):
        return result.model_dump_json(indent=2)
    return json.dumps([r.model_dump(mode="json") for r in result], indent=2, ensure_ascii=False)


def act(user: str, password_stdin: bool, work: Callable[[Session, Actor, str], Result]) -> None:
    """Run `work(session, actor, password)` in one transaction and print its result as JSON."""
    from cartflow.config import get_settings
    from cartflow.db.engine import make_engine
    from cartflow.db.session import make_sessionmaker, session_scope

    password = read_password(password_stdin)
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            actor = cli_actor(session, username=user, password=password)
            output = _dump(work(session, actor, password))
    except CartflowError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    except ValidationError as exc:
        fail(_validation_line(exc))
    finally:
        engine.dispose()
    typer.echo(output)
