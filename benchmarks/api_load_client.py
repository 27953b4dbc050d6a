"""The load generator's HTTP client: one kept-alive HTTP/1.1 connection per simulated client.

Written by hand rather than taken from httpx: the generator runs on the same two cores as the
server it measures, and httpx spent 3-5 ms of CPU per request there (the `gen CPU` column of
docs/operations.md), more than the server's whole health check (about 1 ms), so the "ceiling"
measured the generator rather than the server. This client sends prepared bytes and reads the
answer by its Content-Length, about a tenth of that. It speaks only what the load benchmark needs:
a JSON or empty body, answers with Content-Length (FastAPI and Starlette always send it), and
`Connection: close`, after which it connects again.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on uvloop's event loop when it is installed (as it is with cartflow): the
    generator's own CPU per request is part of what the machine's cores spend."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


class NoAnswer(Exception):
    """The request got no complete HTTP answer: a timeout, or the connection closed or reset."""


class WireClient:
    """A single connection; one request at a time (a simulated scan station or workstation)."""

    def __init__(self, host: str, port: int, token: str, *, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n"
        ).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: object | None = None) -> int:
        """Send one request and read its whole answer; the answer's status code."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self.headers
        if body is not None:
            head += b"Content-Type: application/json\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(payload)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(head + payload)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self.close()
            raise NoAnswer(type(exc).__name__) from exc
        except TimeoutError as exc:
            self.close()
            raise NoAnswer("Timeout") from exc

    async def _exchange(self, request: bytes) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            sock = self._writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise asyncio.IncompleteReadError(b"", None)  # not an answer this client reads
        await self._reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
