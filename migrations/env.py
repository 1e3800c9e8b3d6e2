"""Alembic environment: one async env.py for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Two ways in:

- `service.db.migrate` (and `aedex db upgrade`, and the test fixtures) pass an
  open *sync* connection in `config.attributes["connection"]`; the migrations
  run on it, inside the caller's transaction. This is the only way to migrate
  an in-memory SQLite database, which lives and dies with its connection.
- The `alembic` command line passes nothing; this file opens its own async
  engine (NullPool: a one-shot process keeps no pool) under `asyncio.run`.

The URL is never hard-coded in alembic.ini: `config.attributes["url"]`, else
`sqlalchemy.url`, else `Settings().database_url` (AEDEX_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import service.db.models  # noqa: F401 - registers every table on Base.metadata
from service.db.base import Base
from service.settings import Settings

config = context.config

# Only the alembic command line configures logging from alembic.ini; called from
# the application, fileConfig would replace the application's own handlers.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    return str(url) if url else Settings().database_url


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite alters a table by copying it; batch mode does that, and does the
        # plain ALTER on PostgreSQL, so one migration serves both.
        render_as_batch=True,
        # Autogenerate (and `alembic check`) also compares column types.
        compare_type=True,
        **options,
    )


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: write the SQL instead of running it."""
    _configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    # A plain engine, not service.db.engine.create_engine: SQLite keeps foreign
    # keys off here (its default), because batch mode recreates tables and a
    # DROP TABLE under enforced foreign keys would check or cascade rows.
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        do_run_migrations(shared)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
