"""A crash loses no acknowledged write: the server is killed with SIGKILL in the middle of a stream
of writes, restarted, and every write it answered 201 is there, with an intact audit chain."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from cartflow.db.engine import make_engine
from cartflow.db.migrate import upgrade
from cartflow.db.session import make_sessionmaker, session_scope
from cartflow.models import Role
from tests.factories import make_network, make_user, token_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cartflow.cli.main", "serve", "--port", str(port)],
        env={**os.environ, "CARTFLOW_DATABASE_URL": url},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")


def test_sigkill_during_writes_loses_no_acknowledged_record(
    own_database: str, tmp_path: Path
) -> None:
    upgrade(own_database)
    engine = make_engine(own_database)
    with session_scope(make_sessionmaker(engine)) as session:
        net = make_network(session, "C0DE01")
        coordinator = make_user(session, Role.COORDINATOR, center=net.center_a)
        token = token_for(session, coordinator)
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    port = _free_port()
    log = tmp_path / "server.log"
    server = _start(own_database, port, log)

    acknowledged: list[str] = []
    stop = threading.Event()

    def write_stream() -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=5
        ) as client:
            for n in range(5000):
                if stop.is_set():
                    return
                try:
                    response = client.post(
                        "/api/v1/patients",
                        json={
                            "mrn": f"CRASH-{n:05d}",
                            "date_of_birth": "1980-05-01",
                            "sex": "male",
                            "weight_kg": 70,
                            "height_cm": 175,
                            "diagnosis": "DLBCL",
                            "disease_status": "refractory",
                            "prior_lines_of_therapy": 2,
                        },
                    )
                except httpx.HTTPError:
                    return  # the server is gone; unacknowledged writes may or may not exist
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])

    writer = threading.Thread(target=write_stream)
    writer.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    stop.set()
    writer.join(timeout=30)
    assert len(acknowledged) >= 40, log.read_text()[-2000:]

    server = _start(own_database, port, log)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
        ) as client:
            missing = [
                pid
                for pid in acknowledged
                if client.get(f"/api/v1/patients/{pid}").status_code != 200
            ]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert missing == [], f"{len(missing)} acknowledged writes lost"
    verify = subprocess.run(
        [sys.executable, "-m", "cartflow.cli.main", "audit", "verify"],
        env={**os.environ, "CARTFLOW_DATABASE_URL": own_database},
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
