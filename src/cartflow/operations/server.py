"""`cartflow serve`: uvicorn on a listening socket that we create ourselves.

uvicorn's supervisor for `--workers N` binds its listener as `socket(AF_INET, SOCK_STREAM)`,
protocol 0. asyncio sets TCP_NODELAY only on accepted sockets whose protocol is IPPROTO_TCP, so
with the stock listener every response on a keep-alive connection after the first waits for the
client's delayed ACK: about 40 ms on Linux (uvicorn issue #3149). Created with IPPROTO_TCP, the
accepted sockets inherit it and asyncio turns Nagle's algorithm off. One path serves one worker
or many, so the crash-safety test (one worker) and the load benchmark (several) run the same code.
"""

from __future__ import annotations

import logging
import socket

from cartflow.cli.common import fail
from cartflow.i18n import _

APP = "cartflow.app:create_app"


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound, inheritable TCP socket created with protocol IPPROTO_TCP (not 0): see the module
    docstring. Port 0 picks a free port (`getsockname()` tells which)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # The worker processes of the supervisor accept on this very socket.
    sock.set_inheritable(True)
    return sock


def serve(
    *,
    host: str,
    port: int,
    workers: int = 1,
    app: str = APP,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Run uvicorn with `workers` processes (one: no supervisor) on `tcp_listener(host, port)`."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

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
        sock = tcp_listener(host, port)
    except OSError as exc:  # the port is taken, the address is not this machine's
        reason = exc.strerror or str(exc)
        fail(_("cannot listen on {host}:{port}: {reason}", host=host, port=port, reason=reason))
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    logging.getLogger("uvicorn.error").info(
        "cartflow on http://%s:%d (%d worker(s); Ctrl+C to quit)", shown, bound_port, workers
    )
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
