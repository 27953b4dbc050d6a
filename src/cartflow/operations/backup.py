"""Backup and restore of the whole database.

SQLite uses the online backup API (a consistent copy while the server keeps running, WAL
included); PostgreSQL uses pg_dump's custom format and pg_restore. A restore replaces everything in
the target database, then the audit chain is verified so a damaged or tampered backup is caught at
once rather than discovered in an inspection.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import _


class BackupFailed(CartflowError):
    status_code = 500
    code = "BACKUP-FAILED"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInput(_("an in-memory SQLite database cannot be backed up"), field="database")
    return Path(url.database)


def _libpq_url(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupFailed(
            _("{tool} is not installed (Debian package postgresql-client)", tool=name)
        )
    return tool


def backup(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise InvalidInput(_("no database file at {path}", path=source_path), field="database")
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments from configuration
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupFailed(
            _("pg_dump failed: {error}", error=result.stderr.strip().splitlines()[-1])
        )


def restore(database_url: str, source: Path) -> None:
    if not source.exists():
        raise InvalidInput(_("no backup file at {path}", path=source), field="file")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with source.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise InvalidInput(_("{path} is not a SQLite backup", path=source), field="file")
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as backup_db, sqlite3.connect(target_path) as target:
            backup_db.backup(target)
        return
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments from configuration
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(url)}",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["unknown error"]
        raise BackupFailed(_("pg_restore failed: {error}", error=lines[-1]))
