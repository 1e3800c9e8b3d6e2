"""Prometheus metrics: one registry per app, so tests and several apps never collide.

Counters are per process (what this API accepted); gauges read from the
database at scrape time describe the whole pipeline (items per status,
open review tasks, inbox messages waiting), whichever process did the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import InboxMessage, ItemRecord, ReviewTask


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages = Counter(
            "aedex_messages_accepted",
            "Messages accepted by the API",
            ["kind", "status"],
            registry=r,
        )
        self.items = Counter(
            "aedex_items_accepted", "Items in messages accepted by the API", registry=r
        )
        self.refusals = Counter(
            "aedex_messages_refused", "Messages refused at intake", ["code"], registry=r
        )
        self.stage_records = Counter(
            "aedex_stage_records", "Records handled by a stage", ["stage", "outcome"], registry=r
        )
        self.stage_batch_seconds = Histogram(
            "aedex_stage_batch_seconds", "Time to handle one batch", ["stage"], registry=r
        )
        self.stage_lag = Gauge(
            "aedex_stage_lag_records",
            "Records behind the end of the stage's topic",
            ["stage"],
            registry=r,
        )
        self.item_status = Gauge("aedex_items", "Items by status", ["status"], registry=r)
        self.inbox_status = Gauge(
            "aedex_inbox_messages", "Inbox messages by status", ["status"], registry=r
        )
        self.review_open = Gauge(
            "aedex_review_open", "Review tasks awaiting an officer", registry=r
        )


async def refresh_database_gauges(
    metrics: Metrics, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        for item_status, count in await session.execute(
            select(ItemRecord.status, func.count()).group_by(ItemRecord.status)
        ):
            metrics.item_status.labels(str(item_status)).set(count)
        for inbox_status, count in await session.execute(
            select(InboxMessage.status, func.count()).group_by(InboxMessage.status)
        ):
            metrics.inbox_status.labels(str(inbox_status)).set(count)
        open_tasks = await session.scalar(
            select(func.count()).select_from(ReviewTask).where(ReviewTask.status == "OPEN")
        )
        metrics.review_open.set(open_tasks or 0)
