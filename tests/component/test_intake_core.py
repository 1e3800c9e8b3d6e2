"""Intake's hot path on Core (SQLite and PostgreSQL): a new message is one INSERT, its
publication is marked with one UPDATE, and nothing is read back; duplicates and reused
MessageIds are told apart as before, and the records are those the relay would send."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from messages.codec import encode_itmatt
from messages.xml import XmlLimits
from service.api.deps import Runtime
from service.api.intake import _publish
from service.db.base import aware
from service.db.models import InboxMessage, InboxStatus
from service.errors import AedexError
from service.intake import accept, read_envelope
from service.metrics import Metrics
from service.publish import Unpublished, inbound_headers, inbound_key, mark_published
from service.settings import Settings
from tests import builders

BASE_S = 60.0


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]] | None]] = []

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> object:
        self.sent.append((topic, value, key, headers))
        return None


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block (an executemany counts once)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]).split()[0])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def _message(message_id: str = "CNA-20261122-000001", **header: Any) -> bytes:
    return encode_itmatt(builders.itmatt(message_id=message_id, **header))


async def _accept(session: AsyncSession, data: bytes) -> Any:
    return await accept(session, data=data, envelope=read_envelope(data, XmlLimits()), source="API")


async def test_a_new_message_is_one_insert_and_readable_in_the_same_transaction(
    db_engine: AsyncEngine, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    data = _message()
    async with db_sessionmaker() as session, session.begin():
        with _statements(db_engine) as seen:
            accepted = await _accept(session, data)
        assert seen == ["INSERT"]
        # What the validate stage does with a record produced straight to Kafka.
        row = await session.get(InboxMessage, accepted.inbox_id)
        assert row is not None
        assert (row.raw, row.status, row.publish_count, row.source) == (
            data,
            InboxStatus.RECEIVED,
            0,
            "API",
        )
        assert aware(row.received_at) == accepted.received_at
    assert (accepted.duplicate, accepted.items, accepted.kind) == (False, 1, "ITMATT")


async def test_the_same_bytes_are_a_duplicate_and_other_bytes_are_refused(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    data = _message()
    async with db_sessionmaker() as session, session.begin():
        first = await _accept(session, data)
    async with db_sessionmaker() as session, session.begin():
        again = await _accept(session, data)
    assert again.duplicate and again.inbox_id == first.inbox_id
    async with db_sessionmaker() as session, session.begin():
        with pytest.raises(AedexError) as refused:
            await _accept(session, _message(recipient_operator="DHL"))
    assert refused.value.code == "MESSAGE_ID_REUSED"
    async with db_sessionmaker() as session:
        assert len(list(await session.scalars(select(InboxMessage.id)))) == 1


async def test_the_api_publishes_what_it_kept_and_marks_it_with_one_update(
    db_engine: AsyncEngine, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url="sqlite://", reconcile_after_s=BASE_S)
    producer = _Producer()
    rt = Runtime(settings, db_engine, db_sessionmaker, Metrics(), producer=cast(Any, producer))
    data = _message()
    async with db_sessionmaker() as session, session.begin():
        accepted = await _accept(session, data)
    kept = Unpublished(
        id=accepted.inbox_id,
        sender_operator=accepted.sender_operator,
        message_id=accepted.message_id,
        source="API",
        raw=data,
        received_at=accepted.received_at,
    )

    with _statements(db_engine) as seen:
        await _publish(rt, [kept])

    assert seen == ["UPDATE"]
    async with db_sessionmaker() as session:
        row = await session.get(InboxMessage, accepted.inbox_id)
    assert row is not None
    # The very record the relay would have sent from the stored row.
    assert producer.sent == [
        (settings.topics.inbound, data, inbound_key(row), inbound_headers(row))
    ]
    assert (row.status, row.publish_count) == (InboxStatus.PUBLISHED, 1)
    assert row.published_at is not None and row.reconcile_at is not None
    assert aware(row.reconcile_at) - aware(row.published_at) == timedelta(seconds=BASE_S)


async def test_marking_keeps_a_processed_status_and_backs_off_per_publish(
    db_engine: AsyncEngine, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    fields = {"sender_operator": "CNA", "kind": "ITMATT", "source": "API", "sha256": "0" * 64,
              "raw": b"<x/>", "item_count": 1, "received_at": now}  # fmt: skip
    new, seen_before = uuid.uuid4(), uuid.uuid4()
    async with db_sessionmaker() as session, session.begin():
        await session.execute(
            insert(InboxMessage),
            [
                {
                    **fields,
                    "id": new,
                    "message_id": "A",
                    "status": InboxStatus.RECEIVED,
                    "publish_count": 0,
                },
                {
                    **fields,
                    "id": seen_before,
                    "message_id": "B",
                    "status": InboxStatus.PROCESSED,
                    "publish_count": 3,
                },
            ],  # fmt: skip
        )
    async with db_sessionmaker() as session, session.begin():
        rows = list(await session.scalars(select(InboxMessage).order_by(InboxMessage.message_id)))
        with _statements(db_engine) as seen:
            await mark_published(session, rows, reconcile_after_s=BASE_S)
    assert seen == ["UPDATE"]
    async with db_sessionmaker() as session:
        marked = {
            row.id: row
            for row in await session.scalars(
                select(InboxMessage).execution_options(populate_existing=True)
            )
        }
    expected = {new: (InboxStatus.PUBLISHED, 1, 1), seen_before: (InboxStatus.PROCESSED, 4, 8)}
    for key, (status, count, factor) in expected.items():
        row = marked[key]
        assert (row.status, row.publish_count) == (status, count)
        assert row.reconcile_at is not None and row.published_at is not None
        delay = aware(row.reconcile_at) - aware(row.published_at)
        assert delay == timedelta(seconds=BASE_S * factor)
