"""The validate stage on batches whose messages depend on each other, and on ones that do not.

A batch's version look-ups run before its writes when no two messages of it name the
same item (or are the same message); otherwise message by message, each after the
writes of the one before. Either way the outcome is what one message per batch gives.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord
from sqlalchemy import select

from messages import s10
from messages.codec import encode_itmatt
from messages.models import MessageFunction
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import InboxMessage, ItemRecord
from service.settings import Settings
from service.stages.runner import Outgoing
from service.stages.validate import ValidateStage
from tests import builders

_START = datetime.now(UTC) - timedelta(hours=1)
#: (message id, item id, status, error codes) of every stored item row.
Row = tuple[str, str, str, list[str]]


def _message(message_id: str, *item_ids: str, function: MessageFunction, minute: int) -> bytes:
    items = [builders.item(item_id=item_id, contents=[builders.piece()]) for item_id in item_ids]
    return encode_itmatt(
        builders.itmatt(
            *items,
            message_id=message_id,
            message_function=function,
            prepared_at=_START + timedelta(minutes=minute),
        )
    )


def _record(topic: str, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic, partition=0, offset=offset, timestamp=int(time.time() * 1000),
        timestamp_type=0, key=None, value=value, checksum=None,
        serialized_key_size=0, serialized_value_size=len(value), headers=(),
    )  # fmt: skip


async def _validate(database_url: str, *batches: list[bytes]) -> tuple[list[Outgoing], list[Row]]:
    """Hand each batch to the stage in one transaction, as the runner does."""
    settings = Settings(database_url=database_url)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    stage = ValidateStage(settings)
    out: list[Outgoing] = []
    try:
        for batch in batches:
            records = [_record(settings.topics.inbound, n, v) for n, v in enumerate(batch)]
            async with sessions() as session, session.begin():
                out += await stage.handle(session, records)
        async with sessions() as session:
            rows = await session.execute(
                select(ItemRecord.message_id, ItemRecord.item_id, ItemRecord.status,
                       ItemRecord.findings)
                .order_by(ItemRecord.message_id, ItemRecord.position)
            )  # fmt: skip
            stored = [
                (m, i, s, [f["code"] for f in findings if f["severity"] == "error"])
                for m, i, s, findings in rows
            ]
            statuses = set(await session.scalars(select(InboxMessage.status)))
    finally:
        await engine.dispose()
    assert statuses == {"PROCESSED"}
    return out, stored


async def test_a_replacement_right_behind_its_original_in_one_batch_replaces_it(
    database_url: str,
) -> None:
    item = s10.make("RR", 40_000_001, "CN")
    original = _message("CNA-B-1", item, function=MessageFunction.ORIGINAL, minute=0)
    replacement = _message("CNA-B-2", item, function=MessageFunction.REPLACE, minute=1)
    out, rows = await _validate(database_url, [original, replacement])
    assert rows == [
        ("CNA-B-1", item, "SUPERSEDED", []),
        ("CNA-B-2", item, "ACCEPTED", []),
    ]
    assert [o.topic for o in out] == ["aed.validated", "aed.validated"]


async def test_one_message_twice_in_a_batch_is_stored_once_and_sent_twice(
    database_url: str,
) -> None:
    items = [s10.make("RR", 40_000_010 + n, "CN") for n in range(3)]
    message = _message("CNA-B-3", *items, function=MessageFunction.ORIGINAL, minute=0)
    out, rows = await _validate(database_url, [message, message])
    assert rows == [("CNA-B-3", item, "ACCEPTED", []) for item in items]
    sent = [dict(o.headers)["item-row-id"] for o in out]
    assert len(sent) == 6 and sent[:3] == sent[3:]


async def test_independent_messages_of_a_batch_see_the_items_stored_before_it(
    database_url: str,
) -> None:
    live, unknown, fresh = (s10.make("RR", 40_000_020 + n, "CN") for n in range(3))
    first = _message("CNA-B-4", live, function=MessageFunction.ORIGINAL, minute=0)
    reused = _message("CNA-B-5", live, function=MessageFunction.ORIGINAL, minute=1)
    replaces_unknown = _message("CNA-B-6", unknown, function=MessageFunction.REPLACE, minute=1)
    new = _message("CNA-B-7", fresh, function=MessageFunction.ORIGINAL, minute=1)
    out, rows = await _validate(database_url, [first], [reused, replaces_unknown, new])
    assert rows == [
        ("CNA-B-4", live, "ACCEPTED", []),
        ("CNA-B-5", live, "REJECTED", ["ITEM_ID_REUSED"]),
        ("CNA-B-6", unknown, "REJECTED", ["CANCEL_UNKNOWN"]),
        ("CNA-B-7", fresh, "ACCEPTED", []),
    ]
    assert [o.topic for o in out] == [
        "aed.validated", "aed.rejected", "aed.rejected", "aed.validated",
    ]  # fmt: skip


async def test_records_straight_from_kafka_that_cannot_enter_the_inbox_are_dead_lettered_with_why(
    database_url: str,
) -> None:
    """Each record is parsed once for its envelope and its check; a refusal at either
    step dead-letters it with the code, and the good record beside it goes on."""
    good = s10.make("RR", 40_000_031, "CN")
    valid = _message("CNA-B-8", good, function=MessageFunction.ORIGINAL, minute=0)
    no_id = _message("CNA-B-9", good, function=MessageFunction.ORIGINAL, minute=0).replace(
        b"<MessageId>CNA-B-9</MessageId>", b""
    )
    deep = b"<a>" * 300 + b"</a>" * 300
    batch = [b"<ITMATT version='1.2'><Header>", no_id, deep, valid]
    out, rows = await _validate(database_url, batch)
    letters = [dict(o.headers)["error"].decode() for o in out if o.topic == "aed.deadletter"]
    assert [letter.split(":")[0] for letter in letters] == [
        "XML_MALFORMED", "MANDATORY_MISSING", "XML_TOO_LARGE",
    ]  # fmt: skip
    assert rows == [("CNA-B-8", good, "ACCEPTED", [])]
    assert [o.topic for o in out if o.topic != "aed.deadletter"] == ["aed.validated"]


async def test_a_replacement_right_behind_its_refused_original_in_one_batch_corrects_it(
    database_url: str,
) -> None:
    """A refused original still makes its item known: the replacement is the correction,
    as it is when the two come in separate batches."""
    item = s10.make("RR", 40_000_045, "CN")
    refused = _message("CNA-B-10", item, function=MessageFunction.ORIGINAL, minute=0).replace(
        b"<OriginCountry>CN</OriginCountry>", b"<OriginCountry>XX</OriginCountry>", 1
    )
    replacement = _message("CNA-B-11", item, function=MessageFunction.REPLACE, minute=1)
    _, one_batch = await _validate(database_url, [refused, replacement])
    assert [(m, s) for m, _, s, _ in one_batch] == [
        ("CNA-B-10", "REJECTED"),
        ("CNA-B-11", "ACCEPTED"),
    ]
    assert one_batch[0][3] != [] and one_batch[1][3] == []
