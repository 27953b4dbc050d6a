"""Commands that run the platform: database, users, the server, the demo, audit verification."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from sqlalchemy.exc import OperationalError

from cartflow.audit.service import SYSTEM_ACTOR, verify_audit_trail
from cartflow.auth.service import RoleGrant, create_user
from cartflow.cli.common import cli_actor, fail, read_password
from cartflow.config import Settings, get_settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.errors import CartflowError
from cartflow.i18n import _
from cartflow.models import Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cartflow.audit.history import RecordHistory
    from cartflow.auth.actor import Actor

db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
user_app = typer.Typer(no_args_is_help=True, help="User accounts.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        fail(_("configuration error: {error}", error=str(exc).splitlines()[0]))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply the migrations to CARTFLOW_DATABASE_URL."""
    settings = _settings()
    try:
        upgrade(settings.database_url, revision)
    except OperationalError as exc:
        fail(_("cannot reach the database: {error}", error=str(exc.orig).splitlines()[0]))
    typer.echo(_("database at revision {revision}", revision=revision))


def _parse_grant(text: str) -> RoleGrant:
    """ROLE, ROLE@center:CODE or ROLE@site:CODE."""
    role_name, _sep, scope = text.partition("@")
    try:
        role = Role(role_name)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        fail(_("--role: unknown role {role!r}; known: {known}", role=role_name, known=known))
    if not scope:
        return RoleGrant(role)
    kind, _sep, code = scope.partition(":")
    if kind == "center" and code:
        return RoleGrant(role, center_code=code)
    if kind == "site" and code:
        return RoleGrant(role, site_code=code)
    fail(_("--role: scope must be center:CODE or site:CODE, not {scope!r}", scope=scope))


@user_app.command("add")
def user_add(
    username: str,
    full_name: str = typer.Option(..., "--name", help="printed name used in signatures"),
    role: list[str] = typer.Option(
        ..., "--role", help="ROLE, ROLE@center:CODE or ROLE@site:CODE; repeat for several"
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from standard input"
    ),
    locale: str = typer.Option("", help="ru or en; empty follows the browser"),
) -> None:
    """Create a user (the password is asked for, or read from stdin)."""
    grants = [_parse_grant(r) for r in role]
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass()
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            user = create_user(
                session,
                actor=SYSTEM_ACTOR,
                username=username,
                full_name=full_name,
                password=password,
                grants=grants,
                locale=locale,
            )
            typer.echo(
                _(
                    "created user {username} ({roles})",
                    username=user.username,
                    roles=", ".join(role),
                )
            )
    except CartflowError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
    except OperationalError as exc:
        fail(_("cannot use the database: {error}", error=str(exc.orig).splitlines()[0]))
    finally:
        engine.dispose()


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 naming the first broken event, else print how many verified."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            result = verify_audit_trail(session)
    finally:
        engine.dispose()
    if not result.ok:
        typer.echo(
            _(
                "audit chain BROKEN at event {event}: {problem} "
                "({verified} events verified before it)",
                event=result.first_broken_id,
                problem=result.problem,
                verified=result.verified,
            )
        )
        raise typer.Exit(1)
    typer.echo(_("audit chain verified: {verified} events", verified=result.verified))


def _run_as_user(
    username: str, password_stdin: bool, work: Callable[[Session, Actor], None]
) -> None:
    """Run `work` in one unit of work as the named user (password checked); refusals: one line."""
    password = read_password(password_stdin)
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            work(session, cli_actor(session, username=username, password=password))
    except CartflowError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
    except OperationalError as exc:
        fail(_("cannot use the database: {error}", error=str(exc.orig).splitlines()[0]))
    finally:
        engine.dispose()


ACTING_USER = typer.Option(..., "--user", help="the acting network admin's username")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="read the acting user's password from standard input"
)
REASON = typer.Option(..., "--reason", help="why (kept in the audit trail)")


@user_app.command("deactivate")
def user_deactivate(
    username: str,
    reason: str = REASON,
    acting: str = ACTING_USER,
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Deactivate a user (never deleted) and end their sessions."""
    from cartflow.auth import admin

    def work(session: Session, actor: Actor) -> None:
        user = admin.user_by_username(session, actor=actor, username=username)
        admin.deactivate_user(session, actor=actor, user=user, reason=reason)
        typer.echo(_("deactivated user {username}", username=username))

    _run_as_user(acting, password_stdin, work)


@user_app.command("unlock")
def user_unlock(
    username: str,
    reason: str = REASON,
    acting: str = ACTING_USER,
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Lift a lock-out after wrong passwords."""
    from cartflow.auth import admin

    def work(session: Session, actor: Actor) -> None:
        user = admin.user_by_username(session, actor=actor, username=username)
        admin.unlock_user(session, actor=actor, user=user, reason=reason)
        typer.echo(_("unlocked user {username}", username=username))

    _run_as_user(acting, password_stdin, work)


@user_app.command("list")
def user_list() -> None:
    """List every user (active or not) with their roles; an operator command like `user add`."""
    from sqlalchemy import select

    from cartflow.auth.service import is_locked
    from cartflow.models import User

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            users = session.execute(select(User).order_by(User.username)).scalars().all()
            for user in users:
                status = "active" if user.is_active else "inactive"
                if is_locked(user):
                    status += ",locked"
                roles = ",".join(sorted(a.role.value for a in user.roles))
                typer.echo(f"{user.username}\t{status}\t{roles}\t{user.full_name}")
    except OperationalError as exc:
        fail(_("cannot use the database: {error}", error=str(exc.orig).splitlines()[0]))
    finally:
        engine.dispose()


@audit_app.command("history")
def audit_history(
    record_type: str,
    record_id: str,
    acting: str = typer.Option(..., "--user", help="who reads (the record's scoping applies)"),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = typer.Option(False, "--json", help="print the API's JSON shape"),
) -> None:
    """A record's audit events, versions and signatures, as the acting user may see them."""
    from cartflow.audit.history import read_history

    def work(session: Session, actor: Actor) -> None:
        found = read_history(session, actor=actor, record_type=record_type, record_id=record_id)
        if as_json:
            typer.echo(history_json(found))
            return
        for e in found.events:
            change = f" {e.before or {}} -> {e.after or {}}" if e.before or e.after else ""
            why = f" reason={e.reason!r}" if e.reason else ""
            typer.echo(
                f"#{e.id} {e.occurred_at.isoformat()} {e.actor_username} {e.action}{why}{change}"
            )
        for v in found.versions:
            typer.echo(f"version {v.version} {v.created_at.isoformat()} {v.created_by_username}")
        for sig in found.signatures:
            state = {True: "valid", False: "INVALID", None: "not re-derivable"}[sig.valid]
            typer.echo(
                f"signed {sig.signature.signed_at.isoformat()} "
                f"{sig.signature.signer_printed_name} '{sig.signature.meaning}' {state}"
            )

    _run_as_user(acting, password_stdin, work)


def history_json(found: RecordHistory) -> str:
    from cartflow.audit.endpoints import history_out

    return history_out(found).model_dump_json(indent=2)


def serve(
    host: str | None = typer.Option(None, help="default CARTFLOW_HOST or 127.0.0.1"),
    port: int | None = typer.Option(None, help="default CARTFLOW_PORT or 8000"),
    workers: int = typer.Option(1, min=1, max=64),
) -> None:
    """Serve the API and the pages with uvicorn."""
    from cartflow.operations.server import serve as serve_app

    settings = _settings()
    serve_app(host=host or settings.host, port=port or settings.port, workers=workers)
