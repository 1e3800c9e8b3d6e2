"""A webhook receiver for tests: a real HTTP/1.1 server (asyncio + h11) on a free loopback port.

It records every request (arrival time, headers, body, whether its signature
verifies with the secret, what it answered), answers `fail_first` requests
with 500 and then `status` (changeable while running), and can hold one
request unanswered (`hold_at`) until the test lets it go, so a test can kill
the sender between its POST and its bookkeeping. `delivered` is what a receiver
that dedupes by Aedex-Response-Id keeps: each response id answered 2xx, counted.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import h11
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.settings import Settings
from service.webhooks.signing import InvalidSignature, verify
from service.webhooks.worker import DeliveryWorker
from tests.log_secrets import LOG_DIR


def new_secret() -> str:
    """A webhook secret, written down beside the suite's API keys so the log-secrets gate
    (tests/log_secrets.py) fails the run if any log line holds it."""
    secret = "whsec_" + secrets.token_urlsafe(24)
    with (LOG_DIR / f"keys-{os.getpid()}.txt").open("a", encoding="utf-8") as out:
        out.write(secret + "\n")
    return secret


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    verified: bool
    why_not: str | None
    status: int = 0

    @property
    def response_id(self) -> int:
        return int(self.headers["aedex-response-id"])

    @property
    def attempt(self) -> int:
        return int(self.headers["aedex-attempt"])


@dataclass
class Receiver:
    secret: str = field(repr=False)
    fail_first: int = 0
    status: int = 200
    #: Hold the request with this index (0-based) unanswered until `release` is set.
    hold_at: int | None = None
    requests: list[Received] = field(default_factory=list)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/aedex?tenant=test"

    @property
    def delivered(self) -> Counter[int]:
        """Response id -> number of times it was answered 2xx."""
        return Counter(r.response_id for r in self.requests if 200 <= r.status < 300)

    def of(self, response_id: int) -> list[Received]:
        return [r for r in self.requests if r.response_id == response_id]

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def wait_until(
        self, condition: Callable[[Receiver], bool], *, timeout: float = 90.0, what: str = ""
    ) -> None:
        """Until `condition(self)` holds (checked on every request); fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while not condition(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"receiver: not {what or 'as expected'} after {timeout:.0f} s; "
                    f"{len(self.requests)} requests, delivered {dict(self.delivered)}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            except TimeoutError:
                pass

    async def _answer(self, request: Received) -> int:
        index = len(self.requests)
        self.requests.append(request)
        if index == self.hold_at:
            self.held.set()
            await self.release.wait()
        return 500 if index < self.fail_first else self.status

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER)
        headers: dict[str, str] = {}
        body = bytearray()
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    connection.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Request):
                    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                    body = bytearray()
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    await self._respond(connection, writer, headers, bytes(body))
                    if connection.our_state is h11.MUST_CLOSE:
                        break
                    connection.start_next_cycle()
                else:  # ConnectionClosed, PAUSED
                    break
        except (ConnectionError, h11.ProtocolError):
            pass
        finally:
            writer.close()

    async def _respond(
        self,
        connection: h11.Connection,
        writer: asyncio.StreamWriter,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        try:
            verify(self.secret, headers.get("aedex-signature"), body)
            verified, why_not = True, None
        except InvalidSignature as error:
            verified, why_not = False, str(error)
        request = Received(time.monotonic(), headers, body, verified, why_not)
        status = await self._answer(request)
        answer = b"ok" if status < 300 else b"try again"
        writer.write(
            connection.send(
                h11.Response(status_code=status, headers=[("content-length", str(len(answer)))])
            )
        )
        writer.write(connection.send(h11.Data(data=answer)))
        writer.write(connection.send(h11.EndOfMessage()))
        await writer.drain()
        # Counted as answered only once the answer is on its way.
        request.status = status
        self._changed.set()


@asynccontextmanager
async def running_worker(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], **overrides: Any
) -> AsyncIterator[DeliveryWorker]:
    """A delivery worker polling every 50 ms (5 s per attempt unless overridden), in this
    process, until the block ends."""
    values = {"webhook_poll_interval_s": 0.05, "webhook_timeout_s": 5.0, **overrides}
    worker = DeliveryWorker(settings.model_copy(update=values), sessions=sessions)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
