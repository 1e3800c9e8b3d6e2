"""Dependencies a route declares in its signature: the session, the caller, the body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect

from service.api.guard import ADMISSION, CALLER, ClientGone
from service.api.limits import KeyLimiter, TooManyRequests
from service.errors import AedexError, Unauthorised
from service.keys import digest, operator_for_key
from service.lag import LagProbe
from service.metrics import Metrics
from service.settings import Settings


@dataclass
class Runtime:
    """What the app builds in its lifespan and hands to every request."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    #: None when no broker is configured: the relay stage publishes instead.
    producer: AIOKafkaProducer | None = None
    #: Reads each stage's consumer lag from the broker for /metrics; None without a broker.
    lag: LagProbe | None = None
    #: Per-key admission (rate and requests in flight), built from the settings.
    limiter: KeyLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = KeyLimiter(
            rate=self.settings.rate_limit_per_s,
            burst=self.settings.rate_limit_burst,
            concurrency=self.settings.max_concurrent_per_key,
        )


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


RuntimeDep = Annotated[Runtime, Depends(runtime)]


async def session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the route returns, rolled back on error."""
    async with rt.sessions() as s, s.begin():
        yield s


SessionDep = Annotated[AsyncSession, Depends(session)]


#: How a caller presents its key; declared so the OpenAPI document shows both schemes.
_BEARER = HTTPBearer(auto_error=False, description="operator API key: `Authorization: Bearer KEY`")
_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the same key, for clients without bearer auth"
)


async def operator(
    request: Request,
    rt: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    header_key: Annotated[str | None, Depends(_KEY_HEADER)],
) -> AsyncGenerator[str, None]:
    """The operator code of the caller's API key (401 without a valid key), admitted by the
    key's rate and concurrency limits (429 beyond them) for the whole request."""
    key = (bearer.credentials.strip() if bearer else None) or header_key
    if not key:
        raise Unauthorised()
    async with rt.sessions() as s:
        code = await operator_for_key(s, key)
    if code is None:
        raise Unauthorised("unknown or revoked API key")
    request.scope.setdefault("state", {})[CALLER] = code
    async with within_limits(request, rt, key):
        yield code


@asynccontextmanager
async def within_limits(request: Request, rt: Runtime, key: str) -> AsyncIterator[None]:
    """Hold one of the key's admissions (rate and concurrency; 429 beyond them) for a block:
    operator keys and staff tokens alike, so no caller can starve the others."""
    # The limiter is keyed by the digest: the key itself is kept nowhere.
    limited = digest(key)
    try:
        request.scope.setdefault("state", {})[ADMISSION] = rt.limiter.acquire(limited)
    except TooManyRequests as refused:
        request.scope.setdefault("state", {})[ADMISSION] = refused.admission
        raise
    try:
        yield
    finally:
        rt.limiter.release(limited)


OperatorDep = Annotated[str, Depends(operator)]


async def body(request: Request, rt: RuntimeDep) -> bytes:
    """The request body, read up to the size limit and within the body deadlines.

    An oversize upload stops at the limit (413); a slow or never-ending one at the
    deadline (408); a client that disconnects mid-upload ends the request without an
    answer (ClientGone: one log line, no 500).
    """
    settings = rt.settings
    limit = settings.max_message_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise AedexError(
            "XML_TOO_LARGE", f"body is {int(declared):,} bytes; the limit is {limit:,}", 413
        )
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + settings.body_timeout_s

    def next_deadline() -> float:
        return min(give_up_at, loop.time() + settings.body_idle_timeout_s)

    try:
        # One timeout for the whole body, moved on with every chunk to the sooner of the
        # overall deadline and the idle limit (no task per chunk, as wait_for would make).
        async with asyncio.timeout_at(next_deadline()) as deadline:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise AedexError(
                        "XML_TOO_LARGE", f"body exceeds the limit of {limit:,} bytes", 413
                    )
                chunks.append(chunk)
                deadline.reschedule(next_deadline())
    except TimeoutError:
        raise AedexError(
            "REQUEST_TIMEOUT",
            f"the body did not arrive in time ({size:,} bytes received; the whole body must "
            f"arrive within {settings.body_timeout_s:g} s, with no pause over "
            f"{settings.body_idle_timeout_s:g} s)",
            408,
        ) from None
    except ClientDisconnect:
        raise ClientGone(
            f"disconnected after {size:,} of {declared or 'unknown'} body bytes"
        ) from None
    return b"".join(chunks)


BodyDep = Annotated[bytes, Depends(body)]


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
