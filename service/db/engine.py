"""Async engine and session factory for any of the supported databases."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine with the per-dialect settings aedex relies on, and orjson for JSON columns.

    SQLite: foreign keys on (off by default there), WAL so readers do not block
    the stage writers, and a busy timeout so concurrent processes wait instead
    of failing.
    """
    options.setdefault("json_serializer", json_text)
    options.setdefault("json_deserializer", orjson.loads)
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # 64 MiB of page cache per connection instead of SQLite's 2 MiB: the indexes
            # the stages insert into outgrow 2 MiB within minutes of traffic.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


#: SQLite's page cache per connection, in KiB (a bound: RSS stays flat once it is full).
SQLITE_CACHE_KIB = 64 * 1024


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def json_text(value: Any) -> str:
    """JSON columns through orjson, as every internal hop is: several times faster than
    the standard library on the canonical items, findings and hits the stages store."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
