"""Put inbox messages on `aed.inbound`, the one way raw messages enter the pipeline.

Both the API (right after its commit, for low latency) and the relay stage
(for anything the API could not publish, and for the reconciler's re-sends)
go through `publish_inbound`; records carry the DESIGN.md §1 headers.
"""

from __future__ import annotations

from datetime import UTC, datetime
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


async def mark_published(session: AsyncSession, rows: list[InboxMessage]) -> None:
    """Record publication; a row the validate stage already processed keeps its status."""
    if not rows:
        return
    await session.execute(
        update(InboxMessage)
        .where(InboxMessage.id.in_([row.id for row in rows]))
        .where(InboxMessage.status == InboxStatus.RECEIVED)
        .values(status=InboxStatus.PUBLISHED)
    )
    await session.execute(
        update(InboxMessage)
        .where(InboxMessage.id.in_([row.id for row in rows]))
        .values(published_at=datetime.now(UTC), publish_count=InboxMessage.publish_count + 1)
    )
