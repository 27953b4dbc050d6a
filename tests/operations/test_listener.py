"""`cartflow serve` listens on a socket created as TCP, so that answers on keep-alive connections
are not held back by Nagle's algorithm (uvicorn issue #3149, docs/operations.md)."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cartflow.db.migrate import upgrade
from cartflow.operations.server import tcp_listener


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


def test_serve_with_two_workers_answers_keep_alive_requests_without_delay(
    own_database: str, tmp_path: Path
) -> None:
    upgrade(own_database)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _serve(own_database, port, 2, tmp_path / "server.log")
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
