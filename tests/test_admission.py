"""The app's guards: the body-size limit (413) and the admission limit (queue, then 503).

The admission tests run the real app under a real uvicorn server (in a thread of the test, on a
database of their own) and hold the requests inside the app with a real database lock taken by
the test: PostgreSQL, an exclusive lock on the users table; SQLite, the database's write lock
(every transaction of the app begins IMMEDIATE). Nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cartflow.app import create_app
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import Role
from cartflow.operations.server import tcp_listener
from tests.conftest import BACKEND, _create_pg_database, _drop_pg_database
from tests.factories import make_user, token_for

ME = "/api/v1/auth/me"
HEALTH = "/api/v1/health"


# --- the body-size limit ----------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_in_the_readers_language(client: TestClient) -> None:
    body = b"{" + b" " * 2_000_000 + b"}"
    headers = {"content-type": "application/json"}
    english = client.post("/api/v1/auth/login", content=body, headers=headers)
    russian = client.post(
        "/api/v1/auth/login", content=body, headers={**headers, "Accept-Language": "ru"}
    )
    assert english.status_code == russian.status_code == 413
    assert english.json() == {
        "code": "BODY-TOO-LARGE",
        "message": "request body over 1000000 bytes",
    }
    assert russian.json() == {
        "code": "BODY-TOO-LARGE",
        "message": "тело запроса больше 1000000 байт",
    }
    assert russian.headers["content-language"] == "ru"


def test_a_chunked_body_is_cut_off_at_the_limit(client: TestClient) -> None:
    read = 0

    def chunks() -> Iterator[bytes]:
        nonlocal read
        yield b'{"username": "'
        for _ in range(40):
            read += 1
            yield b"x" * 50_000
        yield b'", "password": "x"}'

    response = client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "BODY-TOO-LARGE"


def test_a_body_within_the_limit_passes(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/login",
        content=b'{"username": "nobody", "password": "wrong"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 401


def test_a_malformed_content_length_is_refused() -> None:
    # Bypasses the HTTP client, which would not send such a header: the app as ASGI.
    settings = Settings(environment="test", database_url="sqlite://")
    app = create_app(settings)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/auth/login",
        "raw_path": b"/api/v1/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", b"-1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    app.state.engine.dispose()


# --- the admission limit ----------------------------------------------------------------------


class Served:
    def __init__(self, base: str, token: str, url: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.url = url

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.base + path, headers={**self.headers, **headers}, timeout=60)


@pytest.fixture
def own_url(tmp_path: Path) -> Iterator[str]:
    if BACKEND == "postgresql":
        name = f"cartflow_admission_{uuid.uuid4().hex[:8]}"
        url = _create_pg_database(name)
        upgrade(url)
        yield url
        _drop_pg_database(name)
    else:
        url = f"sqlite:///{tmp_path / 'admission.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture
def serve(own_url: str) -> Iterator[Callable[..., Served]]:
    """Start the app under uvicorn with the given settings; stopped at the end of the test."""
    engine = make_engine(own_url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = token_for(session, make_user(session, Role.ADMIN))
    engine.dispose()
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: object) -> Served:
        settings = Settings(environment="test", database_url=own_url, **overrides)  # type: ignore[arg-type]
        app = create_app(settings)
        sock = tcp_listener("127.0.0.1", 0)
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return Served(f"http://127.0.0.1:{port}", token, own_url)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def database_held(url: str) -> Iterator[Callable[[int], None]]:
    """Hold a lock that stops every authenticated request inside the app, at its first query.
    Yields `wait_for(n)`: returns once n requests are blocked on the lock (PostgreSQL tells;
    SQLite does not, so it waits a while)."""
    if BACKEND == "postgresql":
        engine = make_engine(url)
        name = make_url(url).database
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(text("LOCK TABLE app_user IN ACCESS EXCLUSIVE MODE"))

            def wait_for(n: int) -> None:
                deadline = time.monotonic() + 30
                query = text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = :name AND wait_event_type = 'Lock'"
                )
                while watcher.execute(query, {"name": name}).scalar_one() < n:
                    assert time.monotonic() < deadline, f"{n} request(s) never reached the lock"
                    watcher.rollback()
                    time.sleep(0.05)
                watcher.rollback()

            try:
                yield wait_for
            finally:
                holder.rollback()
        engine.dispose()
    else:
        path = make_url(url).database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield lambda _n: time.sleep(1.5)
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_requests_beyond_the_limit_wait_their_turn_and_the_queue_is_bounded(
    serve: Callable[..., Served],
) -> None:
    served = serve(admission_limit=1, admission_queue=1, admission_wait_seconds=60)
    with ThreadPoolExecutor(4) as pool:
        with database_held(served.url) as wait_for:
            first = pool.submit(served.get, ME)
            wait_for(1)  # the first is in the app, stopped at the lock
            second = pool.submit(served.get, ME)
            time.sleep(1.0)  # the second waits at the door (it never reaches the lock)
            assert not second.done()
            third = served.get(ME)
            third_ru = served.get(ME, **{"Accept-Language": "ru"})
            health = served.get(HEALTH)
            assert not first.done() and not second.done()
        assert first.result().status_code == 200, first.result().text
        assert second.result().status_code == 200, second.result().text
    assert third.status_code == third_ru.status_code == 503
    assert third.headers["retry-after"] == third_ru.headers["retry-after"] == "15"
    assert third.json() == {"code": "SERVER-BUSY", "message": "the server is busy; retry in 15 s"}
    assert third_ru.json() == {
        "code": "SERVER-BUSY",
        "message": "сервер перегружен; повторите через 15 с",
    }
    # The health check is exempt: a busy process is not a dead one.
    assert health.status_code == 200


def test_a_wait_longer_than_the_limit_is_refused_and_frees_its_place(
    serve: Callable[..., Served],
) -> None:
    served = serve(admission_limit=1, admission_queue=5, admission_wait_seconds=1.0)
    with ThreadPoolExecutor(2) as pool:
        with database_held(served.url) as wait_for:
            first = pool.submit(served.get, ME)
            wait_for(1)
            began = time.monotonic()
            late = served.get(ME)
            waited = time.monotonic() - began
        assert first.result().status_code == 200
    assert late.status_code == 503 and late.headers["retry-after"] == "1"
    assert 0.9 <= waited < 20
    # The refused waiter left the queue: the next request is admitted at once.
    assert served.get(ME).status_code == 200


def test_many_clients_on_a_small_pool_all_get_answers(serve: Callable[..., Served]) -> None:
    """100 concurrent clients against a pool of 2 connections and FastAPI's 40 threads: without
    the limit every thread ends up waiting for a connection held by a request that waits for a
    thread, until the pool's 30 s timeout (500; seen with `admission_limit=1000`); with it, all
    are answered."""
    served = serve(db_pool_size=1, db_max_overflow=1, admission_wait_seconds=60)
    with ThreadPoolExecutor(100) as pool:
        answers: list[Future[httpx.Response]] = [pool.submit(served.get, ME) for _ in range(120)]
        statuses = [a.result().status_code for a in answers]
    assert statuses == [200] * 120
