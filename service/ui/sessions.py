"""Sign-in for the officers' web UI: server-side sessions, lockout, and the CSRF check.

The browser holds a random 256-bit token in the `aedex_session` cookie (HttpOnly,
SameSite=Lax, Path=/ui); the `ui_sessions` table holds only its SHA-256 digest,
so logging out or disabling a user ends the session at once, and idle and
absolute expiry are checked on every request.

Pages declare what they need in their signature:

- `ui: UiStaffDep` (a `UiStaff`): the signed-in officer, `.staff` (a `Staff`) and
  `.csrf_token` (put it in every form as `<input name="csrf_token">`). Without a
  live session a GET is redirected (303) to /ui/login, anything else gets a 401 page.
- `ui: UiCsrfDep`: the same, for a state-changing POST: the request must also carry
  the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`), else 403.
- `await read_form(request)`: the urlencoded form fields (parsed once, size-capped;
  python-multipart is not a dependency, so FastAPI's `Form()` is not used).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts import STAFF_ROLES, Staff, audit, hash_password, password_matches
from service.api.deps import RuntimeDep, SessionDep
from service.db.base import aware
from service.db.models import Role, UiSession, User
from service.keys import digest
from service.settings import Settings

SESSION_COOKIE = "aedex_session"
COOKIE_PATH = "/ui"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: What a failed login says, whichever part was wrong (no hint that the user exists).
GENERIC_FAILURE = "unknown user or wrong password"
#: A UI form is a few fields; anything larger is not one of ours.
MAX_FORM_BYTES = 64 * 1024
#: Forms that carry a document: a ruleset's YAML (1 MB at most; URL-encoding multiplies
#: non-ASCII text up to nine times).
LARGE_FORMS = {"/ui/rules": 10 * 1024 * 1024}
#: last_seen_at is written at most this often (one UPDATE a minute, not one per request).
TOUCH_EVERY = timedelta(seconds=60)


class UiRefusal(Exception):
    """A UI request refused with a page (or, for `location`, a redirect); see routes.install."""

    def __init__(self, status: int, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.location = location


@dataclass(frozen=True, slots=True)
class UiStaff:
    """The signed-in officer of a UI request, and the token their forms must carry."""

    staff: Staff
    csrf_token: str
    session_id: str


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A login attempt's result: a new cookie token, or the message to show."""

    token: str | None = None
    message: str = ""
    status: int = 200


@cache
def _dummy_hash() -> str:
    # An unknown user name costs one Argon2 verify too, so timing does not tell names apart.
    return hash_password(secrets.token_urlsafe(32))


def lockout_for(failures: int, settings: Settings) -> timedelta | None:
    """How long the account refuses logins after `failures` failures in a row (None: not)."""
    if failures < settings.ui_lockout_after:
        return None
    seconds = settings.ui_lockout_base_s * 2 ** min(failures - settings.ui_lockout_after, 32)
    return timedelta(seconds=min(seconds, settings.ui_lockout_max_s))


async def _verify(stored_hash: str, password: str) -> bool:
    # Argon2 takes tens of milliseconds of CPU: off the event loop.
    return await asyncio.to_thread(password_matches, stored_hash, password)


