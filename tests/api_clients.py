"""Ways for synchronous test code (schemathesis, hypothesis state machines) to reach the API.

`serve` runs an app under a real uvicorn on a free loopback port, lifespan
included, so a client talks real HTTP. `LoopThread` runs an asyncio loop in a
thread of its own, so synchronous code can drive async fixtures (the whole
pipeline) one coroutine at a time.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

T = TypeVar("T")

#: How long a server or a loop may take to start or stop before the test fails.
START_TIMEOUT_S = 30.0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (port chosen by the kernel) until the block ends; yields its URL.

    The socket is bound before uvicorn starts, so no other process can take the
    port in between. Startup fails the test if the app's lifespan fails.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None, as `aedex api` runs it: uvicorn keeps its loggers on our root handlers
    # (its default config would detach "uvicorn" from the root for the rest of the session).
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start (see the app's lifespan log)")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)
        sock.close()


class LoopThread:
    """An asyncio loop in a daemon thread; `run` blocks the caller until a coroutine is done."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="loop", daemon=True)

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(START_TIMEOUT_S)
        self.loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """The coroutine's result; raises TimeoutError (and cancels it) after `timeout` s."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    @contextmanager
    def enter(self, generator: AsyncIterator[T], timeout: float = 120.0) -> Iterator[T]:
        """Use a one-yield async generator (a fixture-style `async def ... yield`) from sync code."""
        value = self.run(anext(generator), timeout)
        try:
            yield value
        finally:
            self.run(_finish(generator), timeout)


async def _finish(generator: AsyncIterator[Any]) -> None:
    """Run the generator past its one yield, so its `finally` (cleanup) runs in order."""
    async for _ in generator:
        raise RuntimeError("the async generator yielded twice")
