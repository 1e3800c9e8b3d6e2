"""Dependencies a route declares in its signature: the session, the caller, the body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.errors import AedexError, Unauthorised
from service.keys import operator_for_key
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


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


RuntimeDep = Annotated[Runtime, Depends(runtime)]


async def session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the route returns, rolled back on error."""
    async with rt.sessions() as s, s.begin():
        yield s


SessionDep = Annotated[AsyncSession, Depends(session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


async def operator(request: Request, rt: RuntimeDep) -> str:
    """The operator code of the caller's API key (401 without a valid key)."""
    key = _bearer(request)
    if key is None:
        raise Unauthorised()
    async with rt.sessions() as s:
        code = await operator_for_key(s, key)
    if code is None:
        raise Unauthorised("unknown or revoked API key")
    return code


OperatorDep = Annotated[str, Depends(operator)]


async def body(request: Request, rt: RuntimeDep) -> bytes:
    """The request body, read up to the size limit: an oversize upload stops at the limit."""
    limit = rt.settings.max_message_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise AedexError(
            "XML_TOO_LARGE", f"body is {int(declared):,} bytes; the limit is {limit:,}", 413
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise AedexError("XML_TOO_LARGE", f"body exceeds the limit of {limit:,} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


BodyDep = Annotated[bytes, Depends(body)]


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
