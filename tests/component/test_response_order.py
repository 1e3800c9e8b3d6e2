"""Response ids are handed out in commit order on PostgreSQL, so the `after` cursor of
GET /v1/responses never skips a row that commits late. (SQLite has one writer at a time:
ids are in commit order there by construction.)"""

from __future__ import annotations

import asyncio

import pytest

from service.db.engine import create_engine, create_sessionmaker
from service.db.ordering import lock_response_order

pytestmark = pytest.mark.pg


async def test_a_second_writer_waits_for_the_first_to_commit(_pg_migrated: str) -> None:
    engine = create_engine(_pg_migrated)
    sessions = create_sessionmaker(engine)
    try:
        first = sessions()
        await first.begin()
        await lock_response_order(first)

        async def second() -> None:
            async with sessions() as session, session.begin():
                await lock_response_order(session)

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not waiting.done(), "a second writer took ids while the first was uncommitted"
        await first.commit()
        await first.close()
        await asyncio.wait_for(waiting, 10)
    finally:
        await engine.dispose()
