"""Stage heartbeats in the database: how `/readyz` knows every stage is consuming.

Each worker writes one row (its stage, process, partitions held) every few
seconds and removes it on a clean stop. The API reads the rows, so readiness
holds across processes and hosts, with the embedded broker or Apache Kafka,
without the API joining any consumer group (which would cause rebalances).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import StageHeartbeat

log = structlog.get_logger(__name__)

#: Seconds between beats; a worker is seen as gone after `STALE_AFTER` beats are missed.
INTERVAL_S = 5.0
STALE_AFTER = 3


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


async def beat(
    sessions: async_sessionmaker[AsyncSession],
    stage: str,
    worker: str,
    partitions: int,
    ruleset: str | None = None,
) -> None:
    async with sessions() as session, session.begin():
        now = datetime.now(UTC)
        updated = await session.execute(
            update(StageHeartbeat)
            .where(StageHeartbeat.worker_id == worker)
            .values(stage=stage, partitions=partitions, beat_at=now, ruleset=ruleset)
        )
        if getattr(updated, "rowcount", 0) == 0:
            session.add(
                StageHeartbeat(
                    worker_id=worker, stage=stage, partitions=partitions, beat_at=now,
                    ruleset=ruleset,
                )
            )  # fmt: skip


async def beat_until_stopped(
    sessions: async_sessionmaker[AsyncSession],
    stage: str,
    partitions: Callable[[], int | None],
    stopping: asyncio.Event,
    *,
    interval_s: float = INTERVAL_S,
    ruleset: Callable[[], str | None] = lambda: None,
) -> None:
    """Beat while the worker runs; `partitions()` is None until the worker consumes;
    `ruleset()` says what an assess worker scores with (shown on /metrics).

    A failed beat (the database is down) is logged and retried at the next
    interval: readiness then turns false, which is the truth.
    """
    worker = worker_id()
    try:
        while not stopping.is_set():
            held = partitions()
            if held is not None:
                try:
                    await beat(sessions, stage, worker, held, ruleset())
                except (DBAPIError, OSError) as error:
                    log.warning("stage heartbeat failed", stage=stage, error=repr(error)[:200])
            try:
                await asyncio.wait_for(stopping.wait(), interval_s)
            except TimeoutError:
                pass
    finally:
        try:
            async with sessions() as session, session.begin():
                await session.execute(
                    delete(StageHeartbeat).where(StageHeartbeat.worker_id == worker)
                )
        except (DBAPIError, OSError):
            pass  # the row goes stale on its own


async def stage_readiness(
    session: AsyncSession, stages: Sequence[str], *, interval_s: float = INTERVAL_S
) -> dict[str, str]:
    """Per stage: "ok", or why it is not consuming (no live worker, no partition held)."""
    fresh_since = datetime.now(UTC) - timedelta(seconds=interval_s * STALE_AFTER)
    rows = (
        await session.execute(
            select(StageHeartbeat.stage, StageHeartbeat.partitions).where(
                StageHeartbeat.beat_at >= fresh_since
            )
        )
    ).all()
    held: dict[str, list[int]] = {}
    for stage, partitions in rows:
        held.setdefault(stage, []).append(partitions)
    status: dict[str, str] = {}
    for stage in stages:
        workers = held.get(stage)
        if not workers:
            status[stage] = f"no worker seen in {interval_s * STALE_AFTER:.0f} s"
        elif stage != "relay" and sum(workers) == 0:
            status[stage] = f"{len(workers)} worker(s), no partition assigned yet"
        else:
            status[stage] = "ok"
    return status
