"""`cartflow serve` listens on a socket created as TCP, so that answers on keep-alive connections
are not held back by Nagle's algorithm (uvicorn issue #3149, docs/operations.md)."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cartflow.db.migrate import upgrade
from cartflow.operations.server import reuse_port_listeners, tcp_listener


def _nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection that asyncio accepted on `listener`."""

    async def run() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connection(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connection, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(run())


def test_connections_accepted_on_the_listener_have_nagle_off() -> None:
    assert _nodelay_of_accepted(tcp_listener("127.0.0.1", 0)) == 1
    # What uvicorn's supervisor binds (protocol 0): asyncio leaves Nagle on.
    stock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stock.bind(("127.0.0.1", 0))
    assert _nodelay_of_accepted(stock) == 0


def _serve(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "cartflow.cli.main", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env={**os.environ, "CARTFLOW_DATABASE_URL": url},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    # Two spawned workers import the whole app: minutes on a loaded two-core machine.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")


def _serve_on_a_free_port(url: str, log: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """`cartflow serve --workers 2` on a port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return port, _serve(url, port, 2, log)


def test_serve_with_two_workers_answers_keep_alive_requests_without_delay(
    own_database: str, tmp_path: Path
) -> None:
    upgrade(own_database)
    port, server = _serve_on_a_free_port(own_database, tmp_path / "server.log")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times = []
        for _ in range(30):  # one connection, kept alive
            began = time.perf_counter()
            connection.request("GET", "/api/v1/health")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            times.append(time.perf_counter() - began)
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # With the stock listener each of these waits about 40 ms for the client's delayed ACK; the
    # health check itself takes 1-3 ms (more on a busy machine, but not 40 ms at the median).
    assert statistics.median(times[1:]) < 0.025, times


def test_serve_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "CARTFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
        for language, expected in (("en", "cannot listen on"), ("ru", "не удаётся принимать")):
            result = subprocess.run(
                [sys.executable, "-m", "cartflow.cli.main", "serve", "--port", str(port)],
                env={**env, "CARTFLOW_LANG": language},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 2
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
            assert f"127.0.0.1:{port}" in lines[0]


def test_a_second_group_cannot_take_a_port_that_is_listened_on() -> None:
    first = reuse_port_listeners("127.0.0.1", 0, 2)
    try:
        for sock in first:
            sock.listen()
        port = first[0].getsockname()[1]
        # Another cartflow server started on the same port by mistake must fail, not silently
        # take half of the first one's connections.
        with pytest.raises(OSError):
            reuse_port_listeners("127.0.0.1", port, 2)
    finally:
        for sock in first:
            sock.close()


def test_new_connections_are_spread_over_the_workers_listeners() -> None:
    listeners = reuse_port_listeners("127.0.0.1", 0, 2)
    port = listeners[0].getsockname()[1]
    clients = []
    try:
        for sock in listeners:
            sock.listen(128)
            sock.setblocking(False)
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        accepted = [0, 0]
        deadline = time.monotonic() + 10
        while sum(accepted) < 64 and time.monotonic() < deadline:
            for index, sock in enumerate(listeners):
                try:
                    connection, _ = sock.accept()
                except BlockingIOError:
                    continue
                connection.close()
                accepted[index] += 1
        assert sum(accepted) == 64
        # The kernel hashes each connection to one listener: all 64 on one of two is 2^-63.
        assert min(accepted) > 0, accepted
    finally:
        for sock in [*clients, *listeners]:
            sock.close()


def _workers(supervisor: int) -> set[int]:
    """The worker processes (multiprocessing's spawned children) of uvicorn's supervisor."""
    found = set()
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.add(int(child))
            except OSError:
                continue
    return found


def _all_answer(port: int, connections: int) -> bool:
    """`connections` new connections (spread over both listeners) each get a health answer."""
    for _ in range(connections):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
            connection.request("GET", "/api/v1/health")
            ok = connection.getresponse().status == 200
            connection.close()
        except OSError:
            return False
        if not ok:
            return False
    return True


def test_a_killed_worker_is_replaced_on_its_own_listener(own_database: str, tmp_path: Path) -> None:
    upgrade(own_database)
    port, server = _serve_on_a_free_port(own_database, tmp_path / "server.log")
    try:
        deadline = time.monotonic() + 240
        while len(before := _workers(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(before) == 2 and _all_answer(port, 16)
        os.kill(min(before), signal.SIGKILL)
        # Until the replacement has started, connections hashed to the dead worker's listener
        # wait in its queue; then every new connection is answered again.
        while time.monotonic() < deadline:
            after = _workers(server.pid)
            if len(after) == 2 and min(before) not in after and _all_answer(port, 32):
                break
            time.sleep(0.5)
        else:
            raise AssertionError((tmp_path / "server.log").read_text()[-2000:])
    finally:
        server.terminate()
        server.wait(timeout=60)
