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
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.chunks import chunks
from service.db.models import InboxMessage, ItemRecord, Response

#: `dedupe_key` suffixes of the responses that answer an item.
ANSWER_SUFFIXES = (":fiscal", ":rejected", ":cancelled")


def is_answer(dedupe_key: str) -> bool:
    return dedupe_key.endswith(ANSWER_SUFFIXES)


#: The same test in SQL: every response but the additional SECURITY one answers its item.
IS_ANSWER = ~Response.dedupe_key.like("%:security")

_INBOX = cast(Table, InboxMessage.__table__)


async def settle_answered(session: AsyncSession, item_row_ids: Collection[uuid.UUID]) -> int:
    """Settle the messages of these just-answered items whose every item is answered.

    Must run after the answers are flushed in the same transaction. One UPDATE per
    `service.db.chunks.CHUNK` items (a batch is one statement): the messages are found, counted and
    settled in the database, not per item. Returns how many messages were settled.
    """
    settled = 0
    for part in chunks(sorted(item_row_ids)):
        result = await session.execute(
            _SETTLE, {"item_row_ids": list(part), "now": datetime.now(UTC)}
        )
        settled += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return settled


def _complete() -> Select[uuid.UUID]:
    """The messages of the items `:item_row_ids` whose every item has an answer."""
    mine = select(ItemRecord.inbox_id).where(
        ItemRecord.id.in_(bindparam("item_row_ids", expanding=True))
    )
    answered = and_(Response.item_row_id == ItemRecord.id, IS_ANSWER)
    return (
        select(ItemRecord.inbox_id)
        .outerjoin(Response, answered)
        .where(ItemRecord.inbox_id.in_(mine))
        .group_by(ItemRecord.inbox_id)
        .having(func.count(Response.id) >= func.count(ItemRecord.id))
    )


#: Built once (through Core): built per batch, the statement's construction and the ORM's
#: bulk-update path cost more than the query (most of a small respond batch's time).
_SETTLE = (
    update(_INBOX)
    .where(_INBOX.c.id.in_(_complete()))
    .where(_INBOX.c.settled_at.is_(None))
    .values(settled_at=bindparam("now", type_=_INBOX.c.settled_at.type))
)
