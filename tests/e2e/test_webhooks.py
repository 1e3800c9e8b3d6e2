"""Push delivery end to end: items posted through the API, answered by the pipeline, and every
CUSRSP pushed to a real local receiver (tests/webhook_receiver.py) that verifies signatures.

- each CUSRSP arrives exactly once at a receiver that dedupes by Aedex-Response-Id, in
  response-id order, signed; the receiver's 500s are retried with growing waits and the
  delivery log says so, attempt by attempt;
- a delivery that exhausts its attempts is FAILED in the log, and replayed;
- the delivery worker killed (kill -9, under the Supervisor as `aedex run` runs it) between
  its POSTs and its bookkeeping: the same ids are sent again, none is lost;
- GET /v1/responses?wait=S answers as soon as a response is stored, and empty after S.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest

from messages import s10
from messages.codec import encode_itmatt
from service.broker import EmbeddedBroker
from service.settings import WORKERS
from service.webhooks.worker import DeliveryWorker
from tests import builders
from tests.e2e.pipeline import Pipeline, start_pipeline, supervised_pipeline
from tests.webhook_receiver import Receiver, new_secret, running_worker

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

OPERATOR = "CNA"
#: The first retry waits at least BACKOFF_S / 2, each later one at least twice the last minimum.
BACKOFF_S = 0.4
_messages = itertools.count(1)


@pytest.fixture
async def pipeline(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Pipeline]:
    async for running in start_pipeline(database_url, kafka_bootstrap):
        yield running


@asynccontextmanager
async def delivering(pipeline: Pipeline, **overrides: Any) -> AsyncIterator[DeliveryWorker]:
    """The delivery worker beside the pipeline's stages, until the block ends."""
    values = {"webhook_backoff_s": BACKOFF_S, **overrides}
    async with running_worker(pipeline.settings, pipeline.sessions, **values) as worker:
        yield worker


async def auth(pipeline: Pipeline) -> dict[str, str]:
    return {"Authorization": f"Bearer {await pipeline.key(OPERATOR)}"}


