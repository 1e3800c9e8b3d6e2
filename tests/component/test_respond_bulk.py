"""The respond stage's bulk writes: a batch larger than one statement's chunk is stored
and emitted whole, in order, and a redelivered batch stores nothing twice (SQLite and
PostgreSQL; chunks keep every statement under PostgreSQL's bind-parameter limit)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from aiokafka import ConsumerRecord
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.chunks import CHUNK
from service.db.models import InboxMessage, ItemRecord, Response, ReviewTask
from service.settings import Settings
from service.stages.respond import RespondStage

#: Over two chunks: the IN lists, the executemany inserts and settling all split.
ITEMS = 2 * CHUNK + 500
PER_MESSAGE = 500
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _item_row(index: int) -> uuid.UUID:
    return uuid.UUID(int=index + 1)


def _inbox(index: int) -> uuid.UUID:
    return uuid.UUID(int=10**9 + index // PER_MESSAGE)


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The inbox messages and items the answers are about (foreign keys)."""
    async with sessions() as session, session.begin():
        await session.execute(
            insert(cast(Table, InboxMessage.__table__)),
            [
                {
                    "id": _inbox(start),
                    "sender_operator": "OPA",
                    "message_id": f"M{start // PER_MESSAGE}",
                    "kind": "ITMATT",
                    "source": "API",
                    "sha256": "0" * 64,
                    "raw": b"<x/>",
                    "item_count": PER_MESSAGE,
                    "status": "PROCESSED",
                    "received_at": NOW,
                    "publish_count": 1,
                }
                for start in range(0, ITEMS, PER_MESSAGE)
            ],
        )
        await session.execute(
            insert(cast(Table, ItemRecord.__table__)),
            [
                {
                    "id": _item_row(i),
                    "inbox_id": _inbox(i),
                    "position": i % PER_MESSAGE + 1,
                    "item_id": f"EE{i:09d}XX",
                    "sender_operator": "OPA",
                    "message_id": f"M{i // PER_MESSAGE}",
                    "message_function": 9,
                    "version": 1,
                    "status": "ASSESSED",
                    "findings": [],
                    "received_at": NOW,
                }
                for i in range(ITEMS)
            ],
        )


def _records(settings: Settings) -> list[ConsumerRecord[bytes, bytes]]:
    """Every fifth item rejected, every seventh held (a review task), the rest released."""
    records = []
    for i in range(ITEMS):
        body: dict[str, Any] = {
            "item_row_id": str(_item_row(i)),
            "item_id": f"EE{i:09d}XX",
            "sender_operator": "OPA",
            "message_id": f"M{i // PER_MESSAGE}",
        }
        if i % 5 == 0:
            topic = settings.topics.rejected
            body["findings"] = [
                {"code": "SCHEMA", "path": "/x", "message": "bad", "severity": "error"}
            ]
        else:
            topic = settings.topics.assessed
            body |= {
                "kind": "assessment",
                "score": 70 if i % 7 == 0 else 0,
                "action": "HOLD" if i % 7 == 0 else "RELEASE",
                "security_action": None,
                "hits": [{"rule": "R1"}] if i % 7 == 0 else [],
            }
        value = orjson.dumps(body)
        records.append(
            ConsumerRecord(topic, 0, i, 0, 0, body["item_id"].encode(), value, None, 0, 0, [])
        )
    return records


def _held(index: int) -> bool:
    return index % 5 != 0 and index % 7 == 0


async def _count(session: AsyncSession, table: type[Response] | type[ReviewTask]) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_batch_over_the_chunk_size_is_stored_once_and_re_sent_the_same(
    db_sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    settings = Settings(database_url=database_url)
    stage = RespondStage(settings)
    records = _records(settings)
    await _seed(db_sessionmaker)

    async with db_sessionmaker() as session, session.begin():
        first = await stage.handle(session, records)
    async with db_sessionmaker() as session, session.begin():
        again = await stage.handle(session, records)

    assert [o.key for o in first] == [r.key for r in records]
    assert [(o.topic, o.key, o.value, o.headers) for o in again] == [
        (o.topic, o.key, o.value, o.headers) for o in first
    ]
    decisions = [dict(o.headers)["decision"] for o in first]
    assert decisions == [
        b"REJECTED" if i % 5 == 0 else b"HOLD" if _held(i) else b"RELEASE" for i in range(ITEMS)
    ]
    async with db_sessionmaker() as session:
        assert await _count(session, Response) == ITEMS
        assert await _count(session, ReviewTask) == sum(_held(i) for i in range(ITEMS))
        # Ids follow the batch's order (the cursor of GET /v1/responses pages by id).
        keys = list(await session.scalars(select(Response.dedupe_key).order_by(Response.id)))
        assert [key.split(":")[0] for key in keys] == [str(_item_row(i)) for i in range(ITEMS)]
        unsettled = await session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.settled_at.is_(None))
        )
        assert unsettled == 0
    # The stored CUSRSP is what went out.
    async with db_sessionmaker() as session:
        xml = await session.scalar(
            select(Response.xml).where(Response.dedupe_key == f"{_item_row(1)}:fiscal")
        )
    assert first[1].value == (xml or "").encode("utf-8")


async def test_a_duplicate_in_one_batch_is_stored_once(
    db_sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    settings = Settings(database_url=database_url)
    stage = RespondStage(settings)
    await _seed(db_sessionmaker)
    record = _records(settings)[7]  # held: a response and a review task

    async with db_sessionmaker() as session, session.begin():
        out = await stage.handle(session, [record, record])

    assert len(out) == 1
    async with db_sessionmaker() as session:
        assert await _count(session, Response) == 1
        assert await _count(session, ReviewTask) == 1
