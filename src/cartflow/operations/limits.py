"""Two pure ASGI middlewares that guard the app: a body-size limit and an admission limit.

Pure ASGI rather than `BaseHTTPMiddleware` (`@app.middleware("http")`): that one runs the rest of
the app in a task of its own and copies every response through a stream, a large share of a
cheap request's CPU (docs/operations.md, "Load").

The admission limit keeps a server process from taking more requests than it has database
connections. FastAPI runs sync dependencies and endpoints in a pool of 40 threads, and a request
checks a connection out in one threadpool call and gives it back in a later one; with more
requests in flight than connections, every thread can end up waiting for a connection held by a
request that waits for a thread, until the pool's 30 s timeout answers 500. Admitting at most as
many requests as the pool has connections (fewer than the threads) makes that impossible; the
others wait here, on the event loop, first come first served.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cartflow.i18n import _


class _BodyTooLarge(Exception):
    """Raised from `receive` when a body without Content-Length grows past the limit."""


class BodySizeLimit:
    """Refuse a body over `limit` bytes with 413 `BODY-TOO-LARGE` before the app reads it (by its
    Content-Length) or, for a chunked body, as soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        # A chunked body: count it as the app reads it. FastAPI turns an exception raised while
        # it reads the body into 400, so the 413 replaces whatever the app answers then.
        received = 0
        too_large = started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = _("request body over {limit} bytes", limit=self.limit)
        response = JSONResponse(
            status_code=413,
            content={"code": "BODY-TOO-LARGE", "message": str(message)},
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class AdmissionLimit:
    """At most `limit` requests in the app at once; up to `queue` more wait, each at most
    `wait_seconds`, in arrival order; beyond that, or after the wait, 503 `SERVER-BUSY` with
    Retry-After. Paths starting with one of `exempt` pass without counting.

    One instance per server process (the event loop's): the counts need no lock.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        queue: int,
        wait_seconds: float,
        exempt: tuple[str, ...] = (),
    ) -> None:
        if limit < 1:
            raise ValueError("the admission limit must be at least 1")
        self.app = app
        self.limit = limit
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.exempt = exempt
        self.admitted = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            await self._refuse(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._release()

    async def _admit(self) -> bool:
        if self.admitted < self.limit and not self._waiting:
            self.admitted += 1
            return True
        if len(self._waiting) >= self.queue:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await turn
        except TimeoutError:
            if turn.done() and not turn.cancelled():
                return True  # the slot came just as the wait ran out: take it
            self._forget(turn)
            return False
        except asyncio.CancelledError:  # the client went away, or the server is stopping
            if turn.done() and not turn.cancelled():
                self._release()
            else:
                self._forget(turn)
            raise
        return True

    def _forget(self, turn: asyncio.Future[None]) -> None:
        # `_release` may have dropped it already (a cancelled turn is done).
        if turn in self._waiting:
            self._waiting.remove(turn)

    def _release(self) -> None:
        # The slot passes straight to the longest waiter, so `admitted` stays the same and a
        # newcomer cannot overtake the queue.
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.admitted -= 1

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        retry = max(1, math.ceil(self.wait_seconds / 4))
        response = JSONResponse(
            status_code=503,
            content={
                "code": "SERVER-BUSY",
                "message": str(_("the server is busy; retry in {seconds} s", seconds=retry)),
            },
            headers={"Retry-After": str(retry)},
        )
        await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
