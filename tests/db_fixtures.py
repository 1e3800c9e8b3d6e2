"""Database fixtures: real, migrated SQLite and PostgreSQL databases, one per test.

`database_url` runs each test that asks for it twice, on SQLite and on
PostgreSQL (marked `pg`; skipped, with the reason, when no server is there).
Every test gets a database of its own, already at the newest revision:

- The real migrations run once per session (per xdist worker) into a template:
  a SQLite file, and a PostgreSQL database.
- Each test gets a copy: a file copy for SQLite (well under 1 ms, against
  ~0.4 s to migrate a new file), `CREATE DATABASE ... TEMPLATE` for PostgreSQL
  (~0.15-0.2 s with the drop, against ~0.5 s for downgrade base + upgrade head).

A copy per test, rather than one rolled-back transaction per test, because
the code under test opens its own engines and commits (the API's lifespan, the
stage workers): a test's database must survive commits and many connections.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, database `test`,
trust auth), or `AEDEX_TEST_DATABASE_URL`: any database there whose user may
create databases. Scratch databases are named after the xdist worker, the pid
and a random token, and are dropped WITH (FORCE) when done.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.db.engine import create_engine, create_sessionmaker
from service.db.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_ABSENT = "PostgreSQL not reachable at 127.0.0.1:5432 and AEDEX_TEST_DATABASE_URL not set"

#: Each scratch database gets a new number; the session root name keeps them unique.
_numbers = itertools.count(1)


@cache
def postgres_url() -> str | None:
    """The PostgreSQL server to test against, as an asyncpg URL; None if there is none.

    AEDEX_TEST_DATABASE_URL wins; otherwise the local server, if a TCP connect to
    127.0.0.1:5432 succeeds within a second.
    """
    configured = os.environ.get("AEDEX_TEST_DATABASE_URL", "").strip()
    if configured:
        url = make_url(configured)
        if url.drivername == "postgresql":  # a plain libpq-style URL: use the async driver
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    return DEFAULT_POSTGRES_URL


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@asynccontextmanager
async def _scratch_database(server_url: str, name: str, *, template: str) -> AsyncIterator[str]:
    """Create database `name` as a copy of `template`; drop it on the way out.

    CREATE/DROP DATABASE cannot run in a transaction: AUTOCOMMIT. FORCE on the
    drop ends any connection a test left open, so teardown never hangs.
    """
    admin = create_async_engine(server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield _database_url(server_url, name)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_database_url() -> AsyncIterator[str]:
    """An empty scratch database for this session (and xdist worker), dropped at the end.

    Shared by every test of the session that asks for it; a test that needs a
    database to itself asks for `database_url` or `empty_database_url`. Its
    name is the root of the names of the per-test databases.
    """
    server = postgres_url()
    if server is None:
        pytest.skip(PG_ABSENT)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"aedex_test_{worker}_{os.getpid()}_{secrets.token_hex(4)}"
    async with _scratch_database(server, name, template="template0") as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _pg_template(pg_database_url: str) -> AsyncIterator[str]:
    """Name of a database migrated to head once per session, for per-test copies.

    PostgreSQL copies a template only while nobody is connected to it: the
    upgrade's engine uses NullPool and is disposed, and no test connects here.
    """
    server = postgres_url()
    assert server is not None  # pg_database_url skipped otherwise
    name = f"{make_url(pg_database_url).database}_tpl"
    async with _scratch_database(server, name, template="template0") as url:
        await upgrade(url)
        yield name


@pytest_asyncio.fixture
async def _pg_migrated(pg_database_url: str, _pg_template: str) -> AsyncIterator[str]:
    server = postgres_url()
    assert server is not None
    name = f"{make_url(pg_database_url).database}_{next(_numbers)}"
    async with _scratch_database(server, name, template=_pg_template) as url:
        yield url


@pytest_asyncio.fixture
async def _pg_empty(pg_database_url: str) -> AsyncIterator[str]:
    server = postgres_url()
    assert server is not None
    name = f"{make_url(pg_database_url).database}_{next(_numbers)}"
    async with _scratch_database(server, name, template="template0") as url:
        yield url


# --- SQLite ----------------------------------------------------------------------------------


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A URL for a SQLite file that does not exist yet (the first connection creates it)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'aedex.db'}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session (tmp_path_factory is per worker)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "aedex.db"
    # A plain engine leaves the file in rollback-journal mode, so the one file is
    # the whole database and copying it copies everything.
    await upgrade(f"sqlite+aiosqlite:///{path}")
    return path


# --- Either ----------------------------------------------------------------------------------

_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.fixture(params=_BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A database of this test's own, migrated to head: SQLite, then PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("_pg_migrated"))
    template: Path = request.getfixturevalue("_sqlite_template")
    url: str = request.getfixturevalue("sqlite_database_url")
    destination = make_url(url).database
    assert destination is not None
    shutil.copyfile(template, destination)
    return url


@pytest.fixture
def sqlite_migrated_url(sqlite_database_url: str, _sqlite_template: Path) -> str:
    """A SQLite database of this test's own, migrated to head (for SQLite-only tests)."""
    destination = make_url(sqlite_database_url).database
    assert destination is not None
    shutil.copyfile(_sqlite_template, destination)
    return sqlite_database_url


@pytest.fixture(params=_BACKENDS)
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """A database of this test's own with no tables at all: SQLite, then PostgreSQL."""
    name = "_pg_empty" if request.param == "postgresql" else "sqlite_database_url"
    return str(request.getfixturevalue(name))


@pytest_asyncio.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The service's engine (SQLite pragmas included) on this test's database."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def db_sessionmaker(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(db_engine)
