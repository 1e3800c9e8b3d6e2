"""The whole pipeline in one test process: API, relay and the three stages on a real
broker (topics and groups under a prefix of the test's own) and a real database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import ItemRecord, Response
from service.kafka import ensure_topics
from service.keys import create_key
from service.settings import Settings
from service.stages.assess import AssessStage
from service.stages.relay import Relay
from service.stages.respond import RespondStage
from service.stages.runner import StageRunner
from service.stages.validate import ValidateStage
from tests.kafka_fixtures import group_timeouts, unique_name

#: Responses that answer an item's data (one per item): the fiscal decision or the rejection.
ANSWER_KINDS = (":fiscal", ":rejected", ":cancelled")


@dataclass
class Pipeline:
    settings: Settings
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    keys: dict[str, str] = field(default_factory=dict)

    async def key(self, operator: str) -> str:
        if operator not in self.keys:
            async with self.sessions() as session, session.begin():
                self.keys[operator] = await create_key(session, operator=operator)
        return self.keys[operator]

    async def post(self, operator: str, data: bytes, route: str = "/v1/messages",
                   media: str = "application/xml") -> httpx.Response:  # fmt: skip
        key = await self.key(operator)
        return await self.client.post(
            route, content=data, headers={"Content-Type": media, "Authorization": f"Bearer {key}"}
        )

    async def count(self, statement: object) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]

    async def answers(self) -> int:
        """Item rows answered so far (fiscal decision, rejection or cancellation)."""
        clauses = [Response.dedupe_key.endswith(kind) for kind in ANSWER_KINDS]
        from sqlalchemy import or_

        return await self.count(select(func.count()).select_from(Response).where(or_(*clauses)))

    async def items(self) -> int:
        return await self.count(select(func.count()).select_from(ItemRecord))

    async def wait_answered(self, expected: int, timeout: float = 180.0) -> None:
        """Until `expected` item rows exist and each has its answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.items() >= expected and await self.answers() >= expected:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(
            f"after {timeout:.0f} s: {await self.items()} item rows, {await self.answers()} "
            f"answers, {expected} expected"
        )


async def start_pipeline(database_url: str, bootstrap: str) -> AsyncIterator[Pipeline]:
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        topic_prefix=unique_name("e2e"),
        topic_partitions=2,
        batch_timeout_ms=50,
        reconcile_after_s=10,
    )
    await ensure_topics(settings, bootstrap)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    runners: list[StageRunner | Relay] = [
        StageRunner(stage, settings=settings, bootstrap=bootstrap, sessions=sessions,
                    consumer_options=group_timeouts())
        for stage in (ValidateStage(settings), AssessStage(settings), RespondStage(settings))
    ]  # fmt: skip
    runners.append(Relay(settings, bootstrap=bootstrap, sessions=sessions))
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    app = create_app(settings)
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
                yield Pipeline(settings, client, sessions)
    finally:
        for runner in runners:
            runner.stop()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        await engine.dispose()
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
