"""Officers' accounts: Argon2 password hashes, bearer tokens, roles, and the audit of changes.

Passwords are low-entropy, so they are hashed with Argon2id (argon2-cffi's
defaults, RFC 9106's second recommended profile); tokens are 256-bit random,
so a SHA-256 digest is enough, as for operator keys. Every change to an
account is written to the append-only audit log in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AuditEntry, Role, User, UserToken
from service.keys import digest

#: Officer tokens start so; operator keys start "aedex_": a glance tells them apart.
TOKEN_PREFIX = "aedexu_"  # noqa: S105 - a public prefix, not a secret
#: Roles that sign in (operators have API keys), lowest first: each includes the ones before.
STAFF_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024

_hasher = PasswordHasher()


class AccountError(Exception):
    """A refused account change, said plainly (the CLI prints it as one line)."""


@dataclass(frozen=True, slots=True)
class Staff:
    """Who is calling a review, audit or user route."""

    username: str
    role: Role

    def at_least(self, role: Role) -> bool:
        return STAFF_ROLES.index(self.role) >= STAFF_ROLES.index(role)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A generated password: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters; got {len(password)}"
        )


def _role(role: str) -> Role:
    try:
        found = Role(role.lower())
    except ValueError:
        found = None
    if found not in STAFF_ROLES:
        names = ", ".join(r.value for r in STAFF_ROLES)
        raise AccountError(f"role {role!r} is not one of {names} (operators use API keys)")
    assert found is not None
    return found


def audit(session: AsyncSession, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Append one audit entry (the caller commits it with the change it records)."""
    session.add(AuditEntry(actor=actor, action=action, subject=subject, detail=detail))


async def _user(session: AsyncSession, username: str) -> User:
    found = await session.scalar(select(User).where(User.username == username))
    if found is None:
        raise AccountError(f"no user {username!r}")
    return found


async def create_user(
    session: AsyncSession, username: str, role: str, password: str, *, actor: str
) -> User:
    username = username.strip()
    if not username or len(username) > 100 or not username.isprintable():
        raise AccountError("a user name has 1 to 100 printable characters")
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already")
    _check_password(password)
    user = User(username=username, password_hash=hash_password(password), role=_role(role))
    session.add(user)
    audit(session, actor, "user.create", username, role=user.role)
    await session.flush()
    return user


async def disable_user(session: AsyncSession, username: str, *, actor: str) -> None:
    """The user can no longer log in, and every token of theirs stops working."""
    user = await _user(session, username)
    now = datetime.now(UTC)
    if user.disabled_at is None:
        user.disabled_at = now
    await session.execute(
        update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit(session, actor, "user.disable", username)


async def reset_password(
    session: AsyncSession, username: str, password: str, *, actor: str
) -> None:
    _check_password(password)
    user = await _user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit(session, actor, "user.reset_password", username)


async def issue_token(session: AsyncSession, username: str, *, actor: str) -> str:
    """A new bearer token for the user; returns the token itself (stored as a digest)."""
    user = await _user(session, username)
    if user.disabled_at is not None:
        raise AccountError(f"user {username!r} is disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, digest=digest(token), prefix=token[:12]))
    audit(session, actor, "user.token", username, prefix=token[:12])
    await session.flush()
    return token


async def staff_for_token(session: AsyncSession, token: str) -> Staff | None:
    """The live, enabled user a token belongs to, or None."""
    row = (
        await session.execute(
            select(User.username, User.role)
            .join(UserToken, UserToken.user_id == User.id)
            .where(
                UserToken.digest == digest(token),
                UserToken.revoked_at.is_(None),
                User.disabled_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    return Staff(username=row.username, role=Role(row.role))
