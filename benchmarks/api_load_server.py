"""The load benchmark's server: uvicorn workers on a loopback port, started as a process of their
own, and the CPU time that the server and the database spend (Linux /proc).

Run as a script, it is the server process: `python api_load_server.py APP PORT WORKERS`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

API = "/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(app: str, port: int, workers: int) -> None:
    """`cartflow serve`'s way: uvicorn's supervisor on a listener created as TCP (IPPROTO_TCP),
    see `cartflow.operations.server`; `--stock-listener` starts `uvicorn --workers N` instead."""
    from cartflow.operations.server import serve as serve_app

    serve_app(
        host="127.0.0.1",
        port=port,
        workers=workers,
        app=app,
        log_level="warning",
        access_log=False,
    )


def start_server(
    url: str, port: int, workers: int, log: Path, app: str, *, stock_listener: bool
) -> subprocess.Popen[bytes]:
    if stock_listener:
        command = [sys.executable, "-m", "uvicorn", "--factory", app]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        command += [
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-worker-healthcheck",
            "60",
        ]
    else:
        command = [sys.executable, __file__, app, str(port), str(workers)]
    process = subprocess.Popen(
        command,
        env={**os.environ, "CARTFLOW_DATABASE_URL": url},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{API}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def _cpu_of(proc: Path) -> float:
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants (Linux /proc): the server's cost
    per request, whatever else the machine's cores are doing."""
    total, stack = 0.0, [pid]
    while stack:
        proc = Path("/proc") / str(stack.pop())
        try:
            total += _cpu_of(proc)
            for task in (proc / "task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def database_cpu(name: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving database `name` (their process
    titles name it), by process id."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
            if title.startswith(b"postgres: ") and f" {name} ".encode() in title:
                found[int(proc.name)] = _cpu_of(proc)
        except (OSError, ValueError):
            continue
    return found


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two `database_cpu` readings; a backend that ended in between is not
    counted, so this is a floor."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
