"""When is a message done? When every one of its items has its answer.

The relay keeps re-publishing an inbox message until it is settled, so this
is the one place that decides it. An item's answer is its fiscal decision,
its rejection or its cancellation acknowledgement (a SECURITY response comes
in addition, never instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import InboxMessage, ItemRecord, Response

#: `dedupe_key` suffixes of the responses that answer an item.
ANSWER_SUFFIXES = (":fiscal", ":rejected", ":cancelled")


def is_answer(dedupe_key: str) -> bool:
    return dedupe_key.endswith(ANSWER_SUFFIXES)


#: The same test in SQL: every response but the additional SECURITY one answers its item.
IS_ANSWER = ~Response.dedupe_key.like("%:security")


async def settle_answered(session: AsyncSession, item_row_ids: Collection[uuid.UUID]) -> int:
    """Settle the messages of these just-answered items whose every item is answered.

    Must run after the answers are flushed in the same transaction. Returns how
    many messages were settled.
    """
    if not item_row_ids:
        return 0
    inbox_ids = set(
        await session.scalars(
            select(ItemRecord.inbox_id).where(ItemRecord.id.in_(list(item_row_ids))).distinct()
        )
    )
    if not inbox_ids:
        return 0
    answered = and_(Response.item_row_id == ItemRecord.id, IS_ANSWER)
    counts = await session.execute(
        select(ItemRecord.inbox_id, func.count(ItemRecord.id), func.count(Response.id))
        .outerjoin(Response, answered)
        .where(ItemRecord.inbox_id.in_(inbox_ids))
        .group_by(ItemRecord.inbox_id)
    )
    complete = [inbox_id for inbox_id, items, answers in counts if answers >= items]
    return await settle(session, complete)


async def settle(session: AsyncSession, inbox_ids: Collection[uuid.UUID]) -> int:
    """Mark messages settled: nothing left to answer, so the relay never re-sends them."""
    if not inbox_ids:
        return 0
    result = await session.execute(
        update(InboxMessage)
        .where(InboxMessage.id.in_(list(inbox_ids)))
        .where(InboxMessage.settled_at.is_(None))
        .values(settled_at=datetime.now(UTC))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
