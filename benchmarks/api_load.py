"""Load on the HTTP API over loopback: throughput and p50/p95/p99 latency per request kind.

Run: .venv/bin/python benchmarks/api_load.py [--clients 8,32,128] [--workers 2]
     [--requests 800] [--seconds 15] [--pace 1]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It creates a PostgreSQL database of its own on the server given by ``--pg`` (dropped at the end),
migrates it, seeds the demo network (``cartflow.demo.seed.seed_demo`` with no episodes) plus
synthetic episodes at the states the workload needs, all through the services, then starts the
app with uvicorn (``--workers`` processes) on a free 127.0.0.1 port and, for each client count:

- ``health``: ``GET /api/v1/health`` alone, the ceiling of this server on this machine;
- ``scan (alone)``: scan verifications alone: a nurse scans another patient's collection bag at a
  collection hand-off; the hard stop answers 409, moves nothing, and opens a deviation;
- ``mixed``: 30% scan verifications, 20% custody events (a bag's collection scan, 201), 20% CRS
  assessments on infused episodes (201), 20% ``GET /episodes?state=slot_booked`` and 10% the
  clinicians' toxicity worklist, interleaved on every client;
- ``paced``: scan verifications at ``--pace`` a second per client on a fixed schedule (open loop),
  each latency counted from the request's scheduled time (docs/operations.md, "Load").

A closed-loop phase stops after ``max(--requests, 8 x clients)`` requests or ``--seconds``,
whichever comes first; the paced phase runs ``--seconds``. Clients log in once (argon2 is slow by
design) and reuse their bearer token, each on one kept-alive connection
(``benchmarks/api_load_client.py``). After the run the database is checked: one custody event per
201 scan, one deviation per refused scan, and an intact audit chain. The load generator (one
process on uvloop) shares the machine's cores with the server, so the figures are a floor for a
server with cores of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from benchmarks.api_load_client import NoAnswer, WireClient, run
from benchmarks.api_load_seed import BAGS_PER_EPISODE, PASSWORD, Seed, seed
from benchmarks.api_load_server import (
    cpu_since,
    database_cpu,
    free_port,
    server_cpu,
    start_server,
)
from cartflow.audit.service import verify_audit_trail
from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models.clinical_toxicity import ToxicityAssessment
from cartflow.models.custody import CustodyDeviation, CustodyEvent

API = "/api/v1"
GRADE_2_CRS = {"temperature_c": 38.2, "hypotension": "none", "oxygen": "low_flow"}
MIX = ["scan", "custody", "toxicity", "episodes", "scan", "custody", "toxicity", "episodes"]
MIX += ["scan", "worklist"]
EXPECTED = {"health": 200, "scan": 409, "custody": 201, "toxicity": 201}
EXPECTED |= {"episodes": 200, "worklist": 200}
LABELS = {
    "health": "health (ceiling)",
    "scan": "scan verification (409)",
    "custody": "custody event (201)",
    "toxicity": "toxicity entry (201)",
    "episodes": "worklist: episodes?state",
    "worklist": "worklist: toxicity",
    "all": "all kinds together",
}


@dataclass
class Phase:
    """What one phase measured: per kind, latencies (s) and unexpected answers."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the server's processes (all workers), during the phase
    client_cpu_seconds: float = 0.0  # this process: the load generator's own cost
    db_cpu_seconds: float = 0.0  # the PostgreSQL backends of the benchmark's database
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    # Requests that got no HTTP answer: (kind, exception class, seconds until it was raised).
    failures: list[tuple[str, str, float]] = field(default_factory=list)


