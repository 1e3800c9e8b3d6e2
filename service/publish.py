"""Put inbox messages on `aed.inbound`, the one way raw messages enter the pipeline.

Both the API (right after its commit, for low latency) and the relay stage
(for anything the API could not publish, and for the reconciler's re-sends)
go through `publish_inbound`; records carry the DESIGN.md §1 headers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.base import aware
from service.db.models import InboxMessage, InboxStatus

CONTENT_TYPE = b"application/xml"


class Sender(Protocol):
    """What publishing needs of a Kafka producer (aiokafka's AIOKafkaProducer fits)."""

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> object: ...


def inbound_headers(row: InboxMessage) -> list[tuple[str, bytes]]:
    return [
        ("content-type", CONTENT_TYPE),
        ("source", row.source.encode()),
        ("inbox-id", str(row.id).encode()),
        ("received-at", aware(row.received_at).isoformat().encode()),
    ]


def inbound_key(row: InboxMessage) -> bytes:
    return f"{row.sender_operator}:{row.message_id}".encode()


async def publish_inbound(producer: Sender, topic: str, row: InboxMessage) -> None:
    await producer.send_and_wait(topic, row.raw, key=inbound_key(row), headers=inbound_headers(row))


#: Re-publish backoff doubles per publish up to this many times the base delay.
MAX_BACKOFF = 32


async def mark_published(
    session: AsyncSession, rows: list[InboxMessage], *, reconcile_after_s: float
) -> None:
    """Record publication and when to re-publish if the message is still not settled.

    The delay doubles with each publish (up to `MAX_BACKOFF` times the base):
    under a long backlog the reconciler must not flood the pipeline with
    copies of messages that are merely queued, not lost. A row the validate
    stage already processed keeps its status.
    """
    if not rows:
        return
    ids = [row.id for row in rows]
    await session.execute(
        update(InboxMessage)
        .where(InboxMessage.id.in_(ids))
        .where(InboxMessage.status == InboxStatus.RECEIVED)
        .values(status=InboxStatus.PUBLISHED)
    )
    now = datetime.now(UTC)
    by_count: dict[int, list[uuid.UUID]] = {}
    for row in rows:
        by_count.setdefault(row.publish_count or 0, []).append(row.id)
    for count, same in by_count.items():
        delay = reconcile_after_s * min(2**count, MAX_BACKOFF)
        await session.execute(
            update(InboxMessage)
            .where(InboxMessage.id.in_(same))
            .values(
                published_at=now,
                publish_count=InboxMessage.publish_count + 1,
                reconcile_at=now + timedelta(seconds=delay),
            )
        )
