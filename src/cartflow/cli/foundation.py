"""Commands that run the platform: database, users, the server, the demo, audit verification."""

from __future__ import annotations

import getpass
import sys

import typer
from sqlalchemy.exc import OperationalError

from cartflow.audit.service import SYSTEM_ACTOR, verify_audit_trail
from cartflow.auth.service import RoleGrant, create_user
from cartflow.cli.common import fail
from cartflow.config import Settings, get_settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.errors import CartflowError
from cartflow.models import Role

db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
user_app = typer.Typer(no_args_is_help=True, help="User accounts.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        fail(f"configuration error: {exc}".splitlines()[0])


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply the migrations to CARTFLOW_DATABASE_URL."""
    settings = _settings()
    try:
        upgrade(settings.database_url, revision)
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).splitlines()[0]}")
    typer.echo(f"database at revision {revision}")


def _parse_grant(text: str) -> RoleGrant:
    """ROLE, ROLE@center:CODE or ROLE@site:CODE."""
    role_name, _, scope = text.partition("@")
    try:
        role = Role(role_name)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        fail(f"--role: unknown role {role_name!r}; known: {known}")
    if not scope:
        return RoleGrant(role)
    kind, _, code = scope.partition(":")
    if kind == "center" and code:
        return RoleGrant(role, center_code=code)
    if kind == "site" and code:
        return RoleGrant(role, site_code=code)
    fail(f"--role: scope must be center:CODE or site:CODE, not {scope!r}")


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
    locale: str = typer.Option("ru", help="ru or en"),
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
            typer.echo(f"created user {user.username} ({', '.join(r for r in role)})")
    except CartflowError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
    except OperationalError as exc:
        fail(f"cannot use the database: {str(exc.orig).splitlines()[0]}")
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
            f"audit chain BROKEN at event {result.first_broken_id}: {result.problem} "
            f"({result.verified} events verified before it)"
        )
        raise typer.Exit(1)
    typer.echo(f"audit chain verified: {result.verified} events")


def serve(
    host: str | None = typer.Option(None, help="default CARTFLOW_HOST or 127.0.0.1"),
    port: int | None = typer.Option(None, help="default CARTFLOW_PORT or 8000"),
    workers: int = typer.Option(1, min=1, max=64),
) -> None:
    """Serve the API and the pages with uvicorn."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "cartflow.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
    )