class Workload:
    """Turns a request kind into a request; custody bags are each scanned once."""

    def __init__(self, data: Seed) -> None:
        self.data = data
        self.bags: Iterator[tuple[str, str]] = iter(data.bags)
        self.n = 0

    def request(self, kind: str) -> tuple[str, str, object] | None:
        self.n += 1
        booked, infused = self.data.booked, self.data.infused
        if kind == "health":
            return "GET", f"{API}/health", None
        if kind == "scan":
            ep = booked[self.n % len(booked)]
            body = {"step": "collection", "scans": [self.data.foreign[ep]], "location": "ward"}
            return "POST", f"{API}/custody/episodes/{ep}/handoffs", body
        if kind == "custody":
            bag = next(self.bags, None)
            if bag is None:
                return None
            body = {"step": "collection", "scans": [bag[1]], "location": "apheresis unit"}
            return "POST", f"{API}/custody/episodes/{bag[0]}/handoffs", body
        if kind == "toxicity":
            ep = infused[self.n % len(infused)]
            entry = {"assessed_at": dt.datetime.now(dt.UTC).isoformat(), "crs": GRADE_2_CRS}
            return "POST", f"{API}/clinical/episodes/{ep}/toxicity-assessments", entry
        if kind == "episodes":
            return "GET", f"{API}/episodes?state=slot_booked&limit=50", None
        return "GET", f"{API}/clinical/worklists/toxicity", None


async def run_phase(
    port: int,
    tokens: list[str],
    kinds: list[str],
    work: Workload,
    *,
    total: int,
    seconds: float,
    server_pid: int,
    database: str,
    pace: float | None = None,
) -> Phase:
    """Each client sends its next request when the last answer arrives (closed loop) or, with
    `pace`, at `pace` requests a second on a fixed schedule (open loop): a late answer delays the
    next send, and each latency is counted from the request's *scheduled* time, so a slow
    server is not hidden by clients that waited for it (no "coordinated omission")."""
    phase = Phase()
    cpu_before, client_before = server_cpu(server_pid), time.process_time()
    db_before = database_cpu(database)
    issued = 0
    clients = [WireClient("127.0.0.1", port, token) for token in tokens]
    deadline = time.monotonic() + seconds

    async def one_client(index: int) -> None:
        nonlocal issued
        client, step = clients[index], index
        # Paced clients start spread over one interval, not in a burst.
        scheduled = time.perf_counter() + (index / len(clients) / pace if pace else 0.0)
        while issued < total and time.monotonic() < deadline:
            kind = kinds[step % len(kinds)]
            step += 1
            planned = work.request(kind)
            if planned is None:
                return
            issued += 1
            method, path, body = planned
            if pace:
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
                started = scheduled
                scheduled += 1 / pace
            else:
                started = time.perf_counter()
            try:
                status = await client.request(method, path, body)
            except NoAnswer as exc:
                status = 0
                phase.failures.append((kind, str(exc), time.perf_counter() - started))
            phase.latencies[kind].append(time.perf_counter() - started)
            phase.statuses[(kind, status)] += 1
            if status != EXPECTED[kind]:
                phase.errors[kind] += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(one_client(i) for i in range(len(clients))))
    finally:
        for client in clients:
            client.close()
    phase.seconds = time.perf_counter() - started
    phase.cpu_seconds = server_cpu(server_pid) - cpu_before
    phase.db_cpu_seconds = cpu_since(db_before, database_cpu(database))
    phase.client_cpu_seconds = time.process_time() - client_before
    return phase