async def register(pipeline: Pipeline, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    answer = await pipeline.client.post(
        "/v1/webhooks",
        content=orjson.dumps({"url": receiver.url, "secret": receiver.secret, **extra}),
        headers={**await auth(pipeline), "Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text
    assert receiver.secret not in answer.text
    return dict(answer.json())


async def post_items(pipeline: Pipeline, count: int) -> list[str]:
    """One ITMATT of `count` clean items; returns their item ids."""
    serial = next(_messages)
    ids = [s10.make("RR", 40_000_000 + serial * 100 + i, "CN") for i in range(count)]
    message = builders.itmatt(
        *(builders.item(item_id=item_id) for item_id in ids), message_id=f"CNA-HOOK-{serial:04d}"
    )
    answer = await pipeline.post(OPERATOR, encode_itmatt(message))
    assert answer.status_code == 202, answer.text
    return ids


async def responses(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Every CUSRSP for the operator, through GET /v1/responses."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await pipeline.client.get(
            f"/v1/responses?after={after}&limit=1000", headers=await auth(pipeline)
        )
        assert page.status_code == 200, page.text
        if not page.json()["responses"]:
            return found
        found += page.json()["responses"]
        after = page.json()["next"]


async def delivery_log(
    pipeline: Pipeline,
    hook_id: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """GET /v1/webhooks/ID/deliveries (every page) once `until(log)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        log: list[dict[str, Any]] = []
        after = 0
        while True:
            page = await pipeline.client.get(
                f"/v1/webhooks/{hook_id}/deliveries?after={after}", headers=await auth(pipeline)
            )
            assert page.status_code == 200, page.text
            if not page.json()["deliveries"]:
                break
            log += page.json()["deliveries"]
            after = page.json()["next"]
        if until(log):
            return log
        assert time.monotonic() < deadline, f"delivery log not as expected: {log}"
        await asyncio.sleep(0.1)


def statuses(log: list[dict[str, Any]]) -> set[str]:
    return {entry["status"] for entry in log}


async def test_every_cusrsp_is_pushed_once_signed_and_retried_with_back_off(
    pipeline: Pipeline,
) -> None:
    async with Receiver(new_secret(), fail_first=3) as receiver:
        hook = await register(pipeline, receiver)
        # One request in flight: the order the receiver sees is the order the worker sends.
        async with delivering(pipeline, webhook_in_flight=1):
            items = await post_items(pipeline, 6)
            await pipeline.wait_answered(6)
            stored = {r["id"]: r for r in await responses(pipeline)}
            assert {r["item_id"] for r in stored.values()} == set(items)
            await receiver.wait_until(
                lambda r: set(r.delivered) >= set(stored), what="every response delivered"
            )
            log = await delivery_log(
                pipeline, hook["id"], lambda log: statuses(log) == {"DELIVERED"}
            )

        # Exactly once to a receiver that dedupes by id; here, in fact, each sent 2xx once.
        assert receiver.delivered == dict.fromkeys(stored, 1)
        assert all(r.verified for r in receiver.requests), [r.why_not for r in receiver.requests]
        first = min(stored)
        # The first response got the three 500s, each retry waiting at least the schedule's
        # minimum (BACKOFF_S * 2^(n-1) / 2), and the fourth attempt through.
        tries = receiver.of(first)
        assert [(r.attempt, r.status) for r in tries] == [(1, 500), (2, 500), (3, 500), (4, 200)]
        waits = [later.at - earlier.at for earlier, later in itertools.pairwise(tries)]
        assert all(w >= BACKOFF_S * 2**n / 2 for n, w in enumerate(waits)), waits
        # A receiver that is down is not sent the next responses meanwhile: first attempts
        # arrive in response-id order.
        assert [r.response_id for r in receiver.requests if r.attempt == 1] == sorted(stored)
        for request in receiver.requests:
            response = stored[request.response_id]
            assert request.body == response["cusrsp"].encode()
            assert request.headers["content-type"].startswith("application/xml")
            assert request.headers["aedex-item-id"] == response["item_id"]

    # The log: one entry per response, in order, with its attempts and the receiver's answer.
    assert [e["response_id"] for e in log] == sorted(stored)
    assert [e["attempts"] for e in log] == [4] + [1] * (len(stored) - 1)
    assert {(e["last_status_code"], e["last_error"], e["next_attempt_at"]) for e in log} == {
        (200, None, None)
    }
    assert all(e["item_id"] == stored[e["response_id"]]["item_id"] for e in log)
    assert all(e["delivered_at"] is not None for e in log)
    assert sum(e["attempts"] for e in log) == len(receiver.requests)
    by_delivery = {str(e["id"]): e["response_id"] for e in log}
    assert all(by_delivery[r.headers["aedex-delivery"]] == r.response_id for r in receiver.requests)


async def test_a_failed_delivery_is_logged_and_replayed(pipeline: Pipeline) -> None:
    async with Receiver(new_secret(), status=500) as receiver:
        hook = await register(pipeline, receiver)
        base = f"/v1/webhooks/{hook['id']}"
        headers = await auth(pipeline)
        async with delivering(pipeline, webhook_max_attempts=2, webhook_backoff_s=0.2):
            await post_items(pipeline, 2)
            await pipeline.wait_answered(2)
            stored = [r["id"] for r in await responses(pipeline)]
            log = await delivery_log(
                pipeline,
                hook["id"],
                lambda log: len(log) == len(stored) and statuses(log) == {"FAILED"},
            )
            assert [(e["attempts"], e["last_status_code"], e["last_error"]) for e in log] == [
                (2, 500, "HTTP 500")
            ] * len(stored)
            assert {rid: len(receiver.of(rid)) for rid in stored} == dict.fromkeys(stored, 2)
            failed = await pipeline.client.get(f"{base}/deliveries?status=FAILED", headers=headers)
            assert len(failed.json()["deliveries"]) == len(stored)

            receiver.status = 200
            one = log[0]
            replayed = await pipeline.client.post(
                f"{base}/deliveries/{one['id']}/replay", headers=headers
            )
            assert replayed.status_code == 200, replayed.text
            assert (replayed.json()["status"], replayed.json()["attempts"]) == ("PENDING", 0)
            log = await delivery_log(
                pipeline, hook["id"], lambda log: log[0]["status"] == "DELIVERED"
            )
            assert (log[0]["attempts"], log[0]["replays"], log[0]["last_status_code"]) == (
                1,
                1,
                200,
            )
            again = await pipeline.client.post(
                f"{base}/deliveries/{one['id']}/replay", headers=headers
            )
            assert (again.status_code, again.json()["error"]) == (409, "DELIVERY_NOT_FAILED")

            rest = await pipeline.client.post(f"{base}/replay", headers=headers)
            assert rest.json() == {"replayed": len(stored) - 1}
            log = await delivery_log(
                pipeline, hook["id"], lambda log: statuses(log) == {"DELIVERED"}
            )
            assert (await pipeline.client.post(f"{base}/replay", headers=headers)).json() == {
                "replayed": 0
            }
        assert receiver.delivered == dict.fromkeys(stored, 1)
        assert {rid: len(receiver.of(rid)) for rid in stored} == dict.fromkeys(stored, 3)
        assert all(r.verified for r in receiver.requests)


async def test_long_poll_answers_as_soon_as_a_response_is_stored(pipeline: Pipeline) -> None:
    headers = await auth(pipeline)
    loop = asyncio.get_running_loop()
    started = loop.time()
    empty = await pipeline.client.get("/v1/responses?wait=1", headers=headers)
    assert empty.status_code == 200 and empty.json() == {"responses": [], "next": 0}
    assert loop.time() - started >= 1.0

    waiting = asyncio.create_task(pipeline.client.get("/v1/responses?wait=30", headers=headers))
    started = loop.time()
    (item_id,) = await post_items(pipeline, 1)
    answer = await waiting
    took = loop.time() - started
    assert answer.status_code == 200 and [r["item_id"] for r in answer.json()["responses"]] == [
        item_id
    ]
    assert took < 30, f"the long poll waited out its {30} s instead of answering ({took:.1f} s)"
    # With a cursor past the last response it waits again, and is empty once the wait is over.
    after = answer.json()["next"]
    again = await pipeline.client.get(f"/v1/responses?after={after}&wait=0.5", headers=headers)
    assert again.json() == {"responses": [], "next": after}


async def test_a_killed_delivery_worker_sends_again_and_loses_nothing(
    database_url: str, embedded_broker: EmbeddedBroker
) -> None:
    """kill -9 of `aedex worker --stage webhooks` while its POSTs are in flight (one held by
    the receiver): the Supervisor starts it again, the lease runs out, and the same ids are
    sent again; a receiver deduping by id has each CUSRSP once."""
    async with (
        supervised_pipeline(
            database_url, embedded_broker, stages=WORKERS, webhook_timeout_s=2.0,
            webhook_poll_interval_s=0.1,
        ) as pipeline,
        Receiver(new_secret(), hold_at=1) as receiver,
    ):  # fmt: skip
        assert pipeline.supervisor is not None
        await post_items(pipeline, 8)
        await pipeline.wait_answered(8)
        stored = [r["id"] for r in await responses(pipeline)]
        # Registered from the start of the operator's responses: they are all queued at once,
        # so the first round has `webhook_in_flight` (4) requests out together.
        hook = await register(pipeline, receiver, after=0)
        await asyncio.wait_for(receiver.held.wait(), 60)
        held = receiver.requests[1].response_id
        delivery_worker = pipeline.supervisor.workers["webhooks"]
        os.kill(delivery_worker.pid, signal.SIGKILL)
        await asyncio.to_thread(delivery_worker.wait)
        receiver.release.set()
        await receiver.wait_until(
            lambda r: set(r.delivered) == set(stored), what="every response delivered"
        )
        log = await delivery_log(pipeline, hook["id"], lambda log: statuses(log) == {"DELIVERED"})
        assert pipeline.supervisor.restarts["webhooks"] >= 1
    assert len(receiver.of(held)) >= 2
    # At least once: what the killed worker had sent but not recorded was sent again ...
    assert sum(receiver.delivered.values()) > len(stored)
    # ... and a receiver that dedupes by Aedex-Response-Id has each response exactly once.
    assert sorted(receiver.delivered) == sorted(stored)
    assert all(r.verified for r in receiver.requests)
    assert [e["response_id"] for e in log] == sorted(stored)
