"""Relay: publish inbox rows to `aed.inbound`, and re-publish what was never processed.

The API publishes right after its commit; the relay is the guarantee behind
it. It publishes every RECEIVED row (the API's publish failed or the API
died), and the reconciler re-publishes PUBLISHED rows not processed within
`reconcile_after_s` (a broker that lost its data, as the embedded memory
broker does on restart). The validate stage is idempotent, so a re-published
message is never processed twice.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import kafka
from service.db.models import InboxMessage, InboxStatus
from service.publish import inbound_headers, inbound_key, mark_published
from service.settings import Settings

log = structlog.get_logger(__name__)

POLL_INTERVAL_S = 0.2
BATCH = 200


class Relay:
    name = "relay"

    def __init__(
        self, settings: Settings, *, bootstrap: str, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.sessions = sessions
        self.stopping = asyncio.Event()
        self.published = 0

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        producer = kafka.producer(self.settings, self.bootstrap)
        await producer.start()
        try:
            while not self.stopping.is_set():
                try:
                    sent = await self.publish_once(producer)
                except (KafkaError, OperationalError, OSError) as error:
                    log.warning("relay pass failed; retrying", error=repr(error))
                    sent = 0
                if sent < BATCH:
                    try:
                        await asyncio.wait_for(self.stopping.wait(), POLL_INTERVAL_S)
                    except TimeoutError:
                        pass
        finally:
            await producer.stop()

    async def publish_once(self, producer: AIOKafkaProducer) -> int:
        """One pass: publish due rows, mark them, return how many were sent."""
        stale = datetime.now(UTC) - timedelta(seconds=self.settings.reconcile_after_s)
        async with self.sessions() as session, session.begin():
            rows = list(
                await session.scalars(
                    select(InboxMessage)
                    .where(
                        or_(
                            InboxMessage.status == InboxStatus.RECEIVED,
                            (InboxMessage.status == InboxStatus.PUBLISHED)
                            & (InboxMessage.published_at < stale),
                        )
                    )
                    .order_by(InboxMessage.received_at)
                    .limit(BATCH)
                )
            )
            if not rows:
                return 0
            resent = sum(1 for row in rows if row.status == InboxStatus.PUBLISHED)
            futures = [
                await producer.send(
                    self.settings.topics.inbound,
                    row.raw,
                    key=inbound_key(row),
                    headers=inbound_headers(row),
                )
                for row in rows
            ]
            await asyncio.gather(*futures)
            await mark_published(session, rows)
        if resent:
            log.info("re-published unprocessed messages", count=resent)
        self.published += len(rows)
        return len(rows)
