"""Web test fixtures: a migrated database of the web tests' own, seeded once and committed (the
live server runs in another thread, so the per-test rollback of `session` cannot hold its data);
the real app served by uvicorn on a free port; Debian's Chromium driven by Playwright.

PostgreSQL is used when CARTFLOW_TEST_DATABASE=postgresql (a database of its own on the same
server as the root conftest's), SQLite otherwise.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from cartflow.app import create_app
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from tests.conftest import BACKEND, _create_pg_database, _drop_pg_database
from tests.web.seed import WebSeed, seed

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def web_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "postgresql":
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"cartflow_web_{worker}_{os.getpid()}"
        url = _create_pg_database(name)
        upgrade(url)
        yield url
        _drop_pg_database(name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def web_seed(web_database_url: str) -> WebSeed:
    engine = make_engine(web_database_url)
    with Session(engine, expire_on_commit=False) as session:
        data = seed(session)
        session.commit()
    engine.dispose()
    return data


class DbReader:
    """Reads the live server's database, each read in a transaction of its own that ends at
    once: SQLite transactions here begin IMMEDIATE, and one left open would block the server."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def scalar(self, statement: Executable) -> Any:
        with Session(self.engine) as session:
            return session.execute(statement).scalar_one()

    def get(self, model: type[T], ident: object) -> T | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(model, ident)


@pytest.fixture
def web_db(web_database_url: str) -> Iterator[DbReader]:
    """To check what a page did (or did not) write."""
    engine = make_engine(web_database_url)
    yield DbReader(engine)
    engine.dispose()


class LiveServer:
    def __init__(self, url: str, seed: WebSeed) -> None:
        self.url = url
        self.seed = seed


@pytest.fixture(scope="session")
def live_server(web_database_url: str, web_seed: WebSeed) -> Iterator[LiveServer]:
    app = create_app(Settings(environment="test", database_url=web_database_url))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", web_seed)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is missing: run scripts/ensure-chromium")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests leave their screenshots (CARTFLOW_SCREENSHOTS to keep them)."""
    keep = os.environ.get("CARTFLOW_SCREENSHOTS")
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp(f"shots-{uuid.uuid4().hex[:4]}")
