"""Commands that act as a user follow the log-in lock-out: wrong passwords count, a locked account
is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import Role, User
from tests.factories import PASSWORD, make_network, make_user


@pytest.fixture
def planner_db(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'lock.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        net = make_network(session, "10C4ED")
        username = make_user(session, Role.PLANNER, site=net.site).username
    engine.dispose()
    return url, username


def _export(url: str, username: str, password: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cartflow.cli.main",
            "schedule",
            "export-instance",
            "-o",
            str(out),
            "--user",
            username,
            "--password-stdin",
        ],
        env={
            "CARTFLOW_DATABASE_URL": url,
            "PATH": "/usr/bin:/bin",
            "CARTFLOW_MAX_FAILED_LOGINS": "3",
        },
        input=password + "\n",
        capture_output=True,
        text=True,
        check=False,
    )


def test_wrong_passwords_lock_the_command_line_too(
    planner_db: tuple[str, str], tmp_path: Path
) -> None:
    url, username = planner_db
    out = tmp_path / "instance.json"
    for _ in range(3):
        refused = _export(url, username, "not-the-password", out)
        assert refused.returncode == 2 and "wrong username or password" in refused.stderr
    locked = _export(url, username, PASSWORD, out)
    assert locked.returncode == 2 and "locked" in locked.stderr
    assert not out.exists()
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        assert user.locked_until is not None
    engine.dispose()
