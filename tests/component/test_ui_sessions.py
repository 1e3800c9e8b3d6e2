"""The officers' web UI sign-in (issue 13, UI part 1): sessions, CSRF, lockout, headers, queue.

Through the real app on a migrated database: a browser's requests (form posts,
cookies), and what a person sees or the database records.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select, update

from service.accounts import create_user, disable_user
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import (
    Assessment,
    AuditEntry,
    InboxMessage,
    ItemRecord,
    ReviewTask,
    UiSession,
    User,
)
from service.settings import Settings

PASSWORD = "correct horse battery staple"
SCRIPT = "<script>alert(1)</script>"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _run(url: str, statement: Any) -> None:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(statement)
    finally:
        await engine.dispose()


async def _all(url: str, model: type[Any]) -> list[Any]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await session.scalars(select(model)))
    finally:
        await engine.dispose()


async def _seed(url: str) -> None:
    """Two officers (one disabled) and one task whose hit reason carries a script."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await create_user(session, "anna", "officer", PASSWORD, actor="test")
        await create_user(session, "gone", "officer", PASSWORD, actor="test")
        await disable_user(session, "gone", actor="test")
        inbox = InboxMessage(
            id=uuid.uuid4(), sender_operator="CNA", message_id="M-1", kind="ITMATT",
            source="API", sha256=hashlib.sha256(b"x").hexdigest(), raw=b"<x/>",
            item_count=1, status="PROCESSED", received_at=now,
        )  # fmt: skip
        item = ItemRecord(
            id=uuid.uuid4(), inbox_id=inbox.id, position=1, item_id="RR000000001CN",
            sender_operator="CNA", message_id="M-1", message_function=9, version=1,
            status="ASSESSED", canonical=None, findings=[], received_at=now,
        )  # fmt: skip
        session.add_all([inbox, item])
        await session.flush()
        session.add(
            Assessment(
                item_row_id=item.id,
                item_id=item.item_id,
                ruleset="default",
                ruleset_version="1",
                score=90,
                action="HOLD",
                security_action=None,
                hits=[{"rule": "COUNTERFEIT", "score": 90, "reason": f"brand {SCRIPT}"}],
            )  # fmt: skip
        )
        session.add(
            ReviewTask(
                item_row_id=item.id,
                item_id=item.item_id,
                sender_operator="CNA",
                score=90,
                action="HOLD",
                origin="CN",
                rules=["COUNTERFEIT"],
                received_at=now,
                expected_arrival=now + timedelta(hours=3),
            )  # fmt: skip
        )
    await engine.dispose()


