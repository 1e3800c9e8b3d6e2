"""Capture what the API received into a recording file (`aedex record --http`).

A stream posted over HTTP is replayed over HTTP, each message under its own
operator's key: what is tested then is the whole intake (authentication, the
sender check, the inbox insert, the publish after commit), not only the stages
behind `aed.inbound`. The API keeps every message it accepted in the inbox, so
the inbox is the record of that stream; a manifest is kept there as the CUSITM
XML it was converted to, so every row replays through POST /v1/messages.

Only rows the API received are read (source API or EXPRESS): a message produced
straight to Kafka (source KAFKA) was never posted; a capture of the topic
records it. Each row becomes one record, keyed as the relay publishes it, with
its operator, MessageId, kind, source and receipt time as headers. Rows are read
in pages by keyset (receipt time, then id), so a long period never sits in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.base import aware
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import InboxMessage
from service.harness.capture import Period, aedex_version
from service.harness.recording import Recorded, RecordingWriter
from service.publish import Unpublished, inbound_key

if TYPE_CHECKING:
    from typing import TypeAlias

    #: The columns `_COLUMNS` selects, in their order.
    InboxRow: TypeAlias = Row[uuid.UUID, str, str, str, str, bytes, datetime]

#: Inbox rows read per query.
PAGE = 1000
#: The sources of rows the API received (service/api/intake.py).
HTTP_SOURCES = ("API", "EXPRESS")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_COLUMNS = (
    InboxMessage.id,
    InboxMessage.sender_operator,
    InboxMessage.message_id,
    InboxMessage.kind,
    InboxMessage.source,
    InboxMessage.raw,
    InboxMessage.received_at,
)


async def record_http(
    database_url: str,
    out: Path,
    *,
    period: Period | None = None,
    count: int | None = None,
    topic: str | None = None,
    page: int = PAGE,
) -> int:
    """Write the inbox rows the API received in `period` to `out`, oldest first; returns how
    many were written. `topic` is the header's: where the relay publishes these rows."""
    period = period or Period()
    header = {
        "topic": topic,
        "source": "http",
        "aedex": aedex_version(),
        **period.header(),
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)
        with out.open("wb") as file, RecordingWriter(file, header) as writer:
            async for row in _rows(sessions, period, count, page):
                writer.write(_recorded(row, writer.count))
            return writer.count
    finally:
        await engine.dispose()


async def _rows(
    sessions: async_sessionmaker[AsyncSession], period: Period, count: int | None, page: int
) -> AsyncIterator[InboxRow]:
    """The period's rows in (received_at, id) order, one page per query and transaction."""
    # In UTC: SQLite keeps times as text in UTC without an offset, and compares them as text.
    inside: list[ColumnElement[bool]] = [InboxMessage.source.in_(HTTP_SOURCES)]
    if period.since is not None:
        inside.append(InboxMessage.received_at >= period.since.astimezone(UTC))
    if period.until is not None:
        inside.append(InboxMessage.received_at <= period.until.astimezone(UTC))
    last: tuple[datetime, uuid.UUID] | None = None
    left = count
    while left is None or left > 0:
        after = [] if last is None else [_after(*last)]
        limit = page if left is None else min(page, left)
        async with sessions() as session:
            rows = list(
                await session.execute(
                    select(*_COLUMNS)
                    .where(*inside, *after)
                    .order_by(InboxMessage.received_at, InboxMessage.id)
                    .limit(limit)
                )
            )
        for row in rows:
            yield row
        if len(rows) < limit:
            return
        last = (rows[-1].received_at, rows[-1].id)
        left = None if left is None else left - len(rows)


def _after(received_at: datetime, row_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows after (received_at, id) in the capture's order: the keyset of the next page."""
    return or_(
        InboxMessage.received_at > received_at,
        and_(InboxMessage.received_at == received_at, InboxMessage.id > row_id),
    )


def _recorded(row: InboxRow, position: int) -> Recorded:
    """One inbox row as a record: its receipt time, its place in the recording as the
    offset (the row id, a UUID, is the `inbox-id` header), the relay's key, the raw bytes."""
    received_at = aware(row.received_at)
    inbound = Unpublished(
        id=row.id,
        sender_operator=row.sender_operator,
        message_id=row.message_id,
        source=row.source,
        raw=row.raw,
        received_at=received_at,
    )
    headers: tuple[tuple[str, bytes | None], ...] = (
        ("sender-operator", row.sender_operator.encode()),
        ("message-id", row.message_id.encode()),
        ("kind", row.kind.encode()),
        ("source", row.source.encode()),
        ("received-at", received_at.isoformat().encode()),
        ("inbox-id", str(row.id).encode()),
    )
    return Recorded(
        timestamp_ms=(received_at - _EPOCH) // _MILLISECOND,
        partition=0,
        offset=position,
        key=inbound_key(inbound),
        value=row.raw,
        headers=headers,
    )
