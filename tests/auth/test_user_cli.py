"""`cartflow user deactivate|unlock|list` and `cartflow audit history`: the same rules as the API
(a network admin acts, with a reason; refusals are one line on stderr and exit 2)."""

from __future__ import annotations

from sqlalchemy import select

from cartflow.audit.service import SYSTEM_ACTOR
from cartflow.auth.service import RoleGrant, create_user
from cartflow.db.base import utcnow
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import Role, User
from tests.audit.fresh_db import fresh_url, run_cli

__all__ = ["fresh_url"]

ADMIN_PASSWORD = "network-admin-passphrase"


def _seed(url: str) -> str:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        create_user(
            session,
            actor=SYSTEM_ACTOR,
            username="root",
            full_name="Root Admin",
            password=ADMIN_PASSWORD,
            grants=[RoleGrant(Role.ADMIN)],
        )
        anna = create_user(
            session,
            actor=SYSTEM_ACTOR,
            username="anna",
            full_name="Anna Courier",
            password="courier-passphrase-2026",
            grants=[RoleGrant(Role.COURIER)],
        )
        anna.locked_until = utcnow().replace(year=utcnow().year + 1)
        anna_id = str(anna.id)
    engine.dispose()
    return anna_id


def _user(url: str, username: str) -> User:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
    engine.dispose()
    return user


def test_unlock_deactivate_list_and_history(fresh_url: str) -> None:
    anna_id = _seed(fresh_url)
    listed = run_cli(fresh_url, ["user", "list"])
    assert listed.exit_code == 0
    assert "anna\tactive,locked\tcourier\tAnna Courier" in listed.stdout

    as_root = ["--user", "root", "--password-stdin"]
    unlocked = run_cli(
        fresh_url, ["user", "unlock", "anna", "--reason", "called in", *as_root], ADMIN_PASSWORD
    )
    assert unlocked.exit_code == 0, unlocked.stderr
    assert _user(fresh_url, "anna").locked_until is None

    gone = run_cli(
        fresh_url, ["user", "deactivate", "anna", "--reason", "left", *as_root], ADMIN_PASSWORD
    )
    assert gone.exit_code == 0, gone.stderr
    assert _user(fresh_url, "anna").is_active is False
    assert "anna\tinactive\tcourier" in run_cli(fresh_url, ["user", "list"]).stdout

    history = run_cli(fresh_url, ["audit", "history", "user", anna_id, *as_root], ADMIN_PASSWORD)
    assert history.exit_code == 0, history.stderr
    lines = history.stdout.splitlines()
    assert [line.split()[3] for line in lines] == ["create", "unlock", "deactivate"]
    assert "reason='left'" in lines[2] and " root " in lines[2]


def test_refusals_are_one_line_exit_2(fresh_url: str) -> None:
    anna_id = _seed(fresh_url)
    cases = [
        (["user", "deactivate", "anna", "--reason", "x", "--user", "root", "--password-stdin"],
         "wrong", "wrong username or password"),
        (["user", "deactivate", "anna", "--reason", "x", "--user", "anna", "--password-stdin"],
         "courier-passphrase-2026", "the account is locked"),  # anna is locked by _seed
        (["user", "unlock", "nobody", "--reason", "x", "--user", "root", "--password-stdin"],
         ADMIN_PASSWORD, "no user 'nobody'"),
        (["user", "deactivate", "root", "--reason", "x", "--user", "root", "--password-stdin"],
         ADMIN_PASSWORD, "your own account"),
        (["audit", "history", "patient", anna_id, "--user", "root", "--password-stdin"],
         ADMIN_PASSWORD, "clinical role"),
    ]  # fmt: skip
    for args, password, message in cases:
        result = run_cli(fresh_url, args, password)
        assert result.exit_code == 2, (args, result.stdout)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
