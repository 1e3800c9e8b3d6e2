"""The officers' case page and decisions from the web UI (issue 13, UI part 2).

Through the real app on a migrated SQLite database, as a browser does it: sign in,
open a case, post the forms with the page's CSRF token; then what the operator
sees on `/v1/responses` and what the queue shows.
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
from sqlalchemy import select

from service.accounts import create_user
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import (
    Assessment,
    AuditEntry,
    InboxMessage,
    ItemRecord,
    ReviewDecision,
    ReviewTask,
)
from service.keys import create_keys
from service.settings import Settings

PASSWORD = "correct horse battery staple"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
PAIR = ("shop:acme", "addressee:jan-novak")
NOW = datetime.now(UTC)

#: (item id, sender key, addressee key, hours ago, rule, tags)
ITEMS = [
    ("RR200000001CN", *PAIR, 1, "SPLIT_CONSIGNMENT", ["splitting"]),
    ("RR200000002CN", *PAIR, 5, "SPLIT_CONSIGNMENT", ["splitting"]),
    ("RR200000003CN", *PAIR, 20, "SPLIT_CONSIGNMENT", ["splitting"]),
    ("RR200000004CN", "shop:other", PAIR[1], 24 * 30, "UNDERVALUATION", []),
]


def _canonical(item_id: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "currency": "USD",
        "total_value": "65.00",
        "total_value_eur": "60.00",
        "total_gross_weight_kg": "0.90",
        "category": "SALE_OF_GOODS",
        "sender": {"name": "Acme Shop", "city": "Shenzhen", "country": "CN"},
        "addressee": {"name": "Jan Novak", "city": "Berlin", "country": "DE"},
        "lines": [
            {
                "description": f"leather shoes {HOSTILE}",
                "quantity": 1,
                "hs_code": "640399",
                "origin": "CN",
                "net_weight_kg": "0.80",
                "value": "65.00",
            }
        ],
    }


async def _seed(url: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await create_user(session, "olga", "officer", PASSWORD, actor="test")
        await create_user(session, "sam", "supervisor", PASSWORD, actor="test")
        session.add(AuditEntry(actor="test", action="probe", subject="x", detail={"n": HOSTILE}))
        for n, (item_id, sender, addressee, hours, rule, tags) in enumerate(ITEMS):
            at = NOW - timedelta(hours=hours)
            raw = f"<ITMATT><ItemId>{item_id}</ItemId><D>{HOSTILE}</D></ITMATT>".encode()
            inbox = InboxMessage(
                id=uuid.uuid4(), sender_operator="CNA", message_id=f"MSG-{n}", kind="ITMATT",
                source="API", sha256=hashlib.sha256(raw).hexdigest(), raw=raw,
                item_count=1, status="PROCESSED", received_at=at,
            )  # fmt: skip
            item = ItemRecord(
                id=uuid.uuid4(), inbox_id=inbox.id, position=1, item_id=item_id,
                sender_operator="CNA", message_id=f"MSG-{n}", message_function=9, version=1,
                status="ASSESSED", canonical=_canonical(item_id), findings=[],
                received_at=at, sender_key=sender, addressee_key=addressee,
            )  # fmt: skip
            session.add_all([inbox, item])
            await session.flush()
            hit = {"rule": rule, "score": 40, "reason": f"{rule} fired here", "tags": tags}
            session.add_all(
                [
                    Assessment(
                        item_row_id=item.id, item_id=item_id, ruleset="default",
                        ruleset_version="7", score=40 + n, action="HOLD",
                        security_action=None, hits=[hit],
                    ),
                    ReviewTask(
                        item_row_id=item.id, item_id=item_id, sender_operator="CNA",
                        score=40 + n, action="HOLD", origin="CN", rules=[rule],
                        received_at=at, created_at=at,
                        expected_arrival=NOW + timedelta(hours=6),
                    ),
                ]
            )  # fmt: skip
    await engine.dispose()


async def _decisions(url: str) -> list[ReviewDecision]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await session.scalars(select(ReviewDecision)))
    finally:
        await engine.dispose()


class Browser:
    def __init__(self, client: httpx.AsyncClient, operator_key: str) -> None:
        self.client = client
        self.operator_key = operator_key

    async def log_in(self, username: str = "olga") -> None:
        page = await self.client.get("/ui/login")
        found = CSRF.search(page.text)
        assert found is not None
        answer = await self.client.post(
            "/ui/login",
            data={"username": username, "password": PASSWORD, "csrf_token": found.group(1)},
        )
        assert answer.status_code == 303, answer.text

    async def case(self, item_id: str) -> tuple[httpx.Response, str, str]:
        """The case page, its CSRF token and the decision form's task version."""
        page = await self.client.get(f"/ui/items/{item_id}")
        assert page.status_code == 200, page.text
        token, version = CSRF.search(page.text), VERSION.search(page.text)
        assert token is not None and version is not None
        return page, token.group(1), version.group(1)

    async def responses(self) -> list[dict[str, Any]]:
        page = await self.client.get(
            "/v1/responses", headers={"Authorization": f"Bearer {self.operator_key}"}
        )
        assert page.status_code == 200, page.text
        found: list[dict[str, Any]] = page.json()["responses"]
        return found