class Browser:
    """One browser: a cookie jar, and the forms a person fills in."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def login_form(self) -> str:
        page = await self.client.get("/ui/login")
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found is not None
        return found.group(1)

    async def log_in(self, username: str = "anna", password: str = PASSWORD) -> httpx.Response:
        token = await self.login_form()
        return await self.client.post(
            "/ui/login", data={"username": username, "password": password, "csrf_token": token}
        )

    async def csrf(self) -> str:
        page = await self.client.get("/ui/queue")
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found is not None
        return found.group(1)


async def _browser(url: str, **settings: Any) -> AsyncIterator[Browser]:
    await _seed(url)
    app = create_app(Settings(database_url=url, kafka_bootstrap="", **settings))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Browser(client)


@pytest.fixture
async def browser(database_url: str) -> AsyncIterator[Browser]:
    async for found in _browser(database_url, ui_lockout_after=3, ui_lockout_base_s=60):
        yield found


def _audit(entries: list[AuditEntry], action: str) -> list[AuditEntry]:
    return [e for e in entries if e.action == action]


async def test_login_sets_a_strict_cookie_and_opens_the_queue(
    browser: Browser, database_url: str
) -> None:
    answer = await browser.log_in()
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/queue"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("aedex_session=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/ui"} <= attributes
    assert "secure" not in attributes  # plain http, and no X-Forwarded-Proto
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    sessions = await _all(database_url, UiSession)
    assert len(sessions) == 1 and sessions[0].id == hashlib.sha256(token.encode()).hexdigest()
    assert _audit(await _all(database_url, AuditEntry), "login")[0].actor == "anna"

    queue = await browser.client.get("/ui/queue")
    assert queue.status_code == 200
    assert "RR000000001CN" in queue.text and "anna" in queue.text
    assert (await browser.client.get("/ui")).headers["location"] == "/ui/queue"


async def test_cookie_is_secure_behind_a_tls_proxy(browser: Browser) -> None:
    token = await browser.login_form()
    answer = await browser.client.post(
        "/ui/login",
        data={"username": "anna", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
    )
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("aedex_session=")
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


async def test_message_data_is_escaped_on_the_queue_page(browser: Browser) -> None:
    await browser.log_in()
    queue = await browser.client.get("/ui/queue")
    assert "<script>alert" not in queue.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in queue.text
    assert 'class="task action-hold"' in queue.text
    assert 'href="/ui/items/RR000000001CN"' in queue.text


async def test_the_waiting_count_is_live_for_signed_in_staff_only(browser: Browser) -> None:
    anonymous = await browser.client.get("/ui/queue/waiting")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/ui/login"
    await browser.log_in()
    count = await browser.client.get("/ui/queue/waiting")
    assert count.status_code == 200 and count.json() == {"waiting": 1}
    assert count.headers["cache-control"] == "no-store"
    queue = await browser.client.get("/ui/queue")
    assert 'data-live="/ui/queue/waiting"' in queue.text


async def test_queue_filters_come_from_the_form(browser: Browser) -> None:
    await browser.log_in()
    shown = await browser.client.get("/ui/queue", params={"score_min": "50", "score_max": ""})
    assert "RR000000001CN" in shown.text
    hidden = await browser.client.get("/ui/queue", params={"score_min": "95", "rule": "x"})
    assert hidden.status_code == 200 and "RR000000001CN" not in hidden.text
    assert "No task matches" in hidden.text


async def test_wrong_password_is_generic_counted_and_audited(
    browser: Browser, database_url: str
) -> None:
    wrong = await browser.log_in(password="not the password at all")
    unknown = await browser.log_in(username="nobody" + "x" * 200)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "unknown user or wrong password" in answer.text
        assert "aedex_session=" not in answer.headers.get("set-cookie", "")
    users = {u.username: u for u in await _all(database_url, User)}
    assert users["anna"].failed_logins == 1
    failed = _audit(await _all(database_url, AuditEntry), "login.failed")
    assert [e.subject for e in failed] == ["anna", ("nobody" + "x" * 200)[:100]]


async def test_lockout_refuses_the_right_password_until_it_lapses(
    browser: Browser, database_url: str
) -> None:
    for _ in range(3):
        assert (await browser.log_in(password="not the password at all")).status_code == 401
    locked = await browser.log_in()
    assert locked.status_code == 429
    wait = re.search(r"account locked, try again in (\d+) s", locked.text)
    assert wait is not None and 55 <= int(wait.group(1)) <= 61
    users = {u.username: u for u in await _all(database_url, User)}
    assert users["anna"].failed_logins == 3 and users["anna"].locked_until is not None
    assert _audit(await _all(database_url, AuditEntry), "login.locked")

    await _run(
        database_url,
        update(User)
        .where(User.username == "anna")
        .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)),
    )
    assert (await browser.log_in()).status_code == 303
    users = {u.username: u for u in await _all(database_url, User)}
    assert users["anna"].failed_logins == 0 and users["anna"].locked_until is None


async def test_a_further_failure_doubles_the_lockout(browser: Browser, database_url: str) -> None:
    for _ in range(3):
        await browser.log_in(password="not the password at all")
    await _run(
        database_url,
        update(User)
        .where(User.username == "anna")
        .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)),
    )
    assert (await browser.log_in(password="still not the password")).status_code == 401
    locked = await browser.log_in()
    wait = re.search(r"try again in (\d+) s", locked.text)
    assert wait is not None and 115 <= int(wait.group(1)) <= 121


async def test_a_disabled_user_cannot_log_in(browser: Browser) -> None:
    refused = await browser.log_in(username="gone")
    assert refused.status_code == 401 and "unknown user or wrong password" in refused.text
    assert (await browser.client.get("/ui/queue")).status_code == 303


async def test_login_without_its_csrf_token_is_refused(browser: Browser) -> None:
    await browser.login_form()
    refused = await browser.client.post(
        "/ui/login", data={"username": "anna", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert refused.status_code == 403 and "expired" in refused.text
    assert "aedex_session=" not in refused.headers.get("set-cookie", "")


async def test_logout_ends_the_session(browser: Browser, database_url: str) -> None:
    await browser.log_in()
    old = browser.client.cookies.get("aedex_session")
    token = await browser.csrf()
    out = await browser.client.post("/ui/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    sessions = await _all(database_url, UiSession)
    assert sessions[0].ended_at is not None
    assert _audit(await _all(database_url, AuditEntry), "logout")[0].actor == "anna"
    # The old cookie, replayed, no longer signs anyone in.
    browser.client.cookies.set("aedex_session", old or "", domain="aedex", path="/ui")
    again = await browser.client.get("/ui/queue")
    assert again.status_code == 303 and again.headers["location"] == "/ui/login"


async def test_logout_without_the_csrf_token_is_refused(
    browser: Browser, database_url: str
) -> None:
    await browser.log_in()
    token = await browser.csrf()
    assert (await browser.client.post("/ui/logout")).status_code == 403
    wrong = await browser.client.post(
        "/ui/logout", data={"csrf_token": token[:-1] + ("B" if token.endswith("A") else "A")}
    )
    assert wrong.status_code == 403 and "did not come from this site" in wrong.text
    assert (await _all(database_url, UiSession))[0].ended_at is None
    by_header = await browser.client.post("/ui/logout", headers={"X-CSRF-Token": token})
    assert by_header.status_code == 303


async def test_post_without_a_session_is_a_401_page(browser: Browser) -> None:
    refused = await browser.client.post("/ui/logout", data={"csrf_token": "x"})
    assert refused.status_code == 401 and "sign in again" in refused.text


async def test_an_idle_session_expires(browser: Browser, database_url: str) -> None:
    await browser.log_in()
    assert (await browser.client.get("/ui/queue")).status_code == 200
    await _run(
        database_url,
        update(UiSession).values(last_seen_at=datetime.now(UTC) - timedelta(seconds=1801)),
    )
    expired = await browser.client.get("/ui/queue")
    assert expired.status_code == 303 and expired.headers["location"] == "/ui/login"


async def test_a_session_ends_at_its_maximum_age(browser: Browser, database_url: str) -> None:
    await browser.log_in()
    await _run(
        database_url,
        update(UiSession).values(created_at=datetime.now(UTC) - timedelta(hours=12, seconds=1)),
    )
    assert (await browser.client.get("/ui/queue")).status_code == 303


async def test_pages_carry_the_security_headers(browser: Browser) -> None:
    await browser.log_in()
    for path in ("/ui/queue", "/ui/login"):
        page = await browser.client.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["cache-control"] == "no-store"
        assert "style=" not in page.text and "onclick" not in page.text.lower()
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None  # no inline script
    for asset in ("/ui/static/aedex.css", "/ui/static/aedex.js"):
        served = await browser.client.get(asset)
        assert served.status_code == 200 and served.content


async def test_ui_routes_are_not_in_the_openapi_document(browser: Browser) -> None:
    document = (await browser.client.get("/openapi.json")).json()
    assert not [path for path in document["paths"] if path.startswith("/ui")]
