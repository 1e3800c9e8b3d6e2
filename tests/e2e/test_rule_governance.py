"""Rule governance on the running pipeline (issue 17): hot activation and shadow.

The stages run as worker processes, as `aedex run` starts them, on a real
broker. A supervisor activates a version another one wrote; the running
assess worker switches without a restart (its heartbeat and /metrics say so;
tests/component/test_live_rulesets.py reads its log), and the next item is
scored by the new version. A version in shadow scores the same items, but
what it decides is stored apart and never reaches `aed.responses`, the
review queue or the operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from messages import encode_itmatt, s10
from service.accounts import create_user, issue_token
from service.broker import EmbeddedBroker
from service.db.models import (
    Assessment,
    AssessmentHit,
    AuditEntry,
    ReviewTask,
    ShadowAssessment,
    StageHeartbeat,
)
from tests.builders import item, itmatt, piece
from tests.e2e.pipeline import Pipeline, supervised_pipeline
from tests.governance_data import TSHIRT_RULE, with_rules

PASSWORD = "correct horse battery staple"


#: Every handbag (HS 4202) held: the shadow candidate, which must change nothing live.
HANDBAG_RULE = """  - id: HANDBAG_SHADOW
    title: Handbags, for a shadow test
    tags: [counterfeit]
    when: any(hs_in(l.hs_code, "4202") for l in item.lines)
    score: 90
    reason: "a handbag"
    tests:
      - {given: {lines: [{hs_code: "420221"}]}, expect: hit}
      - {given: {}, expect: miss}
"""


@pytest.fixture
async def pipeline(database_url: str, embedded_broker: EmbeddedBroker) -> AsyncIterator[Pipeline]:
    async with supervised_pipeline(database_url, embedded_broker, ruleset_poll_s=3600) as running:
        yield running


async def _staff(pipeline: Pipeline) -> dict[str, str]:
    tokens = {}
    async with pipeline.sessions() as session, session.begin():
        for name in ("ann", "ben"):
            await create_user(session, name, "supervisor", PASSWORD, actor="test")
            tokens[name] = await issue_token(session, name, actor="test")
    return tokens


async def _call(
    pipeline: Pipeline, token: str, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    answer = await pipeline.client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code < 300, (path, answer.status_code, answer.text)
    found: dict[str, Any] = answer.json()
    return found


async def _backtest(pipeline: Pipeline, token: str, ruleset_id: str) -> None:
    job = await _call(pipeline, token, "POST", f"/v1/rulesets/{ruleset_id}/backtest", {})
    for _ in range(600):
        job = await _call(pipeline, token, "GET", f"/v1/backtests/{job['id']}")
        if job["status"] in ("DONE", "FAILED"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "DONE", job


async def _scoring_with(pipeline: Pipeline, ruleset: str, timeout: float = 30.0) -> None:
    """Wait until every live assess worker's heartbeat names `ruleset`."""
    beats: list[str | None] = []
    for _ in range(int(timeout / 0.2)):
        async with pipeline.sessions() as session:
            beats = list(
                await session.scalars(
                    select(StageHeartbeat.ruleset).where(StageHeartbeat.stage == "assess")
                )
            )
        if beats and all(b == ruleset for b in beats):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"assess workers score with {beats}, not {ruleset!r}")


async def _post(pipeline: Pipeline, number: int, **content: Any) -> str:
    """One current item from CNA; its item id."""
    now = datetime.now(UTC)
    item_id = s10.make("RR", 70_000_000 + number, "CN")
    declared = item(
        item_id=item_id, posting_datetime=now - timedelta(hours=2), contents=[piece(**content)]
    )
    message = itmatt(declared, message_id=f"CNA-GOV-{number:06d}", prepared_at=now)
    answer = await pipeline.post("CNA", encode_itmatt(message))
    assert answer.status_code == 202, answer.text
    return item_id


async def _assessed(pipeline: Pipeline, item_id: str, timeout: float = 60.0) -> Assessment:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with pipeline.sessions() as session:
            found = await session.scalar(select(Assessment).where(Assessment.item_id == item_id))
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{item_id} was not assessed in {timeout} s")


async def _operator_decisions(pipeline: Pipeline, item_id: str) -> list[str]:
    """What the operator's route says for the item, once it has answered."""
    for _ in range(300):
        page = await pipeline.client.get(
            "/v1/responses", headers={"Authorization": f"Bearer {await pipeline.key('CNA')}"}
        )
        found = [r["decision"] for r in page.json()["responses"] if r["item_id"] == item_id]
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no response for {item_id}")


