"""`cartflow demo`: build the database, seed the demo network (once), print the log-ins, serve."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from cartflow.cli.common import fail
from cartflow.cli.foundation import _settings, serve
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.demo.seed import DEMO_PASSWORD, DemoLogin, seed_demo
from cartflow.i18n import _, gettext
from cartflow.models import RoleAssignment, User


def demo(
    port: int | None = typer.Option(None, help="port to serve on (default 8000)"),
    host: str | None = typer.Option(None, help="address to serve on (default 127.0.0.1)"),
    episodes: int = typer.Option(200, min=0, max=5000, help="synthetic episodes to seed"),
    reset: bool = typer.Option(False, help="delete the SQLite demo database first"),
    no_serve: bool = typer.Option(False, "--no-serve", help="seed and print log-ins only"),
) -> None:
    """Create the database, seed the demo network with synthetic patients, and serve it."""
    console = Console()
    settings = _settings()
    url = make_url(settings.database_url)
    if reset:
        if url.get_backend_name() != "sqlite" or not url.database:
            fail(_("--reset deletes only a SQLite demo database file"))
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    try:
        upgrade(settings.database_url)
    except OperationalError as exc:
        fail(_("cannot reach the database: {error}", error=str(exc.orig).splitlines()[0]))
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        seeded = session.execute(select(func.count(User.id))).scalar_one() > 0
    if not seeded:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(gettext("Seeding the demo network"), total=episodes)
            with session_scope(factory) as session:
                seed_demo(
                    session,
                    today=dt.datetime.now(dt.UTC).date(),
                    episodes=episodes,
                    progress=lambda done, _total: bar.update(task, completed=done),
                )
    with session_scope(factory) as session:
        logins = _logins(session)
    engine.dispose()
    table = Table(
        title=gettext("Demo log-ins (password for all: {password})", password=DEMO_PASSWORD)
    )
    for column in ("username", "role", "scope"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.role, login.scope)
    console.print(table)
    console.print(gettext("All patients in the demo are synthetic."))
    if no_serve:
        return
    console.print(
        gettext(
            "Serving on {url} (API documentation at /docs)",
            url=f"http://{host or settings.host}:{port or settings.port}/",
        )
    )
    serve(host=host, port=port, workers=1)


def _logins(session: object) -> list[DemoLogin]:
    from sqlalchemy.orm import Session, selectinload

    assert isinstance(session, Session)
    users = session.execute(
        select(User).options(selectinload(User.roles)).order_by(User.username)
    ).scalars()
    out: list[DemoLogin] = []
    for user in users:
        for grant in user.roles:
            out.append(DemoLogin(user.username, grant.role.value, _scope(session, grant)))
    return out


def _scope(session: object, grant: RoleAssignment) -> str:
    from sqlalchemy.orm import Session

    from cartflow.models import ManufacturingSite, TreatmentCenter

    assert isinstance(session, Session)
    if grant.center_id is not None:
        center = session.get(TreatmentCenter, grant.center_id)
        return center.code if center else "?"
    if grant.site_id is not None:
        site = session.get(ManufacturingSite, grant.site_id)
        return site.code if site else "?"
    return "network"