@pytest.fixture
async def browser(sqlite_migrated_url: str) -> AsyncIterator[Browser]:
    await _seed(sqlite_migrated_url)
    key = (await create_keys(sqlite_migrated_url, ["CNA"]))["CNA"]
    app = create_app(Settings(database_url=sqlite_migrated_url, kafka_bootstrap=""))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            found = Browser(client, key)
            await found.log_in()
            yield found


def _form(token: str | None, version: str, decision: str = "SEIZE") -> dict[str, str]:
    form = {
        "decision": decision,
        "infringement": "on",
        "kind": "counterfeit",
        "revenue": "12.50",
        "note": "brand logo on the sole",
        "version": version,
    }
    if token is not None:
        form["csrf_token"] = token
    return form


async def test_case_page_shows_the_declaration_escaped(browser: Browser) -> None:
    page, _, version = await browser.case("RR200000004CN")
    assert "leather shoes" in page.text and "UNDERVALUATION fired here" in page.text
    assert "&lt;script&gt;" in page.text
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "Jan Novak" in page.text and "640399" in page.text and "<details" in page.text
    assert 'type="radio" name="decision" value="SEIZE" data-key="s"' in page.text
    assert version == "1"
    assert "RR200000001CN" in page.text  # the same addressee's history
    missing = await browser.client.get("/ui/items/XX000000000XX")
    assert missing.status_code == 404


