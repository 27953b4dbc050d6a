"""Shared pieces of the `cartflow custody` commands: the acting user, the episode named by its
chain of identity identifier, JSON output. Kept beside the services so the command modules stay
small; imports of the services happen inside the functions so `cartflow --help` stays fast."""

from __future__ import annotations

import getpass
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cartflow.cli.common import cli_actor, fail
from cartflow.i18n import _, gettext

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from cartflow.auth.actor import Actor
    from cartflow.models import Episode

User = Annotated[str, typer.Option("--user", help="act as this user")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="read the password from stdin (a witness's password on the next line)",
    ),
]
Coi = Annotated[str, typer.Argument(help="the episode's chain of identity identifier")]


def passwords(password_stdin: bool, witness: str | None) -> tuple[str, str | None]:
    if password_stdin:
        first = sys.stdin.readline().rstrip("\n")
        second = sys.stdin.readline().rstrip("\n") if witness else None
        return first, second
    first = getpass.getpass(gettext("Password: "))
    if not witness:
        return first, None
    return first, getpass.getpass(
        gettext("Password of {witness} (second person): ", witness=witness)
    )


@contextmanager
def acting(user: str, password: str) -> Iterator[tuple[Session, Actor]]:
    """A committed unit of work as `user`; a CartflowError becomes one line and exit 2."""
    from cartflow.config import get_settings
    from cartflow.db.engine import make_engine
    from cartflow.db.session import make_sessionmaker, session_scope
    from cartflow.errors import CartflowError

    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session, cli_actor(session, username=user, password=password)
    except CartflowError as error:
        fail(
            _("{field}: {reason}", field=error.field, reason=error.args[0])
            if error.field
            else error.message
        )
    finally:
        engine.dispose()


def episode_by_coi(session: Session, actor: Actor, coi: str) -> Episode:
    from cartflow.episodes.service import EpisodeFilter, get_episode, list_episodes
    from cartflow.identity.isbt128 import compact

    rows, _total = list_episodes(
        session,
        actor=actor,
        filters=EpisodeFilter(chain_of_identity=compact(coi)),
        limit=1,
        offset=0,
    )
    if not rows:
        fail(_("COI: no episode {coi} among yours", coi=compact(coi)))
    return get_episode(session, actor=actor, episode_id=rows[0].id)


def echo(data: BaseModel | list[Any]) -> None:
    if isinstance(data, list):
        typer.echo(json.dumps([d.model_dump(mode="json") for d in data], indent=2))
    else:
        typer.echo(data.model_dump_json(indent=2))


def parse_id(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        fail(_("{what}: {text!r} is not an id", what=what, text=text))
