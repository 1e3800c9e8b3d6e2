"""Officers' decisions (issue 13, part 3): decide, amend, group; the case view; the outbox.

Tasks are stored as the respond stage stores them; the routes run through the
app with real staff tokens and operator keys on SQLite and PostgreSQL, and the
relay publishes decisions' CUSRSPs to a real broker, including one that was
down when the officer decided.
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
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from lxml import etree
from sqlalchemy import func, select

from service.accounts import create_user, issue_token
from service.api.app import create_app
from service.broker import EmbeddedBroker
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import (
    Assessment,
    AuditEntry,
    InboxMessage,
    ItemRecord,
    ResponseOutbox,
    ReviewDecision,
    ReviewTask,
)
from service.keys import create_keys
from service.settings import Settings
from service.stages.relay import Relay
from tests.kafka_fixtures import unique_name

PASSWORD = "correct horse battery staple"
NOW = datetime.now(UTC)
PAIR = ("shop:acme", "addressee:jan-novak")
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"

#: (item id, sender key, addressee key, hours ago, rule, tags)
ITEMS = [
    ("RR100000001CN", *PAIR, 1, "SPLIT_CONSIGNMENT", ["splitting"]),
    ("RR100000002CN", *PAIR, 5, "SPLIT_CONSIGNMENT", ["splitting"]),
    ("RR100000003CN", *PAIR, 20, "SPLIT_CONSIGNMENT", ["splitting"]),
    ("RR100000004CN", "shop:other", PAIR[1], 24 * 30, "UNDERVALUATION", []),
    ("RR100000005CN", "shop:other", "addressee:eva", 24 * 100, "UNDERVALUATION", []),
]


def _canonical(item_id: str, description: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "total_value_eur": "60.00",
        "sender": {"name": "Acme Shop", "country": "CN"},
        "addressee": {"name": "Jan Novak", "country": "DE"},
        "lines": [{"description": description, "hs_code": "640399", "value": "60.00"}],
    }


async def _store(url: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        for n, (item_id, sender, addressee, hours, rule, tags) in enumerate(ITEMS):
            at = NOW - timedelta(hours=hours)
            raw = f"<ITMATT><ItemId>{item_id}</ItemId><Description>{HOSTILE}</Description></ITMATT>"
            inbox = InboxMessage(
                id=uuid.uuid4(), sender_operator="CNA", message_id=f"MSG-{n}", kind="ITMATT",
                source="API", sha256=hashlib.sha256(raw.encode()).hexdigest(), raw=raw.encode(),
                item_count=1, status="PROCESSED", received_at=at,
            )  # fmt: skip
            item = ItemRecord(
                id=uuid.uuid4(), inbox_id=inbox.id, position=1, item_id=item_id,
                sender_operator="CNA", message_id=f"MSG-{n}", message_function=9, version=1,
                status="ASSESSED", canonical=_canonical(item_id, f"shoes {HOSTILE}"),
                findings=[], received_at=at, sender_key=sender, addressee_key=addressee,
            )  # fmt: skip
            session.add_all([inbox, item])
            await session.flush()
            hit = {"rule": rule, "score": 40, "reason": f"{rule} fired", "tags": tags}
            session.add_all(
                [
                    Assessment(
                        item_row_id=item.id, item_id=item_id, ruleset="default",
                        ruleset_version="7", score=40, action="HOLD", security_action=None,
                        hits=[hit],
                    ),
                    ReviewTask(
                        item_row_id=item.id, item_id=item_id, sender_operator="CNA", score=40,
                        action="HOLD", origin="CN", rules=[rule], received_at=at,
                        created_at=at,
                    ),
                ]
            )  # fmt: skip
    await engine.dispose()


class Desk:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], url: str) -> None:
        self.client = client
        self.tokens = tokens
        self.url = url

    def _headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    async def get(self, who: str | None, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self._headers(who))

    async def post(self, who: str | None, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self._headers(who))

    async def decide(
        self, who: str, item_id: str, decision: str = "SEIZE", version: int = 1, **extra: Any
    ) -> httpx.Response:
        body = {
            "decision": decision,
            "outcome": {"infringement": True, "kind": "counterfeit", "revenue_corrected_eur": "12.50"},
            "note": "brand logo on the sole",
            "version": version,
            **extra,
        }  # fmt: skip
        return await self.post(who, f"/v1/items/{item_id}/decision", body)

    async def responses(self) -> list[dict[str, Any]]:
        page = await self.get("CNA", "/v1/responses")
        assert page.status_code == 200, page.text
        found: list[dict[str, Any]] = page.json()["responses"]
        return found


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    await _store(database_url)
    engine = create_engine(database_url)
    tokens = {}
    async with create_sessionmaker(engine)() as session, session.begin():
        for name, role in (("olga", "officer"), ("omar", "officer"), ("sam", "supervisor")):
            await create_user(session, name, role, PASSWORD, actor="test")
            tokens[name] = await issue_token(session, name, actor="test")
    await engine.dispose()
    tokens["CNA"] = (await create_keys(database_url, ["CNA"]))["CNA"]
    app = create_app(Settings(database_url=database_url, kafka_bootstrap=""))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Desk(client, tokens, database_url)


async def test_a_decision_reaches_the_operator_once_with_a_reason_and_never_the_rule(
    desk: Desk,
) -> None:
    answer = await desk.decide("olga", "rr100000004cn")  # ids are keyed upper case
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 2
    sent = [r for r in await desk.responses() if r["item_id"] == "RR100000004CN"]
    assert [r["decision"] for r in sent] == ["SEIZE"]
    cusrsp = etree.fromstring(sent[0]["cusrsp"].encode())  # noqa: S320 - our own output
    text = etree.tostring(cusrsp, encoding="unicode")
    assert "RR100000004CN" in text and "MSG-3" in text  # same item, in reply to its message
    assert "seized by Customs" in text
    assert "UNDERVALUATION" not in text and "brand logo" not in text  # no rule, no note
    # A second decision on the closed task, and a stale version, are refused.
    again = await desk.decide("omar", "RR100000004CN", version=2)
    assert again.status_code == 409 and again.json()["error"] == "TASK_DECIDED"
    assert len([r for r in await desk.responses() if r["item_id"] == "RR100000004CN"]) == 1


async def test_stale_version_and_someone_elses_claim_are_conflicts(desk: Desk) -> None:
    stale = await desk.decide("olga", "RR100000003CN", version=5)
    assert stale.status_code == 409 and stale.json()["error"] == "VERSION_CONFLICT"
    page = await desk.get("omar", "/v1/review/queue")
    task = next(t for t in page.json()["tasks"] if t["item_id"] == "RR100000003CN")
    assert (await desk.post("omar", f"/v1/review/tasks/{task['id']}/claim")).status_code == 200
    held = await desk.decide("olga", "RR100000003CN")
    assert held.status_code == 409 and held.json()["error"] == "TASK_CLAIMED"
    assert "omar" in held.json()["detail"]
    assert (await desk.decide("omar", "RR100000003CN")).status_code == 200
    decided = await desk.get("omar", "/v1/review/queue", status="decided")
    assert [t["item_id"] for t in decided.json()["tasks"]] == ["RR100000003CN"]
    assert decided.json()["tasks"][0]["decision"] == "SEIZE"


async def test_concurrent_decisions_on_one_item_give_one_decision(desk: Desk) -> None:
    answers = await asyncio.gather(
        *(desk.decide(who, "RR100000002CN") for who in ("olga", "omar", "sam"))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    sent = [r for r in await desk.responses() if r["item_id"] == "RR100000002CN"]
    assert len(sent) == 1


async def test_only_a_supervisor_amends_with_a_reason_and_a_further_cusrsp(desk: Desk) -> None:
    assert (await desk.decide("olga", "RR100000001CN", "HOLD")).status_code == 200
    body = {
        "decision": "RELEASE", "outcome": {"infringement": False}, "note": "",
        "version": 2, "reason": "invoice received from the addressee",
    }  # fmt: skip
    assert (await desk.post("olga", "/v1/items/RR100000001CN/amendment", body)).status_code == 403
    no_reason = {**body, "reason": "  "}
    refused = await desk.post("sam", "/v1/items/RR100000001CN/amendment", no_reason)
    assert refused.status_code == 422
    amended = await desk.post("sam", "/v1/items/RR100000001CN/amendment", body)
    assert amended.status_code == 200, amended.text
    assert amended.json()["amends"] is not None and amended.json()["version"] == 3
    stale = await desk.post("sam", "/v1/items/RR100000001CN/amendment", body)
    assert stale.status_code == 409 and stale.json()["error"] == "VERSION_CONFLICT"
    sent = [r["decision"] for r in await desk.responses() if r["item_id"] == "RR100000001CN"]
    assert sent == ["HOLD", "RELEASE"]
    audit = await desk.get("sam", "/v1/audit", action="decision.amend")
    [entry] = audit.json()["entries"]
    assert entry["detail"]["before"]["decision"] == "HOLD"
    assert entry["detail"]["after"]["decision"] == "RELEASE"
    assert entry["detail"]["reason"] == "invoice received from the addressee"
    not_decided = await desk.post(
        "sam", "/v1/items/RR100000005CN/amendment", {**body, "version": 1}
    )
    assert not_decided.status_code == 409 and not_decided.json()["error"] == "TASK_NOT_DECIDED"


async def test_the_case_view_has_everything_an_officer_decides_from(desk: Desk) -> None:
    case = await desk.get("olga", "/v1/items/RR100000002CN")
    assert case.status_code == 200, case.text
    body = case.json()
    assert body["declared"]["lines"][0]["hs_code"] == "640399"
    assert "<ITMATT>" in body["raw"]["text"]
    assert body["assessment"]["ruleset_version"] == "7"
    assert body["assessment"]["hits"][0]["reason"] == "SPLIT_CONSIGNMENT fired"
    assert body["task"]["version"] == 1 and body["task"]["status"] == "open"
    # Same addressee within 90 days: the two others of the pair and the other shop's item;
    # the 100-day-old item of another addressee is not there.
    addressee = {row["item_id"] for row in body["history"]["addressee"]}
    assert addressee == {"RR100000001CN", "RR100000003CN", "RR100000004CN"}
    sender = {row["item_id"] for row in body["history"]["sender"]}
    assert sender == {"RR100000001CN", "RR100000003CN"}
    window = [row["item_id"] for row in body["window"]]
    assert window == ["RR100000003CN", "RR100000002CN", "RR100000001CN"]
    # An operator keeps its own view: no score, no hits, no history.
    own = await desk.get("CNA", "/v1/items/RR100000002CN")
    assert own.status_code == 200
    assert set(own.json()) == {"item_id", "status", "versions", "decisions"}
    assert (await desk.get(None, "/v1/items/RR100000002CN")).status_code == 401


async def test_a_splitting_window_is_decided_as_a_group(desk: Desk) -> None:
    window = (await desk.get("olga", "/v1/items/RR100000001CN")).json()["window"]
    body = {
        "items": [{"item_id": row["item_id"], "version": row["task_version"]} for row in window],
        "decision": "DOCUMENTS_REQUIRED",
        "outcome": {"infringement": False, "kind": None, "revenue_corrected_eur": None},
        "note": "one order split in three",
    }
    answer = await desk.post("olga", "/v1/review/group-decision", body)
    assert answer.status_code == 200, answer.text
    decided = answer.json()
    assert len(decided) == 3 and len({d["group_id"] for d in decided}) == 1
    sent = [r for r in await desk.responses() if r["decision"] == "DOCUMENTS_REQUIRED"]
    assert sorted(r["item_id"] for r in sent) == sorted(row["item_id"] for row in window)
    audit = await desk.get("sam", "/v1/audit", action="decision")
    assert len(audit.json()["entries"]) == 3
    # All or none: a group with one decided item changes nothing.
    again = await desk.post(
        "omar",
        "/v1/review/group-decision",
        {**body, "items": [{"item_id": "RR100000004CN", "version": 1}, *body["items"][:1]]},
    )
    assert again.status_code == 409
    case = (await desk.get("omar", "/v1/items/RR100000004CN")).json()
    assert case["task"]["status"] == "open"


async def test_operators_and_anonymous_callers_cannot_decide(desk: Desk) -> None:
    assert (await desk.decide("CNA", "RR100000001CN")).status_code == 403
    anonymous = await desk.client.post(
        "/v1/items/RR100000001CN/decision",
        json={"decision": "SEIZE", "outcome": {"infringement": True}, "version": 1},
    )
    assert anonymous.status_code == 401
    unknown = await desk.decide("olga", "RR999999999CN")
    assert unknown.status_code == 404


async def _published(bootstrap: str, topic: str, want: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < want:
                batch = await consumer.getmany(timeout_ms=500)
                got += [r.value or b"" for records in batch.values() for r in records]
        await asyncio.sleep(1)  # nothing more arrives
        batch = await consumer.getmany(timeout_ms=500)
        got += [r.value or b"" for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    return got


async def test_a_decision_made_while_the_broker_is_down_reaches_the_topic_once(
    desk: Desk, embedded_broker: EmbeddedBroker
) -> None:
    settings = Settings(
        database_url=desk.url,
        kafka_bootstrap=embedded_broker.bootstrap,
        topic_prefix=unique_name("decisions"),
    )
    embedded_broker.stop()
    answer = await desk.decide("olga", "RR100000005CN")
    assert answer.status_code == 200  # committed, whatever the broker does
    assert any(r["item_id"] == "RR100000005CN" for r in await desk.responses())
    embedded_broker.start()
    engine = create_engine(desk.url)
    relay = Relay(
        settings, bootstrap=embedded_broker.bootstrap, sessions=create_sessionmaker(engine)
    )
    task = asyncio.create_task(relay.run())
    try:
        values = await _published(embedded_broker.bootstrap, settings.topics.responses, 1)
    finally:
        relay.stop()
        await task
    assert len(values) == 1 and b"RR100000005CN" in values[0]
    async with create_sessionmaker(engine)() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(ResponseOutbox)
            .where(ResponseOutbox.published_at.is_(None))
        )
        decisions = await session.scalar(select(func.count()).select_from(ReviewDecision))
        audits = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "decision")
        )
    await engine.dispose()
    assert (pending, decisions, audits) == (0, 1, 1)
