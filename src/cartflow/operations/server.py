"""`cartflow serve`: uvicorn on a listening socket that we create ourselves.

uvicorn's supervisor for `--workers N` binds its listener as `socket(AF_INET, SOCK_STREAM)`,
protocol 0. asyncio sets TCP_NODELAY only on accepted sockets whose protocol is IPPROTO_TCP, so
with the stock listener every response on a keep-alive connection after the first waits for the
client's delayed ACK: about 40 ms on Linux (uvicorn issue #3149). Created with IPPROTO_TCP, the
accepted sockets inherit it and asyncio turns Nagle's algorithm off. One path serves one worker
or many, so the crash-safety test (one worker) and the load benchmark (several) run the same code.

With several workers each gets a listener of its own on the same port (SO_REUSEPORT), and the
kernel spreads new connections evenly over them. On uvicorn's one shared listener, the worker
whose event loop wakes first accepts every pending connection at once (asyncio's accept loop), and a
kept-alive connection stays with the worker that took it: under the load benchmark one worker of
two held most of the scan stations' connections and ran at a full core while the other idled
(docs/operations.md, "Load").
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uvicorn import Config
    from uvicorn.supervisors.multiprocess import Multiprocess

from cartflow.cli.common import fail
from cartflow.i18n import _

APP = "cartflow.app:create_app"


def tcp_listener(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A bound, inheritable TCP socket created with protocol IPPROTO_TCP (not 0): see the module
    docstring. Port 0 picks a free port (`getsockname()` tells which). With `reuse_port`, other
    sockets with SO_REUSEPORT may bind the same port (`reuse_port_listeners`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # The worker processes of the supervisor accept on this very socket.
    sock.set_inheritable(True)
    return sock


def reuse_port_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listeners on one port with SO_REUSEPORT, one per worker.

    A port that anything else listens on is refused as with one listener: the port is first
    bound without SO_REUSEPORT (which also resolves port 0), so a second cartflow server cannot
    join the group by mistake and silently take half of the first one's connections.
    """
    probe = tcp_listener(host, port)
    port = probe.getsockname()[1]
    probe.close()
    listeners: list[socket.socket] = []
    try:
        while len(listeners) < count:
            listeners.append(tcp_listener(host, port, reuse_port=True))
    except OSError:
        for sock in listeners:
            sock.close()
        raise
    return listeners


def _supervisor(config: Config, listeners: list[socket.socket]) -> Multiprocess:
    """uvicorn's supervisor (restarts a dead or hung worker, replaces them all on SIGHUP), with
    worker `i` always on `listeners[i]`."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    class ListenerPerWorker(Multiprocess):
        # uvicorn gives every worker `self.sockets`; the methods that start a worker are
        # uvicorn 0.54's with the worker's own listener instead.
        def init_processes(self) -> None:
            for sock in listeners:
                process = Process(self.config, [sock])
                process.start()
                self.processes.append(process)

        def keep_subprocess_alive(self) -> None:
            for idx, process in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    continue
                process.kill()
                process.join()
                if process.exitcode == STARTUP_FAILURE:  # the app cannot start: stop, not loop
                    logging.getLogger("uvicorn.error").error("Child process failed to start")
                    self.should_exit.set()
                    return
                logging.getLogger("uvicorn.error").info("Child process [%s] died", process.pid)
                replacement = Process(self.config, [listeners[idx]])
                replacement.start()
                self.processes[idx] = replacement

        def restart_all(self) -> None:
            for idx, old in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                new = Process(self.config, [listeners[idx]])
                new.start()
                if not new.wait_until_ready(
                    self.config.timeout_worker_healthcheck, self.should_exit
                ):
                    new.kill()
                    new.join()
                    return
                old.terminate()
                old.join()
                self.processes[idx] = new

    return ListenerPerWorker(config, sockets=listeners)


def serve(
    *,
    host: str,
    port: int,
    workers: int = 1,
    app: str = APP,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Run uvicorn with `workers` processes (one: no supervisor) on listeners made by
    `tcp_listener` (one worker) or `reuse_port_listeners` (several): see the module docstring."""
    import uvicorn

    config = uvicorn.Config(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        # The supervisor kills a worker that has not answered its first health check within this
        # time, and a spawned worker answers only once it has imported the app: 5 s by default,
        # less than that takes on a busy two-core machine (workers died in a loop).
        timeout_worker_healthcheck=60,
    )
    try:
        listeners = (
            reuse_port_listeners(host, port, workers) if workers > 1 else [tcp_listener(host, port)]
        )
    except OSError as exc:  # the port is taken, the address is not this machine's
        reason = exc.strerror or str(exc)
        fail(_("cannot listen on {host}:{port}: {reason}", host=host, port=port, reason=reason))
    bound_host, bound_port = listeners[0].getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    logging.getLogger("uvicorn.error").info(
        "cartflow on http://%s:%d (%d worker(s); Ctrl+C to quit)", shown, bound_port, workers
    )
    try:
        if workers > 1:
            _supervisor(config, listeners).run()
        else:
            uvicorn.Server(config).run(sockets=listeners)
    finally:
        for sock in listeners:
            sock.close()