async def log_in(base: str, usernames: list[str], count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        gate = asyncio.Semaphore(4)

        async def one(n: int) -> str:
            async with gate:
                body = {"username": usernames[n % len(usernames)], "password": PASSWORD}
                response = await client.post(f"{API}/auth/login", json=body)
                response.raise_for_status()
                return str(response.json()["token"])

        return list(await asyncio.gather(*(one(n) for n in range(count))))


def quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile (no interpolation: p99 is a latency some request really had)."""
    rank = max(1, -(-len(sorted_values) * q // 1))
    return sorted_values[int(rank) - 1]


@dataclass
class Row:
    clients: int
    phase: str
    kind: str
    count: int
    errors: int
    rate: float
    p50: float
    p95: float
    p99: float
    cpu_ms: float | None  # server CPU per request of the phase (all kinds together)
    client_ms: float | None  # load generator CPU per request of the phase
    db_ms: float | None  # PostgreSQL CPU per request of the phase


def rows_of(clients: int, name: str, phase: Phase) -> list[Row]:
    everything = [v for values in phase.latencies.values() for v in values]
    per_request = 1000 / max(1, len(everything))
    cpu = (
        per_request * phase.cpu_seconds,
        per_request * phase.client_cpu_seconds,
        per_request * phase.db_cpu_seconds,
    )

    def row(kind: str, values: list[float], errors: int, costs: tuple[float | None, ...]) -> Row:
        ordered = sorted(values)
        p50, p95, p99 = (1000 * quantile(ordered, q) for q in (0.5, 0.95, 0.99))
        rate = len(values) / phase.seconds
        return Row(clients, name, kind, len(values), errors, rate, p50, p95, p99, *costs)

    kinds = [k for k in LABELS if k in phase.latencies]
    if len(kinds) == 1:
        return [row(kinds[0], everything, phase.errors[kinds[0]], cpu)]
    rows = [row(k, phase.latencies[k], phase.errors[k], (None, None, None)) for k in kinds]
    return [*rows, row("all", everything, sum(phase.errors.values()), cpu)]


def check_database(url: str, statuses: dict[tuple[str, int], int]) -> list[str]:
    """Every acknowledged write is stored; a write whose answer never came (status 0) may or may
    not be; nothing else is; and the audit chain verifies."""
    engine = make_engine(url)
    lines = []
    with session_scope(make_sessionmaker(engine)) as session:
        counts = {
            "custody events": (CustodyEvent, "custody", 201),
            "deviations": (CustodyDeviation, "scan", 409),
            "toxicity assessments": (ToxicityAssessment, "toxicity", 201),
        }
        for label, (model, kind, status) in counts.items():
            acknowledged, unanswered = statuses[(kind, status)], statuses[(kind, 0)]
            stored = session.execute(select(func.count()).select_from(model)).scalar_one()
            ok = acknowledged <= stored <= acknowledged + unanswered
            lines.append(
                f"{label}: {stored} stored, {acknowledged} acknowledged, {unanswered} unanswered: "
                + ("ok" if ok else "MISMATCH")
            )
        chain = verify_audit_trail(session)
        lines.append(
            f"audit chain: {chain.verified} events, " + ("intact" if chain.ok else str(chain))
        )
    engine.dispose()
    return lines


def report(console: Console, rows: list[Row], title: str) -> None:
    table = Table(title=title)
    for col in ("clients", "phase", "kind", "requests", "errors", "req/s"):
        table.add_column(col, justify="left" if col in ("phase", "kind") else "right")
    for col in ("p50 ms", "p95 ms", "p99 ms", "srv CPU", "db CPU", "gen CPU"):
        table.add_column(col, justify="right")
    last = None
    for r in rows:
        if last is not None and r.clients != last:
            table.add_section()
        last = r.clients
        table.add_row(
            str(r.clients),
            r.phase,
            LABELS[r.kind],
            str(r.count),
            str(r.errors),
            f"{r.rate:,.0f}",
            f"{r.p50:.1f}",
            f"{r.p95:.1f}",
            f"{r.p99:.1f}",
            "" if r.cpu_ms is None else f"{r.cpu_ms:.1f}",
            "" if r.db_ms is None else f"{r.db_ms:.1f}",
            "" if r.client_ms is None else f"{r.client_ms:.1f}",
        )
    console.print(table)
    console.print(
        "srv / db / gen CPU: milliseconds of CPU per request of the phase (all kinds of a mixed "
        "phase together) used by the server's processes / PostgreSQL / this load generator; "
        "errors: answers other than the expected one (status 0: no answer; each is named below)"
    )


def targets(rows: list[Row], clients: int) -> list[str]:
    by = {(r.phase, r.kind): r for r in rows if r.clients == clients}
    scan, health = by.get(("alone", "scan")), by.get(("alone", "health"))
    if scan is None or health is None:
        return [f"targets: no run at {clients} clients"]
    ratio = scan.rate / health.rate
    lines = [
        f"scan verification p99 at {clients} clients, closed loop: {scan.p99:.1f} ms "
        "(target <= 50 ms): " + ("met" if scan.p99 <= 50 else "MISSED"),
        f"scan verification throughput: {scan.rate:,.0f} req/s = {ratio:.2f} x health "
        f"{health.rate:,.0f} req/s (target >= 0.50): " + ("met" if ratio >= 0.5 else "MISSED"),
    ]
    paced = by.get(("paced", "scan"))
    if paced is not None:
        lines.append(
            f"scan verification p99 at {clients} clients paced at {paced.rate:,.0f} req/s in all: "
            f"{paced.p99:.1f} ms (target <= 50 ms): " + ("met" if paced.p99 <= 50 else "MISSED")
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", default="8,32,128")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=800, help="per phase, at least 8/client")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase, at most")
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="scans a second per client in the paced phase (0: no paced phase)",
    )
    parser.add_argument(
        "--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="admin URL"
    )
    parser.add_argument(
        "--app", default="cartflow.app:create_app", help="app factory, to compare a variant"
    )
    parser.add_argument(
        "--stock-listener",
        action="store_true",
        help="start `uvicorn --workers N` as is (+40 ms per keep-alive request on Linux)",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    admin_url = make_url(args.pg)
    if admin_url.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--pg must be a loopback PostgreSQL server")
    console = Console(width=140)
    name = f"cartflow_load_{os.getpid()}"
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    admin = make_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server = None
    try:
        upgrade(url)
        totals = [max(args.requests, 8 * c) for c in levels]
        # Bags for every custody scan the mixed phases may ask for (a fifth of their requests).
        booked = max(16, -(-sum(totals) // 5 // BAGS_PER_EPISODE) + 1)
        began, load_start = time.perf_counter(), os.getloadavg()[0]
        data = seed(url, booked=booked, infused=32)
        console.print(
            f"seeded {booked} booked episodes ({len(data.bags)} bags) and {len(data.infused)} "
            f"infused in {time.perf_counter() - began:.0f} s"
        )
        port = free_port()
        log = Path(tempfile.gettempdir()) / f"cartflow_load_{os.getpid()}.log"
        server = start_server(
            url, port, args.workers, log, args.app, stock_listener=args.stock_listener
        )
        base = f"http://127.0.0.1:{port}"
        tokens = run(log_in(base, data.usernames, max(levels)))
        work = Workload(data)
        rows: list[Row] = []
        statuses: dict[tuple[str, int], int] = defaultdict(int)
        failures: list[tuple[int, str, str, str, float]] = []
        for clients, total in zip(levels, totals, strict=True):
            plan: list[tuple[str, list[str], float | None]] = [
                ("alone", ["health"], None),
                ("alone", ["scan"], None),
                ("mixed", MIX, None),
            ]
            if args.pace:
                plan.append(("paced", ["scan"], args.pace))
            for phase_name, kinds, pace in plan:
                phase = run(
                    run_phase(
                        port,
                        tokens[:clients],
                        kinds,
                        work,
                        total=total if pace is None else 10**9,
                        seconds=args.seconds,
                        server_pid=server.pid,
                        database=name,
                        pace=pace,
                    )
                )
                rows += rows_of(clients, phase_name, phase)
                for key, count in phase.statuses.items():
                    statuses[key] += count
                failures += [(clients, phase_name, *failure) for failure in phase.failures]
                console.print(
                    f"{clients} clients, {phase_name} {kinds[0]}...: {phase.seconds:.1f} s"
                )
        title = (
            f"API over loopback: uvicorn x{args.workers} workers"
            + (" (stock listener)" if args.stock_listener else "")
            + f", PostgreSQL, {os.cpu_count()} cores shared with the load generator"
        )
        report(console, rows, title)
        console.print(
            "machine load average (1 min) at start and end: "
            f"{load_start:.1f}, {os.getloadavg()[0]:.1f} (other work shares the cores)"
        )
        for line in targets(rows, 32) + check_database(url, statuses):
            console.print(line)
        unexpected = {k: v for k, v in statuses.items() if v and k[1] != EXPECTED[k[0]]}
        if unexpected:
            console.print(f"unexpected answers (kind, status): {dict(unexpected)}")
        for clients, phase_name, kind, error, after in failures:
            console.print(
                f"no answer: {clients} clients, {phase_name}, {kind}: {error} after {after:.1f} s"
            )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
