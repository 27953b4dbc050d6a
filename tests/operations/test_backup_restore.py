"""Backup and restore round trip: every table comes back exactly, and the audit chain verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

import cartflow.models  # noqa: F401 - every table on Base.metadata
from cartflow.db.base import Base
from cartflow.db.engine import make_engine


def _cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartflow.cli.main", *args],
        env={"CARTFLOW_DATABASE_URL": url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            tables[table.name] = [tuple(row) for row in rows]
    engine.dispose()
    return tables


def test_round_trip_restores_every_table_and_the_chain(own_database: str, tmp_path: Path) -> None:
    seeded = _cli(own_database, "demo", "--no-serve", "--episodes", "25")
    assert seeded.returncode == 0, seeded.stderr
    before = _snapshot(own_database)
    assert before["episode"] and before["audit_event"] and before["app_user"]

    backup_file = tmp_path / "cartflow.backup"
    made = _cli(own_database, "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert backup_file.stat().st_size > 0

    # Work continues after the backup; the restore takes the database back to the backup's moment.
    added = _cli(
        own_database,
        "user",
        "add",
        "late.courier",
        "--name",
        "Late Courier",
        "--role",
        "courier",
        "--password-stdin",
        stdin="a-good-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert len(_snapshot(own_database)["app_user"]) == len(before["app_user"]) + 1

    refused = _cli(own_database, "restore", str(backup_file))
    assert refused.returncode == 2 and "--yes" in refused.stderr

    restored = _cli(own_database, "restore", str(backup_file), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "audit chain verified" in restored.stdout
    after = _snapshot(own_database)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"table {name} differs after restore"
    assert _cli(own_database, "audit", "verify").returncode == 0


def test_restore_refuses_a_file_that_is_not_a_backup(own_database: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    assert _cli(own_database, "db", "upgrade").returncode == 0
    result = _cli(own_database, "restore", str(junk), "--yes")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    missing = _cli(own_database, "restore", str(tmp_path / "nope"), "--yes")
    assert missing.returncode == 2 and "no backup file" in missing.stderr
