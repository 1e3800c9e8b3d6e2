"""The officers' work queue (issue 13, part 2): order, filters, paging, claims, `next`.

Tasks are stored as the respond stage stores them (with their item and
assessment rows); the routes run through the app with real staff tokens on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from service.accounts import create_user, issue_token
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Assessment, InboxMessage, ItemRecord, ReviewTask
from service.keys import create_keys
from service.settings import Settings

PASSWORD = "correct horse battery staple"
NOW = datetime.now(UTC)
OFFICERS = [f"officer{n}" for n in range(8)]

#: (item id, operator, origin, score, action, security action, rule, hours to arrival)
TASKS = [
    ("RR000000001CN", "CNA", "CN", 40, "DOCUMENTS_REQUIRED", None, "UNDERVALUATION", 30),
    ("RR000000002CN", "CNA", "CN", 90, "HOLD", None, "COUNTERFEIT", 20),
    ("RR000000003CN", "CNA", "CN", 10, "RELEASE", "SCREEN", "LITHIUM_BATTERY", 10),
    ("RR000000004TR", "TRA", "TR", 60, "INSPECT", None, "WILDLIFE", 5),
    ("RR000000005CN", "CNA", "HK", 60, "INSPECT", "DO_NOT_LOAD", "WEAPONS", 40),
    ("RR000000006TR", "TRA", "TR", 45, "DOCUMENTS_REQUIRED", None, "SPLITTING", 2),
]


async def _store_tasks(url: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        for n, (item_id, operator, origin, score, action, security, rule, hours) in enumerate(
            TASKS
        ):
            inbox = InboxMessage(
                id=uuid.uuid4(), sender_operator=operator, message_id=f"M-{n}", kind="ITMATT",
                source="API", sha256=hashlib.sha256(item_id.encode()).hexdigest(), raw=b"<x/>",
                item_count=1, status="PROCESSED", received_at=NOW - timedelta(hours=n),
            )  # fmt: skip
            item = ItemRecord(
                id=uuid.uuid4(), inbox_id=inbox.id, position=1, item_id=item_id,
                sender_operator=operator, message_id=f"M-{n}", message_function=9, version=1,
                status="ASSESSED", canonical=None, findings=[],
                received_at=NOW - timedelta(hours=n),
            )  # fmt: skip
            session.add_all([inbox, item])
            await session.flush()
            session.add(
                Assessment(
                    item_row_id=item.id,
                    item_id=item_id,
                    ruleset="default",
                    ruleset_version="1",
                    score=score,
                    action=action,
                    security_action=security,
                    hits=[{"rule": rule, "score": score, "reason": f"{rule.lower()} seen"}],
                )  # fmt: skip
            )
            session.add(
                ReviewTask(
                    item_row_id=item.id,
                    item_id=item_id,
                    sender_operator=operator,
                    score=score,
                    action=action,
                    security_action=security,
                    origin=origin,
                    rules=[rule],
                    received_at=NOW - timedelta(hours=n),
                    expected_arrival=NOW + timedelta(hours=hours),
                    created_at=NOW - timedelta(hours=n),
                )  # fmt: skip
            )
    await engine.dispose()


class Desk:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def _headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    async def queue(self, who: str | None = "officer0", **params: Any) -> httpx.Response:
        return await self.client.get("/v1/review/queue", params=params, headers=self._headers(who))

    async def post(self, who: str | None, path: str) -> httpx.Response:
        return await self.client.post(path, headers=self._headers(who))


async def _desk(url: str, **settings: Any) -> AsyncIterator[Desk]:
    await _store_tasks(url)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        tokens = {}
        for name in OFFICERS:
            await create_user(session, name, "officer", PASSWORD, actor="test")
            tokens[name] = await issue_token(session, name, actor="test")
    await engine.dispose()
    tokens["CNA"] = (await create_keys(url, ["CNA"]))["CNA"]
    app = create_app(Settings(database_url=url, kafka_bootstrap="", **settings))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Desk(client, tokens)


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    async for found in _desk(database_url):
        yield found


def _ids(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return [task["item_id"] for task in page.json()["tasks"]]


async def test_only_staff_see_the_queue(desk: Desk) -> None:
    assert (await desk.queue(None)).status_code == 401
    assert (await desk.queue("CNA")).status_code == 403
    assert (await desk.post("CNA", "/v1/review/next")).status_code == 403


async def test_security_hits_come_first_then_score_then_arrival(desk: Desk) -> None:
    page = await desk.queue()
    assert _ids(page) == [
        "RR000000005CN",  # DO_NOT_LOAD, 60
        "RR000000003CN",  # SCREEN, 10
        "RR000000002CN",  # 90
        "RR000000004TR",  # 60, arrives in 5 h
        "RR000000006TR",  # 45
        "RR000000001CN",  # 40
    ]
    first = page.json()["tasks"][0]
    assert first["hits"] == [{"rule": "WEAPONS", "reason": "weapons seen"}]
    assert 39 * 3600 < first["seconds_to_arrival"] <= 40 * 3600
    assert page.json()["total"] == 6
    assert _ids(await desk.queue(sort="arrival"))[:2] == ["RR000000006TR", "RR000000004TR"]
    assert _ids(await desk.queue(sort="age"))[0] == "RR000000006TR"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"security_only": "true"}, {"RR000000005CN", "RR000000003CN"}),
        ({"score_min": "50", "score_max": "60"}, {"RR000000004TR", "RR000000005CN"}),
        ({"rule": "SPLITTING"}, {"RR000000006TR"}),
        ({"operator": "TRA"}, {"RR000000004TR", "RR000000006TR"}),
        ({"origin": "HK"}, {"RR000000005CN"}),
        ({"action": "INSPECT"}, {"RR000000004TR", "RR000000005CN"}),
        ({"action": "SCREEN"}, {"RR000000003CN"}),
        ({"received_since": (NOW - timedelta(hours=1, minutes=30)).isoformat()},
         {"RR000000001CN", "RR000000002CN"}),
    ],
)  # fmt: skip
async def test_filters(desk: Desk, params: dict[str, str], expected: set[str]) -> None:
    page = await desk.queue(**params)
    assert set(_ids(page)) == expected
    assert page.json()["total"] == len(expected)


async def test_cursor_pages_and_total(desk: Desk) -> None:
    first = await desk.queue(limit="4")
    assert (len(_ids(first)), first.json()["total"], first.json()["next"]) == (4, 6, 4)
    rest = await desk.queue(limit="4", after="4")
    assert rest.json()["next"] is None
    assert len(set(_ids(first) + _ids(rest))) == 6


async def test_a_claimed_task_is_nobody_elses(desk: Desk) -> None:
    task = (await desk.queue()).json()["tasks"][0]
    mine = await desk.post("officer0", f"/v1/review/tasks/{task['id']}/claim")
    assert mine.status_code == 200, mine.text
    assert (mine.json()["status"], mine.json()["claimed_by"]) == ("claimed", "officer0")
    theirs = await desk.post("officer1", f"/v1/review/tasks/{task['id']}/claim")
    assert (theirs.status_code, theirs.json()["error"]) == (409, "TASK_CLAIMED")
    assert "officer0" in theirs.json()["detail"]
    again = await desk.post("officer0", f"/v1/review/tasks/{task['id']}/claim")
    assert again.status_code == 200, "claiming one's own task again renews it"
    assert task["item_id"] not in _ids(await desk.queue(status="open"))
    assert _ids(await desk.queue(status="claimed")) == [task["item_id"]]
    missing = await desk.post("officer0", f"/v1/review/tasks/{uuid.uuid4()}/claim")
    assert missing.status_code == 404


async def test_concurrent_next_calls_claim_different_tasks(desk: Desk) -> None:
    answers = await asyncio.gather(*(desk.post(who, "/v1/review/next") for who in OFFICERS))
    claimed = [a.json()["item_id"] for a in answers if a.status_code == 200]
    assert len(claimed) == len(TASKS), [(a.status_code, a.text) for a in answers]
    assert len(set(claimed)) == len(claimed), "two officers got one task"
    assert [a.status_code for a in answers].count(404) == len(OFFICERS) - len(TASKS)
    holders = {
        t["item_id"]: t["claimed_by"] for t in (await desk.queue(status="claimed")).json()["tasks"]
    }
    assert sorted(holders) == sorted(claimed) and len(set(holders.values())) == len(TASKS)


async def test_a_lapsed_claim_frees_the_task(sqlite_migrated_url: str) -> None:
    async for desk in _desk(sqlite_migrated_url, review_claim_s=0.2):
        first = await desk.post("officer0", "/v1/review/next")
        assert first.status_code == 200
        await asyncio.sleep(0.4)
        taken = await desk.post("officer1", f"/v1/review/tasks/{first.json()['id']}/claim")
        assert (taken.status_code, taken.json()["claimed_by"]) == (200, "officer1")
