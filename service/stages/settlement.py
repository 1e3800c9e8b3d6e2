"""When is a message done? When every one of its items has its answer.

The relay keeps re-publishing an inbox message until it is settled, so this
is the one place that decides it. An item's answer is its fiscal decision,
its rejection or its cancellation acknowledgement (a SECURITY response comes
in addition, never instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.chunks import chunks
from service.db.models import InboxMessage, ItemRecord, Response

#: `dedupe_key` suffixes of the responses that answer an item.
ANSWER_SUFFIXES = (":fiscal", ":rejected", ":cancelled")


def is_answer(dedupe_key: str) -> bool:
    return dedupe_key.endswith(ANSWER_SUFFIXES)


#: The same test in SQL: every response but the additional SECURITY one answers its item.
IS_ANSWER = ~Response.dedupe_key.like("%:security")


async def settle_answered(session: AsyncSession, item_row_ids: Collection[uuid.UUID]) -> int:
    """Settle the messages of these just-answered items whose every item is answered.

    Must run after the answers are flushed in the same transaction. One UPDATE per
    `service.db.chunks.CHUNK` items (a batch is one statement): the messages are found, counted and
    settled in the database, not per item. Returns how many messages were settled.
    """
    settled = 0
    for part in chunks(sorted(item_row_ids)):
        result = await session.execute(
            update(InboxMessage)
            .where(InboxMessage.id.in_(_complete(part)))
            .where(InboxMessage.settled_at.is_(None))
            .values(settled_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
        settled += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return settled


def _complete(item_row_ids: Sequence[uuid.UUID]) -> Select[uuid.UUID]:
    """The messages of these items whose every item has an answer (a subquery)."""
    mine = select(ItemRecord.inbox_id).where(ItemRecord.id.in_(item_row_ids))
    answered = and_(Response.item_row_id == ItemRecord.id, IS_ANSWER)
    return (
        select(ItemRecord.inbox_id)
        .outerjoin(Response, answered)
        .where(ItemRecord.inbox_id.in_(mine))
        .group_by(ItemRecord.inbox_id)
        .having(func.count(Response.id) >= func.count(ItemRecord.id))
    )


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
