"""Response ids in commit order, so a reader's cursor never skips a row.

`GET /v1/responses?after=ID` pages by id. On PostgreSQL two transactions can
take ids 100 and 101 and commit in the other order: a reader that saw 101
first would move its cursor past 100 and never see it. Every transaction that
inserts responses therefore takes one transaction-scoped advisory lock before
it inserts, so ids are handed out in the order the inserts commit. SQLite has
a single writer already, so there is nothing to do there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: The advisory lock key of the responses table (any constant the project owns).
RESPONSES_ORDER_LOCK = 0x_AED_0001
#: Built once: the lock is taken by every batch of answers, on the hot path.
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


async def lock_response_order(session: AsyncSession) -> None:
    """Call in the transaction before inserting responses; held until it ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_LOCK, {"key": RESPONSES_ORDER_LOCK})
