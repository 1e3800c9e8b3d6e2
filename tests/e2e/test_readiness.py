"""`/readyz` is ready only while every stage has a worker consuming (issue 12, item 8).

Workers run as processes under the Supervisor, exactly as `aedex run` starts
them; each writes a heartbeat row with the partitions it holds, and the API
reads those rows. A stage without a worker keeps the API not ready, naming it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from service.broker import EmbeddedBroker
from service.settings import STAGES
from tests.e2e.pipeline import Pipeline, supervised_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


async def _ready_until(
    pipeline: Pipeline, done: Any, timeout: float = 90
) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        answer = await pipeline.client.get("/readyz")
        body = answer.json()
        if done(answer.status_code, body["checks"]):
            return answer.status_code, body["checks"]
        assert time.monotonic() < deadline, f"after {timeout:.0f} s: {answer.status_code} {body}"
        await asyncio.sleep(0.5)


async def test_ready_only_when_every_stage_consumes(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker
) -> None:
    without_respond = tuple(stage for stage in STAGES if stage != "respond")
    async with supervised_pipeline(
        sqlite_migrated_url, embedded_broker, stages=without_respond
    ) as pipeline:
        status, checks = await _ready_until(
            pipeline,
            lambda _, checks: all(checks.get(f"stage:{s}") == "ok" for s in without_respond),
        )
        assert status == 503
        assert checks["stage:respond"].startswith("no worker seen")
        assert checks["database"] == "ok"


async def test_ready_with_the_whole_pipeline(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker
) -> None:
    async with supervised_pipeline(sqlite_migrated_url, embedded_broker) as pipeline:
        status, checks = await _ready_until(pipeline, lambda status, _: status == 200)
        assert {f"stage:{s}" for s in STAGES} <= checks.keys()
        assert all(v == "ok" for k, v in checks.items() if k.startswith("stage:"))
