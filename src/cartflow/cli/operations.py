"""`cartflow backup FILE` and `cartflow restore FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from cartflow.audit.service import verify_audit_trail
from cartflow.cli.common import fail
from cartflow.config import get_settings
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.errors import CartflowError
from cartflow.i18n import _


def _verify(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            result = verify_audit_trail(session)
    finally:
        engine.dispose()
    if not result.ok:
        typer.echo(
            _(
                "audit chain BROKEN at event {event}: {problem}",
                event=result.first_broken_id,
                problem=result.problem,
            ),
            err=True,
        )
        raise typer.Exit(1)
    return result.verified


def backup(file: Path = typer.Argument(..., help="where to write the backup")) -> None:
    """Back up the whole database (SQLite online backup, or pg_dump for PostgreSQL)."""
    url = get_settings().database_url
    try:
        from cartflow.operations.backup import backup as run_backup

        run_backup(url, file)
    except CartflowError as exc:
        fail(exc.message)
    typer.echo(_("backed up to {file}", file=file))


def restore(
    file: Path = typer.Argument(..., help="a backup made by `cartflow backup`"),
    yes: bool = typer.Option(False, "--yes", help="confirm: the database is replaced"),
) -> None:
    """Replace the database with a backup, then verify the restored audit chain."""
    if not yes:
        fail(_("restore replaces every record in the database: add --yes to confirm"))
    url = get_settings().database_url
    try:
        from cartflow.operations.backup import restore as run_restore

        run_restore(url, file)
    except CartflowError as exc:
        fail(exc.message)
    verified = _verify(url)
    typer.echo(
        _(
            "restored from {file}; audit chain verified: {verified} events",
            file=file,
            verified=verified,
        )
    )