async def _topic_decisions(pipeline: Pipeline, item_id: str) -> list[str]:
    """Every record on aed.responses about the item."""
    consumer = AIOKafkaConsumer(
        pipeline.settings.topics.responses,
        bootstrap_servers=pipeline.settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000, max_records=100_000)
    finally:
        await consumer.stop()
    found = []
    for records in batches.values():
        for record in records:
            if record.key == item_id.encode():
                found.append(dict(record.headers)["decision"].decode())
    return found


async def test_activation_reaches_the_running_worker_and_shadow_reaches_nobody(
    pipeline: Pipeline,
) -> None:
    tokens = await _staff(pipeline)
    before = await _post(pipeline, 1)
    assert (await _assessed(pipeline, before)).action == "RELEASE"
    assert await _operator_decisions(pipeline, before) == ["RELEASE"]

    # ann writes the change, ben approves it after a backtest and activates it.
    draft = await _call(
        pipeline, tokens["ann"], "POST", "/v1/rulesets",
        {"yaml": with_rules("2026.12.90", TSHIRT_RULE), "reason": "T-shirts"},
    )  # fmt: skip
    await _backtest(pipeline, tokens["ann"], draft["id"])
    await _call(pipeline, tokens["ben"], "POST", f"/v1/rulesets/{draft['id']}/approve", {})
    await _call(
        pipeline, tokens["ben"], "POST", f"/v1/rulesets/{draft['id']}/activate", {"reason": "go"}
    )
    # The worker polls only hourly here: the control topic is what reaches it, and it
    # says so in its heartbeat (so /metrics) as soon as it has switched.
    await _scoring_with(pipeline, "default 2026.12.90")
    after = await _post(pipeline, 2)
    scored = await _assessed(pipeline, after)
    assert (scored.ruleset_version, scored.action) == ("2026.12.90", "DOCUMENTS_REQUIRED")
    assert [h["rule"] for h in scored.hits] == ["TSHIRT_SHOWCASE"]
    assert await _operator_decisions(pipeline, after) == ["DOCUMENTS_REQUIRED"]
    async with pipeline.sessions() as session:
        hits = list(
            await session.scalars(select(AssessmentHit).where(AssessmentHit.item_id == after))
        )
        audit = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ben"))
        )
    assert [(h.rule, h.ruleset_version, h.shadow) for h in hits] == [
        ("TSHIRT_SHOWCASE", "2026.12.90", False)
    ]
    assert audit == ["ruleset.approve", "ruleset.activate"]
    metrics = (await pipeline.client.get("/metrics")).text
    assert 'ruleset="default 2026.12.90"' in metrics and "aedex_worker_ruleset{" in metrics

    # A shadow candidate that would hold every handbag.
    shadow = await _call(
        pipeline, tokens["ann"], "POST", "/v1/rulesets",
        {"yaml": with_rules("2026.12.91", HANDBAG_RULE), "reason": "bags"},
    )  # fmt: skip
    await _call(pipeline, tokens["ben"], "POST", f"/v1/rulesets/{shadow['id']}/shadow")
    await _scoring_with(pipeline, "default 2026.12.90; shadow default 2026.12.91")
    bag = await _post(pipeline, 3, description="Women's leather handbag", hs_code="420221")
    live = await _assessed(pipeline, bag)
    assert (live.ruleset_version, live.action) == ("2026.12.90", "RELEASE")
    assert await _operator_decisions(pipeline, bag) == ["RELEASE"]
    for _ in range(100):
        async with pipeline.sessions() as session:
            shadowed = await session.scalar(
                select(ShadowAssessment).where(ShadowAssessment.item_id == bag)
            )
        if shadowed is not None:
            break
        await asyncio.sleep(0.2)
    assert shadowed is not None
    assert (shadowed.ruleset_version, shadowed.action) == ("2026.12.91", "HOLD")
    async with pipeline.sessions() as session:
        tasks = await session.scalar(select(ReviewTask).where(ReviewTask.item_id == bag))
    assert tasks is None  # the queue never sees it
    assert await _topic_decisions(pipeline, bag) == ["RELEASE"]  # one CUSRSP, the live one
    comparison = await _call(pipeline, tokens["ann"], "GET", "/v1/rulesets/shadow/comparison")
    (versus,) = comparison
    assert versus["shadow"] == "default 2026.12.91" and versus["changed"] == 1
    assert versus["changed_items"][0]["item_id"] == bag
    assert (
        orjson.dumps(versus["changed_items"][0]["shadow_reasons"]).decode().count("a handbag") == 1
    )
