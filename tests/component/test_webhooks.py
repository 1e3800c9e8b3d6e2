"""Webhooks without the pipeline: the API over a real database, and the delivery worker pushing
responses stored straight in the database to a real local receiver (tests/webhook_receiver.py).

The pipeline end to end (CUSRSPs from posted items, retries, replay, a killed worker, long
poll) is tests/e2e/test_webhooks.py.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Response, WebhookDelivery
from service.keys import create_key
from service.settings import Settings
from service.webhooks.worker import DeliveryWorker
from tests.webhook_receiver import Receiver, new_secret, running_worker

pytestmark = pytest.mark.timeout(180)

OPERATOR, OTHER = "CNA", "DEA"
_serials = itertools.count(1)


@dataclass
class Api:
    settings: Settings
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    keys: dict[str, str]

    def auth(self, operator: str = OPERATOR) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[operator]}"}

    async def register(
        self, url: str, secret: str, operator: str = OPERATOR, **extra: Any
    ) -> httpx.Response:
        body = orjson.dumps({"url": url, "secret": secret, **extra})
        headers = {**self.auth(operator), "Content-Type": "application/json"}
        return await self.client.post("/v1/webhooks", content=body, headers=headers)

    async def log(self, webhook_id: str, operator: str = OPERATOR) -> list[dict[str, Any]]:
        answer = await self.client.get(
            f"/v1/webhooks/{webhook_id}/deliveries", headers=self.auth(operator)
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["deliveries"])

    async def store_responses(self, operator: str, count: int) -> list[int]:
        """CUSRSP rows as the respond stage stores them (ids in commit order)."""
        rows = []
        async with self.sessions() as session, session.begin():
            for _ in range(count):
                n = next(_serials)
                row = Response(
                    dedupe_key=f"test-{n}:fiscal",
                    recipient_operator=operator,
                    item_id=f"RR{n:09d}CN",
                    in_reply_to=f"{operator}-MSG-{n}",
                    decision="RELEASE",
                    xml=f'<CUSRSP xmlns="urn:aedex:msg:cusrsp:1" version="1"><n>{n}</n></CUSRSP>',
                )
                session.add(row)
                rows.append(row)
            await session.flush()
        return [r.id for r in rows]


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(database_url=database_url, kafka_bootstrap="", long_poll_max_s=1.0)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        keys = {op: await create_key(session, operator=op) for op in (OPERATOR, OTHER)}
    app = create_app(settings)
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
                yield Api(settings, client, sessions, keys)
    finally:
        await engine.dispose()


@asynccontextmanager
async def delivering(api: Api, **overrides: Any) -> AsyncIterator[DeliveryWorker]:
    """A delivery worker on the test's database, running until the block ends."""
    async with running_worker(api.settings, api.sessions, **overrides) as worker:
        yield worker


# --- registration ----------------------------------------------------------------------------

