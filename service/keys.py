"""Operator API keys: random 256-bit tokens, stored only as SHA-256 digests.

A key is high-entropy, so a fast digest is enough to make the stored value
useless to a thief (passwords, which are not, use Argon2). The key is shown
once, when created.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import create_engine, create_sessionmaker
from service.db.models import ApiKey, Operator

KEY_PREFIX = "aedex_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_key(session: AsyncSession, *, operator: str, name: str | None = None) -> str:
    """A new key for `operator` (created when unknown); returns the key itself."""
    if await session.get(Operator, operator) is None:
        session.add(Operator(code=operator, name=name or operator))
        await session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(operator_code=operator, digest=digest(key), prefix=key[:12]))
    await session.flush()
    return key


async def operator_for_key(session: AsyncSession, key: str) -> str | None:
    """The operator code a live key belongs to, or None."""
    found = await session.scalar(
        select(ApiKey.operator_code).where(
            ApiKey.digest == digest(key), ApiKey.revoked_at.is_(None)
        )
    )
    return found


async def create_keys(
    database_url: str, operators: list[str], *, names: dict[str, str] | None = None
) -> dict[str, str]:
    """One new key per operator, in one transaction on its own engine (CLI and demo);
    `names` names operators that are new."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return {
                code: await create_key(session, operator=code, name=(names or {}).get(code))
                for code in operators
            }
    finally:
        await engine.dispose()