async def log_in(
    session: AsyncSession, *, username: str, password: str, settings: Settings, now: datetime
) -> LoginOutcome:
    """Check a password and open a session; every attempt is audited (the caller commits)."""
    tried = username.strip()[:100]
    user = await session.scalar(select(User).where(User.username == tried)) if tried else None
    if user is not None and user.locked_until is not None and aware(user.locked_until) > now:
        wait = int((aware(user.locked_until) - now).total_seconds()) + 1
        audit(session, tried, "login.locked", tried, retry_after_s=wait)
        return LoginOutcome(message=f"account locked, try again in {wait} s", status=429)
    matches = await _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or user.disabled_at is not None or not matches:
        reason = "unknown" if user is None else "disabled" if user.disabled_at else "password"
        detail: dict[str, object] = {"reason": reason}
        if user is not None and user.disabled_at is None:
            # One UPDATE, so concurrent failures are all counted.
            failures = await session.scalar(
                update(User)
                .where(User.id == user.id)
                .values(failed_logins=User.failed_logins + 1)
                .returning(User.failed_logins)
            )
            lock = lockout_for(failures or 0, settings)
            if lock is not None:
                user.locked_until = now + lock
                detail["locked_for_s"] = int(lock.total_seconds())
            detail["failures"] = failures
        audit(session, tried or "-", "login.failed", tried or "-", **detail)
        return LoginOutcome(message=GENERIC_FAILURE, status=401)
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    session.add(
        UiSession(
            id=digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    audit(session, user.username, "login", user.username)
    await session.flush()
    return LoginOutcome(token=token)


async def end_session(session: AsyncSession, ui: UiStaff, *, now: datetime) -> None:
    await session.execute(
        update(UiSession).where(UiSession.id == ui.session_id).values(ended_at=now)
    )
    audit(session, ui.staff.username, "logout", ui.staff.username)


async def live_session(
    session: AsyncSession, token: str, *, settings: Settings, now: datetime
) -> UiStaff | None:
    """The officer a cookie token signs in, if the session is live; refreshes last_seen_at."""
    found = (
        await session.execute(
            select(UiSession, User.username, User.role)
            .join(User, User.id == UiSession.user_id)
            .where(
                UiSession.id == digest(token),
                UiSession.ended_at.is_(None),
                User.disabled_at.is_(None),
            )
        )
    ).first()
    if found is None:
        return None
    row, username, role = found
    last_seen = aware(row.last_seen_at)
    if now - last_seen > timedelta(seconds=settings.ui_session_idle_s):
        return None
    if now - aware(row.created_at) > timedelta(seconds=settings.ui_session_max_s):
        return None
    if now - last_seen >= TOUCH_EVERY:
        row.last_seen_at = now
    return UiStaff(staff=Staff(username, Role(role)), csrf_token=row.csrf_token, session_id=row.id)


async def ui_staff(request: Request, session: SessionDep, rt: RuntimeDep) -> UiStaff:
    """The signed-in officer (a dependency); see the module docstring."""
    token = request.cookies.get(SESSION_COOKIE)
    found = (
        await live_session(session, token, settings=rt.settings, now=datetime.now(UTC))
        if token
        else None
    )
    if found is None:
        if request.method in ("GET", "HEAD"):
            raise UiRefusal(303, "please sign in", location="/ui/login")
        raise UiRefusal(401, "your session has ended; please sign in again")
    if found.staff.role not in STAFF_ROLES or not found.staff.at_least(Role.OFFICER):
        raise UiRefusal(403, "this page is for customs officers")
    return found


UiStaffDep = Annotated[UiStaff, Depends(ui_staff)]


async def read_form(request: Request) -> dict[str, str]:
    """The request's urlencoded form fields (the last value of each), parsed once."""
    cached: dict[str, str] | None = getattr(request.state, "ui_form", None)
    if cached is not None:
        return cached
    fields: dict[str, str] = {}
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        body = bytearray()
        limit = LARGE_FORMS.get(request.url.path, MAX_FORM_BYTES)
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise UiRefusal(413, "the form is too large")
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    request.state.ui_form = fields
    return fields


def tokens_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of CSRF tokens (an absent one never matches)."""
    return bool(presented) and secrets.compare_digest(
        expected.encode("utf-8"), (presented or "").encode("utf-8")
    )


async def csrf_checked(request: Request, ui: UiStaffDep) -> UiStaff:
    """The signed-in officer, once the request carries their session's CSRF token."""
    presented = request.headers.get(CSRF_HEADER) or (await read_form(request)).get(CSRF_FIELD)
    if not tokens_match(ui.csrf_token, presented):
        raise UiRefusal(403, "the form has expired or did not come from this site; reload it")
    return ui


UiCsrfDep = Annotated[UiStaff, Depends(csrf_checked)]


def secure_cookies(request: Request, settings: Settings) -> bool:
    """Whether cookies get the Secure flag: the setting, or else whether TLS was used."""
    if settings.ui_secure_cookies is not None:
        return settings.ui_secure_cookies
    forwarded = request.headers.get("x-forwarded-proto", "").split(",", 1)[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"