GOOD_URL = "https://hooks.example.net/aedex"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.net/x"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://user:pass@hooks.example.net/"}, "user or password"),
        ({"url": "https://hooks.example.net/" + "a" * 2100}, "url"),
        ({"url": 42}, "url"),
        ({"secret": "short"}, "secret"),
        ({"secret": "s" * 257}, "secret"),
        ({"secret": "has a space in it 0123"}, "secret"),
        ({"secret": "nön-ascii-secret-0123"}, "secret"),
        ({"after": -1}, "after"),
        ({"colour": "blue"}, "colour"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, dict) else v,
)
async def test_a_bad_registration_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    secret = new_secret()
    answer = await api.client.post(
        "/v1/webhooks",
        content=orjson.dumps({"url": GOOD_URL, "secret": secret, **body}),
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "REQUEST_INVALID"
    assert field in answer.json()["detail"], answer.text
    assert secret not in answer.text and "s" * 257 not in answer.text


@pytest.mark.parametrize(
    ("content", "media", "status", "code"),
    [
        (b'{"url": "https://hooks.example.net/", "secret"', "application/json", 422, "REQUEST_INVALID"),
        (b"[]", "application/json", 422, "REQUEST_INVALID"),
        (b"{}", "application/json", 422, "REQUEST_INVALID"),
        (b"url=https://hooks.example.net/", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"url": "' + b"a" * 9000 + b'"}', "application/json", 413, "BODY_TOO_LARGE"),
    ],
    ids=["cut short", "not an object", "empty", "form", "oversize"],
)  # fmt: skip
async def test_a_body_that_is_no_registration_is_refused(
    api: Api, content: bytes, media: str, status: int, code: str
) -> None:
    answer = await api.client.post(
        "/v1/webhooks", content=content, headers={**api.auth(), "Content-Type": media}
    )
    assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text


async def test_registration_answers_201_and_never_shows_the_secret(api: Api) -> None:
    secret = new_secret()
    created = await api.register(GOOD_URL, secret)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["url"] == GOOD_URL and set(body) == {
        "id", "url", "created_at", "last_response_id", "paused_until",
    }  # fmt: skip
    listed = await api.client.get("/v1/webhooks", headers=api.auth())
    one = await api.client.get(f"/v1/webhooks/{body['id']}", headers=api.auth())
    assert [w["id"] for w in listed.json()["webhooks"]] == [body["id"]]
    assert one.json() == body
    for answer in (created, listed, one):
        assert secret not in answer.text


async def test_a_webhook_is_its_operators_alone(api: Api) -> None:
    created = (await api.register(GOOD_URL, new_secret())).json()
    hook = f"/v1/webhooks/{created['id']}"
    other = api.auth(OTHER)
    assert (await api.client.get("/v1/webhooks", headers=other)).json() == {"webhooks": []}
    for method, path in [
        ("GET", hook),
        ("DELETE", hook),
        ("GET", f"{hook}/deliveries"),
        ("POST", f"{hook}/deliveries/1/replay"),
        ("POST", f"{hook}/replay"),
    ]:
        answer = await api.client.request(method, path, headers=other)
        assert (answer.status_code, answer.json()["error"]) == (404, "NOT_FOUND"), (method, path)
    # Still there for its owner; gone for everyone once deleted.
    assert (await api.client.get(hook, headers=api.auth())).status_code == 200
    assert (await api.client.delete(hook, headers=api.auth())).status_code == 204
    assert (await api.client.get(hook, headers=api.auth())).status_code == 404
    assert (await api.client.delete(hook, headers=api.auth())).status_code == 404
    assert (await api.client.get("/v1/webhooks", headers=api.auth())).json() == {"webhooks": []}
    unknown = await api.client.get("/v1/webhooks/not-a-uuid", headers=api.auth())
    assert unknown.status_code == 422


async def test_an_operator_has_at_most_ten_webhooks(api: Api) -> None:
    ids = [(await api.register(f"{GOOD_URL}/{n}", new_secret())).json()["id"] for n in range(10)]
    refused = await api.register(GOOD_URL, new_secret())
    assert (refused.status_code, refused.json()["error"]) == (409, "WEBHOOK_LIMIT")
    assert (await api.register(GOOD_URL, new_secret(), operator=OTHER)).status_code == 201
    await api.client.delete(f"/v1/webhooks/{ids[0]}", headers=api.auth())
    assert (await api.register(GOOD_URL, new_secret())).status_code == 201


def test_the_openapi_document_shows_the_webhook_routes() -> None:
    document = create_app(
        Settings(database_url="sqlite+aiosqlite://", kafka_bootstrap="")
    ).openapi()
    paths = document["paths"]
    create = paths["/v1/webhooks"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"url", "secret"}
    assert {"201", "401", "409", "413", "415", "422"} <= set(create["responses"])
    assert {"204", "404"} <= set(paths["/v1/webhooks/{webhook_id}"]["delete"]["responses"])
    replay = paths["/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"]["post"]
    assert {"200", "404", "409"} <= set(replay["responses"])
    wait = next(p for p in paths["/v1/responses"]["get"]["parameters"] if p["name"] == "wait")
    assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (0, 30)


# --- delivery --------------------------------------------------------------------------------


async def test_a_webhook_gets_its_operators_responses_from_where_it_starts(api: Api) -> None:
    before = await api.store_responses(OPERATOR, 2)
    await api.store_responses(OTHER, 1)
    new_hook, all_hook = new_secret(), new_secret()
    async with Receiver(new_hook) as fresh, Receiver(all_hook) as everything:
        first = (await api.register(fresh.url, new_hook)).json()
        second = (await api.register(everything.url, all_hook, after=0)).json()
        after = await api.store_responses(OPERATOR, 3)
        await api.store_responses(OTHER, 2)
        async with delivering(api):
            await fresh.wait_until(lambda r: set(r.delivered) == set(after), what="3 delivered")
            await everything.wait_until(
                lambda r: set(r.delivered) == set(before + after), what="5 delivered"
            )
            # A deleted webhook is sent nothing more; the other one goes on.
            deleted = await api.client.delete(f"/v1/webhooks/{first['id']}", headers=api.auth())
            assert deleted.status_code == 204
            (late,) = await api.store_responses(OPERATOR, 1)
            await everything.wait_until(lambda r: late in r.delivered, what="the late one")
        assert fresh.of(late) == []
        assert all(r.verified for r in fresh.requests + everything.requests)
        assert max(everything.delivered.values()) == 1 and max(fresh.delivered.values()) == 1
    async with api.sessions() as session:
        queued_for_deleted = await session.scalars(
            select(WebhookDelivery.response_id).where(
                WebhookDelivery.webhook_id == uuid.UUID(first["id"])
            )
        )
        assert sorted(queued_for_deleted) == after
    log = await api.log(second["id"])
    assert [e["response_id"] for e in log] == before + after + [late]
    assert {e["status"] for e in log} == {"DELIVERED"}


async def test_two_workers_deliver_each_response_once(api: Api) -> None:
    secret = new_secret()
    async with Receiver(secret) as receiver:
        await api.register(receiver.url, secret)
        stored = await api.store_responses(OPERATOR, 40)
        async with delivering(api) as one, delivering(api) as two:
            await receiver.wait_until(lambda r: set(r.delivered) == set(stored), what="40")
        assert len(receiver.requests) == 40 and set(receiver.delivered.values()) == {1}
        assert one.delivered + two.delivered == 40


async def test_a_receiver_that_does_not_answer_in_time_is_tried_again(api: Api) -> None:
    secret = new_secret()
    async with Receiver(secret, hold_at=0) as receiver:  # the first request is never answered
        hook = (await api.register(receiver.url, secret)).json()
        (stored,) = await api.store_responses(OPERATOR, 1)
        async with delivering(api, webhook_timeout_s=1.0, webhook_backoff_s=0.1):
            await receiver.wait_until(lambda r: stored in r.delivered, what="delivered")
        assert [r.attempt for r in receiver.requests] == [1, 2]
    (entry,) = await api.log(hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("DELIVERED", 2, 200)


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(api: Api) -> None:
    secret = new_secret()
    async with Receiver(secret, status=302) as receiver:
        hook = (await api.register(receiver.url, secret)).json()
        await api.store_responses(OPERATOR, 1)
        async with delivering(api, webhook_max_attempts=1):
            for _ in range(200):
                log = await api.log(hook["id"])
                if log and log[0]["status"] == "FAILED":
                    break
                await asyncio.sleep(0.05)
        assert len(receiver.requests) == 1
    assert log[0]["last_status_code"] == 302 and "redirects" in log[0]["last_error"]
    assert (log[0]["attempts"], log[0]["next_attempt_at"]) == (1, None)


async def test_long_poll_waits_at_most_the_configured_maximum(api: Api) -> None:
    """`long_poll_max_s` (1 s here) cuts a longer `wait`: a response stored 3 s later is not in
    the answer to `wait=30`. Above 30 the parameter is refused."""

    async def store_later() -> None:
        await asyncio.sleep(3.0)
        await api.store_responses(OPERATOR, 1)

    answer, _ = await asyncio.gather(
        api.client.get("/v1/responses?wait=30", headers=api.auth()), store_later()
    )
    assert answer.status_code == 200 and answer.json()["responses"] == []
    refused = await api.client.get("/v1/responses?wait=31", headers=api.auth())
    assert (refused.status_code, refused.json()["error"]) == (422, "REQUEST_INVALID")