async def test_deciding_through_the_form_reaches_the_operator(
    browser: Browser, sqlite_migrated_url: str
) -> None:
    _, token, version = await browser.case("RR200000004CN")
    answer = await browser.client.post(
        "/ui/items/RR200000004CN/decision", data=_form(token, version)
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/ui/queue?decided=RR200000004CN")
    sent = [r for r in await browser.responses() if r["item_id"] == "RR200000004CN"]
    assert [r["decision"] for r in sent] == ["SEIZE"]
    queue = await browser.client.get(answer.headers["location"])
    assert "RR200000004CN decided: SEIZE" in queue.text
    assert 'href="/ui/items/RR200000004CN"' not in queue.text
    decided = await _decisions(sqlite_migrated_url)
    assert [(d.decided_by, d.infringement, str(d.revenue_corrected_eur)) for d in decided] == [
        ("olga", True, "12.50")
    ]


async def test_without_the_csrf_token_nothing_is_decided(
    browser: Browser, sqlite_migrated_url: str
) -> None:
    _, _, version = await browser.case("RR200000004CN")
    answer = await browser.client.post(
        "/ui/items/RR200000004CN/decision", data=_form(None, version)
    )
    assert answer.status_code == 403
    assert await _decisions(sqlite_migrated_url) == []


async def test_stale_version_and_bad_values_are_pages_not_decisions(
    browser: Browser, sqlite_migrated_url: str
) -> None:
    _, token, _ = await browser.case("RR200000004CN")
    stale = await browser.client.post("/ui/items/RR200000004CN/decision", data=_form(token, "7"))
    assert stale.status_code == 409
    assert "changed it meanwhile" in stale.text and "leather shoes" in stale.text
    bad = await browser.client.post(
        "/ui/items/RR200000004CN/decision", data={**_form(token, "1"), "revenue": "lots"}
    )
    assert bad.status_code == 422 and "number of euros" in bad.text
    wrong = await browser.client.post(
        "/ui/items/RR200000004CN/decision", data=_form(token, "1", decision="SHRUG")
    )
    assert wrong.status_code == 422 and "choose a decision" in wrong.text
    assert await _decisions(sqlite_migrated_url) == []


async def test_take_next_claims_and_opens_a_case(browser: Browser) -> None:
    _, token, _ = await browser.case("RR200000001CN")
    answer = await browser.client.post("/ui/next", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/items/RR200000004CN"  # the highest score
    page = await browser.client.get(answer.headers["location"])
    assert "claimed (olga)" in page.text
    for _ in ITEMS[1:]:
        assert (
            await browser.client.post("/ui/next", data={"csrf_token": token})
        ).status_code == 303
    empty = await browser.client.post("/ui/next", data={"csrf_token": token})
    assert empty.headers["location"] == "/ui/queue?empty=1"
    assert "Nothing waiting" in (await browser.client.get(empty.headers["location"])).text


async def test_claim_button_claims_the_task(browser: Browser) -> None:
    page, token, _ = await browser.case("RR200000002CN")
    found = re.search(r'action="/ui/tasks/([0-9a-f-]+)/claim"', page.text)
    assert found is not None
    form = {"csrf_token": token, "item_id": "RR200000002CN"}
    answer = await browser.client.post(f"/ui/tasks/{found.group(1)}/claim", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/items/RR200000002CN"
    assert "claimed (olga)" in (await browser.client.get(answer.headers["location"])).text


async def test_group_decision_decides_every_ticked_item(
    browser: Browser, sqlite_migrated_url: str
) -> None:
    page, token, _ = await browser.case("RR200000002CN")
    ticked = re.findall(r'name="item_(RR\d+CN)" value="on"', page.text)
    assert ticked == ["RR200000003CN", "RR200000002CN", "RR200000001CN"]
    form = {"csrf_token": token, "decision": "HOLD", "note": "split", "revenue": ""}
    for item_id in ticked[:2]:
        form[f"item_{item_id}"] = "on"
        form[f"version_{item_id}"] = "1"
    form["version_RR200000001CN"] = "1"  # shown, but not ticked
    answer = await browser.client.post("/ui/items/group-decision", data=form)
    assert answer.status_code == 303, answer.text
    assert "decided=2%20items" in answer.headers["location"]
    decided = await _decisions(sqlite_migrated_url)
    assert sorted(d.item_id for d in decided) == ["RR200000002CN", "RR200000003CN"]
    assert len({d.group_id for d in decided}) == 1
    again = await browser.client.post("/ui/items/group-decision", data=form)
    assert again.status_code == 409 and "nothing was decided" in again.text


async def test_audit_page_is_for_supervisors_and_escapes_details(browser: Browser) -> None:
    refused = await browser.client.get("/ui/audit")
    assert refused.status_code == 403
    assert 'href="/ui/audit"' not in (await browser.client.get("/ui/queue")).text
    await browser.log_in("sam")
    queue = await browser.client.get("/ui/queue")
    assert 'href="/ui/audit"' in queue.text
    shown = await browser.client.get("/ui/audit")
    assert shown.status_code == 200
    assert "login" in shown.text and "olga" in shown.text and "sam" in shown.text
    assert "probe" in shown.text and "&lt;script&gt;" in shown.text
    assert "<script>alert" not in shown.text and "<img src=x" not in shown.text
    only = await browser.client.get("/ui/audit", params={"actor": "olga", "action": "login"})
    assert "olga" in only.text and ">sam<" not in only.text
