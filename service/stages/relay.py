"""Relay: publish inbox rows to `aed.inbound`, and re-publish what was never processed.

The API publishes right after its commit; the relay is the guarantee behind
it. It publishes every RECEIVED row older than `relay_grace_s` (the API's
publish failed or the API died; younger rows are the API's to publish, so
most messages are not sent twice), and re-publishes every message not yet settled (some item still
without its answer) once its `reconcile_at` passes: a record lost anywhere
downstream, by a killed worker or a broker that lost its data (as the
embedded memory broker does on restart), is sent through again. Every stage
is idempotent, so a re-published message is answered once: the validate
stage replays stored items, assess re-emits stored assessments, respond
re-sends stored CUSRSPs.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import kafka
from service.db.models import InboxMessage, InboxStatus, Response, ResponseOutbox
from service.publish import inbound_headers, inbound_key, mark_published
from service.settings import Settings
from service.stages.respond import response_headers

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
        #: Re-sends of unsettled messages since start (for tests and logs).
        self.republished = 0
        #: Officers' CUSRSPs sent from the outbox since start.
        self.published_responses = 0
        self._running = False

    def partitions(self) -> int | None:
        """0 while publishing (the relay reads the database, not a topic); None before."""
        return 0 if self._running else None

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        producer = kafka.producer(self.settings, self.bootstrap)
        await producer.start()
        self._running = True
        try:
            while not self.stopping.is_set():
                try:
                    sent = await self.publish_once(producer)
                except (KafkaError, DBAPIError, OSError) as error:
                    log.warning("relay pass failed; retrying", error=repr(error))
                    sent = 0
                if sent < BATCH:
                    try:
                        await asyncio.wait_for(self.stopping.wait(), POLL_INTERVAL_S)
                    except TimeoutError:
                        pass
        finally:
            self._running = False
            await producer.stop()

    async def publish_once(self, producer: AIOKafkaProducer) -> int:
        """One pass: inbox rows (new and due again), then officers' CUSRSPs; return the count."""
        return await self._publish_inbox(producer) + await self._publish_outbox(producer)

    async def _publish_outbox(self, producer: AIOKafkaProducer) -> int:
        """Officers' decisions: their CUSRSP rows go to `aed.responses`, oldest first, once
        the send is acknowledged (a failed pass leaves them for the next one)."""
        async with self.sessions() as session, session.begin():
            pending = list(
                await session.execute(
                    select(ResponseOutbox, Response)
                    .join(Response, Response.id == ResponseOutbox.response_id)
                    .where(ResponseOutbox.published_at.is_(None))
                    .order_by(ResponseOutbox.response_id)
                    .limit(BATCH)
                )
            )
            if not pending:
                return 0
            futures = [
                await producer.send(
                    self.settings.topics.responses,
                    response.xml.encode("utf-8"),
                    key=response.item_id.encode(),
                    headers=response_headers(response),
                )
                for _, response in pending
            ]
            await asyncio.gather(*futures)
            now = datetime.now(UTC)
            for outbox, _ in pending:
                outbox.published_at = now
        self.published_responses += len(pending)
        return len(pending)

    async def _publish_inbox(self, producer: AIOKafkaProducer) -> int:
        async with self.sessions() as session, session.begin():
            rows = list(
                await session.scalars(
                    select(InboxMessage)
                    .where(
                        InboxMessage.status == InboxStatus.RECEIVED,
                        # The API publishes right after its commit; give it time to.
                        InboxMessage.received_at
                        < datetime.now(UTC) - timedelta(seconds=self.settings.relay_grace_s),
                    )
                    .order_by(InboxMessage.received_at)
                    .limit(BATCH)
                )
            )
            due = await self._due(session, BATCH - len(rows)) if len(rows) < BATCH else []
            rows += due
            if not rows:
                return 0
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
            await mark_published(session, rows, reconcile_after_s=self.settings.reconcile_after_s)
        if due:
            log.info("re-published unsettled messages", count=len(due))
        self.published += len(rows)
        self.republished += len(due)
        return len(rows)

    async def _due(self, session: AsyncSession, limit: int) -> list[InboxMessage]:
        """Published rows whose items are not all answered when their `reconcile_at` passed."""
        return list(
            await session.scalars(
                select(InboxMessage)
                .where(
                    InboxMessage.settled_at.is_(None),
                    InboxMessage.reconcile_at < datetime.now(UTC),
                    InboxMessage.status != InboxStatus.RECEIVED,
                )
                .order_by(InboxMessage.reconcile_at)
                .limit(limit)
            )
        )
