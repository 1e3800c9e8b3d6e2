"""Risk windows that survive restarts: in memory for speed, written through to the database.

The assess stage reads `aed.validated`, keyed by addressee, so one process
sees every item of the addressees on its partitions: the addressee and the
sender>addressee windows are complete in its memory. Every observation is also
written to `window_events` in the batch's transaction, and a process that
(re)gains partitions reloads the retention period from there.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from messages.canonical import Item
from risk.state import DEFAULT_RETENTION, InMemoryState, event_time, window_entries
from service.db.chunks import chunks
from service.db.models import WindowEvent


class PersistentWindows(InMemoryState):
    """The assess stage's windows. Reference values are the packaged, versioned table:
    nothing is learned from live traffic (`learn=False`), because a reference that moved
    with the traffic would make a decision depend on the order partitions are read in and
    on how long the process has run (a rebalance would reset it), so no replay, backtest
    or restart could reproduce it (README, design notes)."""

    def __init__(self, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        super().__init__(retention=retention, learn=False)
        self._retention_s = retention.total_seconds()
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}

    def observe(self, item: Item) -> None:
        super().observe(item)
        at = event_time(item).timestamp()
        value = item.total_value_eur or Decimal(0)
        for key, member in window_entries(item):
            self._pending[(key, member)] = {
                "key": key[:200],
                "item_id": member,
                "at": at,
                "value_eur": value,
            }

    async def flush(self, session: AsyncSession) -> None:
        """Write this batch's observations (a replacement updates its item's time and value)."""
        if not self._pending:
            return
        rows = list(self._pending.values())
        self._pending.clear()
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        statement = _upsert(dialect)
        for part in chunks(rows):
            await session.execute(statement, list(part))

    def discard_pending(self) -> None:
        """The batch's transaction failed: its rows will come again with the redelivery."""
        self._pending.clear()

    async def load(self, session: AsyncSession) -> int:
        """Reload the retention period before the newest stored event; returns rows read."""
        newest = await session.scalar(select(func.max(WindowEvent.at)))
        if newest is None:
            return 0
        count = 0
        result = await session.stream(
            select(WindowEvent.key, WindowEvent.item_id, WindowEvent.at, WindowEvent.value_eur)
            .where(WindowEvent.at >= newest - self._retention_s)
            .order_by(WindowEvent.at)
            .execution_options(yield_per=5000)
        )
        async for key, item_id, at, value in result:
            self.restore(key, item_id, at, value)
            count += 1
        return count


@functools.cache
def _upsert(dialect: str) -> Insert:
    """One statement per dialect, built once and run with many parameter sets: built and
    compiled afresh per batch with the rows inlined, it cost more than the risk engine."""
    table = cast(Table, WindowEvent.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["key", "item_id"],
        set_={"at": statement.excluded.at, "value_eur": statement.excluded.value_eur},
    )
