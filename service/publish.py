"""Put inbox messages on `aed.inbound`, the one way raw messages enter the pipeline.

Both the API (right after its commit, for low latency) and the relay stage
(for anything the API could not publish, and for the reconciler's re-sends)
go through `publish_inbound`; records carry the DESIGN.md §1 headers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, case, update
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


class Inbound(Protocol):
    """What publishing needs of an inbox message: its `InboxMessage` row, or `Unpublished`."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def sender_operator(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def publish_count(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Unpublished:
    """A message the API has just committed, kept from its insert: publishing and marking
    it need no re-read of its row. This is its first publish (the relay leaves RECEIVED
    rows to the API for `relay_grace_s`), so its backoff starts from a count of 0."""

    id: uuid.UUID
    sender_operator: str
    message_id: str
    source: str
    raw: bytes
    received_at: datetime
    publish_count: int = 0


def inbound_headers(row: Inbound) -> list[tuple[str, bytes]]:
    return [
        ("content-type", CONTENT_TYPE),
        ("source", row.source.encode()),
        ("inbox-id", str(row.id).encode()),
        ("received-at", aware(row.received_at).isoformat().encode()),
    ]


def inbound_key(row: Inbound) -> bytes:
    return f"{row.sender_operator}:{row.message_id}".encode()


async def publish_inbound(producer: Sender, topic: str, row: Inbound) -> None:
    await producer.send_and_wait(topic, row.raw, key=inbound_key(row), headers=inbound_headers(row))


#: Re-publish backoff doubles per publish up to this many times the base delay.
MAX_BACKOFF = 32

_INBOX = cast(Table, InboxMessage.__table__)
#: One UPDATE by primary key, run with one parameter set per row (an executemany). A row
#: the validate stage already processed keeps its status.
_MARK = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("row_id"))
    .values(
        status=case(
            (_INBOX.c.status == InboxStatus.RECEIVED, InboxStatus.PUBLISHED.value),
            else_=_INBOX.c.status,
        ),
        published_at=bindparam("now", type_=_INBOX.c.published_at.type),
        publish_count=_INBOX.c.publish_count + 1,
        reconcile_at=bindparam("due", type_=_INBOX.c.reconcile_at.type),
    )
)


async def mark_published(
    session: AsyncSession, rows: Sequence[Inbound], *, reconcile_after_s: float
) -> None:
    """Record publication and when to re-publish if the message is still not settled.

    The delay doubles with each publish (up to `MAX_BACKOFF` times the base):
    under a long backlog the reconciler must not flood the pipeline with
    copies of messages that are merely queued, not lost. One statement for all
    rows, through Core: nothing is loaded or synchronised.
    """
    if not rows:
        return
    now = datetime.now(UTC)
    await session.execute(
        _MARK,
        [
            {
                "row_id": row.id,
                "now": now,
                "due": now + timedelta(seconds=_delay(row, reconcile_after_s)),
            }
            for row in rows
        ],
    )


def _delay(row: Inbound, base_s: float) -> float:
    return base_s * min(1 << (row.publish_count or 0), MAX_BACKOFF)
