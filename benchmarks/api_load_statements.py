"""SQL statements and CPU per request of each kind of the load benchmark, one request at a time.

Run: .venv/bin/python benchmarks/api_load_statements.py [--requests 200] [--pg ADMIN_URL]

The same PostgreSQL set-up and workload as `api_load.py`, but in one process, through Starlette's
TestClient, one request after another: the count of SQL statements (round trips to the database)
per request and the process's CPU per request hardly depend on what else the machine is doing, so
they compare two versions of the code on a busy machine where throughput and latency do not.
The CPU includes the test client's own work (about the same for every version).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from benchmarks.api_load import API, EXPECTED, LABELS, Workload
from benchmarks.api_load_seed import PASSWORD, seed
from cartflow.app import create_app
from cartflow.config import Settings
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade

KINDS = ["health", "scan", "custody", "toxicity", "episodes", "worklist"]


def measure(url: str, requests: int, console: Console) -> Table:
    data = seed(url, booked=max(4, requests // 10 + 1), infused=8)
    app = create_app(Settings(database_url=url, environment="test"))
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(app.state.engine, "before_cursor_execute", count)
    work = Workload(data)
    table = Table(title=f"one request at a time, in-process, {requests} requests per kind")
    for column in ("kind", "SQL statements / request", "CPU ms / request", "wall ms / request"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    with TestClient(app) as client:
        login = {"username": data.usernames[0], "password": PASSWORD}
        token = client.post(f"{API}/auth/login", json=login).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for kind in KINDS:
            for _ in range(5):  # warm-up: imports, caches, the pool's first connections
                _send(client, work, kind, headers)
            statements = 0
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(requests):
                _send(client, work, kind, headers)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            table.add_row(
                LABELS[kind],
                f"{statements / requests:.1f}",
                f"{1000 * cpu / requests:.2f}",
                f"{1000 * wall / requests:.2f}",
            )
            console.print(f"{kind}: done")
    app.state.engine.dispose()
    return table


def _send(client: TestClient, work: Workload, kind: str, headers: dict[str, str]) -> None:
    request = work.request(kind)
    if request is None:
        raise SystemExit(f"the seed ran out of bags for {kind}: raise --requests' bags")
    method, path, body = request
    response = client.request(method, path, json=body, headers=headers)
    if response.status_code != EXPECTED[kind]:
        raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="admin URL"
    )
    args = parser.parse_args()
    admin_url = make_url(args.pg)
    if admin_url.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg must be a loopback PostgreSQL server")
    console = Console(width=120)
    name = f"cartflow_statements_{os.getpid()}"
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    admin = make_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        console.print(measure(url, args.requests, console))
        console.print(f"machine load average (1 min): {os.getloadavg()[0]:.1f}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
