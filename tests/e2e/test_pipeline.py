"""End to end on the real embedded broker and a real database: messages in, CUSRSP out."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select

from adapters.generator import GeneratorOptions, generate
from messages.codec import decode_cusrsp
from messages.findings import SEVERITY
from service.db.models import Assessment, ItemRecord, Response
from service.demo import ROUTES
from tests.e2e.pipeline import Pipeline, start_pipeline
from tests.kafka_fixtures import group_timeouts, unique_name

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]

ERRORS = {code.value for code, severity in SEVERITY.items() if severity == "error"}


@pytest.fixture
async def pipeline(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Pipeline]:
    async for running in start_pipeline(database_url, kafka_bootstrap):
        yield running


async def _responses(pipeline: Pipeline) -> list[Response]:
    async with pipeline.sessions() as session:
        return list(await session.scalars(select(Response).order_by(Response.id)))


@pytest.mark.slow
async def test_generated_traffic_gets_exactly_one_answer_per_item(pipeline: Pipeline) -> None:
    # Current now (the default base time), as live traffic is: only labelled items are late.
    options = GeneratorOptions(
        items=5000, seed=23, defects=True, defect_rate=0.05, scenarios=True, scenario_rate=0.04,
        share_cn23_csv=0.0, items_per_message=50,
    )  # fmt: skip
    files = [f for f in generate(options) if f.kind in ROUTES and f.kind != "hostile"]
    accepted_items = 0
    labels = {}
    for file in files:
        route, media = ROUTES[file.kind]
        answer = await pipeline.post(file.envelope.sender_operator or "", file.data, route, media)
        assert answer.status_code == 202, (file.path, answer.text)
        accepted_items += answer.json()["items"]
        for label in file.labels:
            if label.item_id is not None:
                labels[(file.envelope.sender_operator, label.item_id)] = label
    assert accepted_items >= 4900

    await pipeline.wait_answered(accepted_items)
    assert await pipeline.unsettled() == 0, "a message is answered but the relay would resend it"
    responses = await _responses(pipeline)
    answers = Counter(
        r.item_row_id for r in responses if r.dedupe_key.endswith((":fiscal", ":rejected"))
    )
    assert len(answers) == accepted_items
    assert set(answers.values()) == {1}, "an item was answered twice"
    security = [r for r in responses if r.security_decision]
    assert not [r for r in responses if r.axis == "SECURITY"], "security travels in the answer"
    async with pipeline.sessions() as session:
        assessments = {a.item_row_id: a for a in await session.scalars(select(Assessment))}
        rows = {row.id: row for row in await session.scalars(select(ItemRecord))}
    # A security response exactly where a security rule hit.
    assert {r.item_row_id for r in security} == {
        a.item_row_id for a in assessments.values() if a.security_action
    }
    for response in security:  # one CUSRSP, its SECURITY response first (DESIGN.md §3)
        axes = [r.axis for r in decode_cusrsp(response.xml.encode()).responses]
        assert axes == ["SECURITY", "FISCAL"], response.xml
    # Labelled data errors come back REJECTED, with the labelled codes.
    by_item = {(rows[r.item_row_id].sender_operator, r.item_id): r for r in responses
               if r.dedupe_key.endswith((":fiscal", ":rejected"))}  # fmt: skip
    checked = 0
    for key, label in labels.items():
        expected_errors = set(label.expected) & ERRORS
        response = by_item.get(key)
        if response is None or not expected_errors:
            continue
        checked += 1
        assert response.decision == "REJECTED", (key, label)
        for code in expected_errors:
            assert f'code="{code}"' in response.xml, (key, code, response.xml)
    assert checked >= 100
    # Planted risk scenarios are flagged for an officer or for security.
    scenario_rows = [
        row for row in rows.values()
        if (label := labels.get((row.sender_operator, row.item_id))) and label.scenario
        and row.id in assessments
    ]  # fmt: skip
    flagged = [
        row for row in scenario_rows
        if assessments[row.id].action != "RELEASE" or assessments[row.id].security_action
    ]  # fmt: skip
    assert len(scenario_rows) >= 100
    assert len(flagged) / len(scenario_rows) >= 0.8
    # ...and clean items mostly go through: at most 3 % held for an officer (DESIGN.md §5).
    clean_rows = [
        row for row in rows.values()
        if row.id in assessments and (label := labels.get((row.sender_operator, row.item_id)))
        and label.scenario is None and label.defect is None
    ]  # fmt: skip
    held = [row for row in clean_rows if assessments[row.id].action != "RELEASE"]
    assert len(clean_rows) >= 3000
    assert len(held) / len(clean_rows) <= 0.03


async def test_records_produced_straight_to_kafka_are_processed_and_garbage_is_dead_lettered(
    pipeline: Pipeline, kafka_bootstrap: str
) -> None:
    from messages.codec import encode_itmatt
    from tests import builders

    topics = pipeline.settings.topics
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        # All to partition 0: the good message behind the garbage must still get through.
        await producer.send_and_wait(
            topics.inbound, b"\x00\x01 not a message", key=b"X", partition=0
        )
        good = encode_itmatt(builders.itmatt(message_id="CNA-KAFKA-0001"))
        await producer.send_and_wait(topics.inbound, good, key=b"CNA:CNA-KAFKA-0001", partition=0)
    finally:
        await producer.stop()
    await pipeline.wait_answered(1, timeout=90)
    [response] = [r for r in await _responses(pipeline) if r.dedupe_key.endswith(":fiscal")]
    assert response.in_reply_to == "CNA-KAFKA-0001"
    assert response.recipient_operator == "CNA"

    consumer = AIOKafkaConsumer(
        topics.deadletter, bootstrap_servers=kafka_bootstrap, group_id=unique_name("dl"),
        auto_offset_reset="earliest", **group_timeouts(),
    )  # fmt: skip
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=10_000)
    finally:
        await consumer.stop()
    [dead] = [record for records in batch.values() for record in records]
    headers = dict(dead.headers)
    assert dead.value == b"\x00\x01 not a message"
    assert headers["stage"] == b"validate"
    assert headers["topic"] == topics.inbound.encode()
    assert b"XML_MALFORMED" in headers["error"]


async def test_operators_read_only_their_own_answers(pipeline: Pipeline) -> None:
    from messages.codec import encode_itmatt
    from tests import builders

    answer = await pipeline.post("CNA", encode_itmatt(builders.itmatt(message_id="CNA-SCOPE-1")))
    assert answer.status_code == 202
    await pipeline.wait_answered(1, timeout=90)
    item_id = builders.item().item_id
    other = await pipeline.key("DEA")
    mine = await pipeline.key("CNA")
    for path in (f"/v1/items/{item_id}", "/v1/messages/CNA-SCOPE-1"):
        theirs = await pipeline.client.get(path, headers={"Authorization": f"Bearer {other}"})
        own = await pipeline.client.get(path, headers={"Authorization": f"Bearer {mine}"})
        assert theirs.status_code == 404
        assert own.status_code == 200
    cna = await pipeline.client.get("/v1/responses", headers={"Authorization": f"Bearer {mine}"})
    dea = await pipeline.client.get("/v1/responses", headers={"Authorization": f"Bearer {other}"})
    [cusrsp] = cna.json()["responses"]
    assert cusrsp["item_id"] == item_id
    assert "<CUSRSP" in cusrsp["cusrsp"]
    assert "score" not in orjson.dumps(cna.json()).decode().lower()
    assert dea.json()["responses"] == []
    item = await pipeline.client.get(
        f"/v1/items/{item_id}", headers={"Authorization": f"Bearer {mine}"}
    )
    assert item.json()["status"] == "ASSESSED"
    assert [d["decision"] for d in item.json()["decisions"]] == [cusrsp["decision"]]
