"""Run the Alembic migrations from Python: `aedex db`, `aedex run` and the tests.

The migrations always run on a connection handed to `migrations/env.py`
(`config.attributes["connection"]`), never on one env.py opens itself. That
lets a caller migrate an in-memory SQLite database (it exists only on its one
connection), migrate inside its own transaction, and keep its own logging:
env.py configures logging only for the `alembic` command line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

#: The repository root: alembic.ini and migrations/ live there, next to the
#: packages (the project is installed editable, so this file is in the checkout).
ROOT = Path(__file__).resolve().parents[2]

#: Where to migrate: a URL, an engine, or an open connection (in-memory SQLite).
Target = str | AsyncEngine | AsyncConnection

_T = TypeVar("_T")


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic configuration, wherever the current directory is.

    `url`, when given, goes into `config.attributes` rather than the ini options,
    so a password with `%` in it needs no escaping; env.py prefers it to any
    other source of the URL.
    """
    ini = ROOT / "alembic.ini"
    if not ini.is_file():
        raise FileNotFoundError(
            f"{ini} not found: migrations run from a source checkout (pip install -e .)"
        )
    config = Config(str(ini))
    config.attributes["configure_logger"] = False
    if url is not None:
        config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    """The newest revision in migrations/versions (None if there is none)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision_on(connection: Connection) -> str | None:
    """The revision a database is at; None for an empty (never migrated) database."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_on(connection: Connection, revision: str = "head") -> str | None:
    """Upgrade through an open sync connection; returns the revision reached.

    For `AsyncConnection.run_sync`. If the connection is in a transaction, the
    migrations join it and the caller commits; otherwise Alembic commits.
    """
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return current_revision_on(connection)


def downgrade_on(connection: Connection, revision: str) -> str | None:
    """Downgrade through an open sync connection (see `upgrade_on`); returns the revision reached."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
    return current_revision_on(connection)


async def upgrade(target: Target, revision: str = "head") -> str | None:
    """Apply the migrations up to `revision`; returns the revision the database is at.

    Given a URL or an engine, the whole upgrade is one transaction (atomic on
    PostgreSQL, whose DDL is transactional). Given a connection, it runs on that
    connection, which is how an in-memory SQLite database is migrated.
    """
    return await _run(target, upgrade_on, revision)


async def downgrade(target: Target, revision: str) -> str | None:
    """Revert the migrations down to `revision` ("base": drop every table)."""
    return await _run(target, downgrade_on, revision)


async def current_revision(target: Target) -> str | None:
    """The revision the database is at; None if it was never migrated."""
    return await _run(target, current_revision_on)


def upgrade_sync(url: str, revision: str = "head") -> str | None:
    """`upgrade` for synchronous callers (the CLI); not from inside a running event loop."""
    return asyncio.run(upgrade(url, revision))


async def _run(target: Target, work: Callable[..., _T], *args: str) -> _T:
    if isinstance(target, AsyncConnection):
        return await target.run_sync(work, *args)
    # A URL gets a plain engine: SQLite keeps foreign keys off while tables are
    # created and dropped (batch mode copies tables), and NullPool leaves no
    # connection behind, so a PostgreSQL template database is free to copy.
    engine = (
        create_async_engine(target, poolclass=pool.NullPool) if isinstance(target, str) else target
    )
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work, *args)
    finally:
        if isinstance(target, str):
            await engine.dispose()
