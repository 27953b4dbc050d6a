"""Shared CLI conventions: bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import typer

from cartflow.i18n import Message, _, gettext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cartflow.auth.actor import Actor

EXIT_BAD_INPUT = 2


def fail(message: str | Message, *, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one line to stderr, in the user's language, and exit (2: the input was refused)."""
    sys.stderr.write(str(message).rstrip().replace("\n", " ") + "\n")
    raise typer.Exit(code)


def read_password(password_stdin: bool) -> str:
    """The acting user's password: from stdin (scripts) or asked for without echo."""
    import getpass

    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(gettext("Password: "))


def cli_actor(session: Session, *, username: str, password: str) -> Actor:
    """The user a command acts as. The CLI has no session token, so every command that changes a
    record checks the user's password, under the same lock-out rules as the log-in page."""
    from sqlalchemy import select

    from cartflow.auth.actor import Actor
    from cartflow.auth.passwords import verify_password
    from cartflow.auth.service import LockoutPolicy, is_locked, register_failed_password
    from cartflow.models import User

    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        fail(_("wrong username or password"))
    if is_locked(user):
        fail(
            _("too many wrong passwords: the account is locked; ask an administrator to unlock it")
        )
    if not verify_password(user.password_hash, password):
        # The command is refused and rolled back, but the failed attempt must stay counted: the
        # one commit outside db/session.py, for the same reason as the log-in refusal's.
        session.rollback()
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        register_failed_password(
            session, user=user, policy=LockoutPolicy.from_settings(), what="command-line"
        )
        session.commit()
        fail(_("wrong username or password"))
    return Actor(user)
