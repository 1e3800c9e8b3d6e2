"""Records nobody here produced: every compression codec, batches that cannot be decoded,
and a partition revoked while its batch is in hand. None may halt a partition or a worker.

Producers are librdkafka (confluent-kafka) or raw Produce requests, not aiokafka, so
the pipeline meets what a foreign client really sends.
"""

from __future__ import annotations

import asyncio
import gzip
import struct
import time
from collections.abc import AsyncIterator, Sequence

import cramjam
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.util import calc_crc32c
from confluent_kafka import Producer
from sqlalchemy.ext.asyncio import AsyncSession

from messages.codec import encode_itmatt
from service.broker import EmbeddedBroker
from service.kafka import ensure_topics
from service.stages.runner import Outgoing, Stage, StageRunner
from tests import builders
from tests.e2e.pipeline import Pipeline, pipeline_settings, start_pipeline
from tests.kafka_fixtures import group_timeouts, unique_name

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

CODECS = ("gzip", "snappy", "lz4", "zstd")


@pytest.fixture
async def pipeline(sqlite_migrated_url: str, kafka_bootstrap: str) -> AsyncIterator[Pipeline]:
    async for running in start_pipeline(sqlite_migrated_url, kafka_bootstrap):
        yield running


def _message(number: int) -> tuple[bytes, bytes]:
    message_id = f"CNA-FOREIGN-{number:04d}"
    item = builders.item(item_id=builders.s10.make("RR", 20000000 + number, "CN"))
    data = encode_itmatt(builders.itmatt(item, message_id=message_id))
    return f"CNA:{message_id}".encode(), data


def _librdkafka_produce(
    bootstrap: str, topic: str, codec: str, records: list[tuple[bytes, bytes]]
) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 20}
    )
    for key, value in records:
        producer.produce(topic, value=value, key=key, partition=0)
    assert producer.flush(30) == 0, f"{codec}: records still unsent"


async def _dead_letters(
    bootstrap: str, topic: str, expected: int
) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=unique_name("dl"),
        auto_offset_reset="earliest", **group_timeouts(),
    )  # fmt: skip
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + 20
        while len(found) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            found += [record for records in batch.values() for record in records]
    finally:
        await consumer.stop()
    return found


async def test_records_in_every_compression_codec_are_processed(
    pipeline: Pipeline, kafka_bootstrap: str
) -> None:
    inbound = pipeline.settings.topics.inbound
    for number, codec in enumerate(CODECS):
        # Two records per codec, so librdkafka compresses a real batch of several.
        records = [_message(number * 10), _message(number * 10 + 1)]
        await asyncio.to_thread(_librdkafka_produce, kafka_bootstrap, inbound, codec, records)
    await pipeline.wait_answered(2 * len(CODECS), timeout=90)
    assert await pipeline.items() == 2 * len(CODECS)
    assert await _dead_letters(kafka_bootstrap, pipeline.settings.topics.deadletter, 0) == []


def _record_batch(*, codec: int, payload: bytes, records: int, good_crc: bool = True) -> bytes:
    """A v2 record batch (Kafka protocol "RecordBatch") with `payload` as its records."""
    now = int(time.time() * 1000)
    after_crc = (
        struct.pack(">hiqqqhii", codec, records - 1, now, now, -1, -1, -1, records) + payload
    )
    crc = calc_crc32c(after_crc) ^ (0 if good_crc else 0xFFFF)
    body = struct.pack(">ibI", 0, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


async def _produce_raw(bootstrap: str, topic: str, batch: bytes) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        await client._wait_on_metadata(topic)
        leader = client.cluster.leader_for_partition(TopicPartition(topic, 0))
        request = ProduceRequest(
            transactional_id=None, required_acks=-1, timeout=10_000, topics=[(topic, [(0, batch)])]
        )
        answer = await client.send(leader, request)
        [(_, [partition])] = answer.topics
        assert partition[1] == 0, f"the broker refused the batch: error {partition[1]}"
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("batch", "why"),
    [
        (_record_batch(codec=4, payload=b"\x28\xb5\x2f\xfd garbage, not zstd", records=3), "zstd"),
        (_record_batch(codec=2, payload=b"not snappy at all" * 3, records=2), "snappy"),
        (_record_batch(codec=0, payload=b"\x01\x02\x03", records=5, good_crc=False), "CRC"),
    ],
    ids=["corrupt-zstd", "corrupt-snappy", "crc-mismatch"],
)
async def test_an_undecodable_batch_is_dead_lettered_and_the_partition_moves_on(
    pipeline: Pipeline, kafka_bootstrap: str, batch: bytes, why: str
) -> None:
    topics = pipeline.settings.topics
    await _produce_raw(kafka_bootstrap, topics.inbound, batch)
    # Behind it on the same partition: a good message, produced by a foreign client too.
    await asyncio.to_thread(
        _librdkafka_produce, kafka_bootstrap, topics.inbound, "lz4", [_message(1)]
    )
    await pipeline.wait_answered(1, timeout=90)

    [dead] = await _dead_letters(kafka_bootstrap, topics.deadletter, 1)
    headers = dict(dead.headers)
    assert headers["stage"] == b"validate"
    assert headers["topic"] == topics.inbound.encode()
    assert b"undecodable record batch" in headers["error"]
    assert headers["offset"] == b"0"
    assert dead.value == batch[: len(batch)], "the raw batch, for an operator to inspect"


def _bomb(codec: str) -> bytes:
    """A batch whose records decompress to 64-200 MiB of zeros: over the consumer's limit
    (the largest message plus headroom, 51 MiB) from a few KB to a few MB on the wire."""
    zeros = b"\0" * (200 if codec == "zstd" else 64) * 1024 * 1024
    if codec == "gzip":
        payload, code = gzip.compress(zeros, compresslevel=1), 1
    elif codec == "snappy":  # xerial framing, as Java clients and librdkafka write it
        blocks = [
            bytes(cramjam.snappy.compress_raw(zeros[i : i + 2**20]))
            for i in range(0, len(zeros), 2**20)
        ]
        head = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
        payload, code = head + b"".join(struct.pack(">i", len(b)) + b for b in blocks), 2
    elif codec == "lz4":
        payload, code = bytes(cramjam.lz4.compress(zeros)), 3
    else:
        payload, code = bytes(cramjam.zstd.compress(zeros)), 4
    return _record_batch(codec=code, payload=payload, records=1000)


@pytest.mark.parametrize("codec", CODECS)
async def test_a_decompression_bomb_is_dead_lettered_without_decompressing_it(
    pipeline: Pipeline, kafka_bootstrap: str, codec: str
) -> None:
    topics = pipeline.settings.topics
    bomb = _bomb(codec)
    await _produce_raw(kafka_bootstrap, topics.inbound, bomb)
    await asyncio.to_thread(
        _librdkafka_produce, kafka_bootstrap, topics.inbound, codec, [_message(2)]
    )
    await pipeline.wait_answered(1, timeout=90)
    [dead] = await _dead_letters(kafka_bootstrap, topics.deadletter, 1)
    assert b"DecompressionBomb" in dict(dead.headers)["error"]
    assert dead.value == bomb


class _SlowStage(Stage):
    """Handles records slowly and remembers which it handled, in order."""

    name = "validate"

    def __init__(self, *args: object, started: asyncio.Event, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.started = started
        self.seen: list[tuple[int, int]] = []

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> Sequence[Outgoing]:  # type: ignore[override]
        self.started.set()
        await asyncio.sleep(1.5)
        self.seen += [(r.partition, r.offset) for r in records]
        return []


async def test_a_partition_revoked_mid_batch_neither_crashes_the_worker_nor_redelivers(
    sqlite_migrated_url: str, kafka_bootstrap: str
) -> None:
    from service.db.engine import create_engine, create_sessionmaker

    settings = pipeline_settings(sqlite_migrated_url, kafka_bootstrap, batch_max_records=5)
    await ensure_topics(settings, kafka_bootstrap)
    records = [(b"k%d" % n, b"v%d" % n) for n in range(40)]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for number, (key, value) in enumerate(records):
        producer.produce(settings.topics.inbound, value=value, key=key, partition=number % 2)
    assert producer.flush(30) == 0

    engine = create_engine(sqlite_migrated_url)
    sessions = create_sessionmaker(engine)
    group = unique_name("revoke")
    first_started, second_started = asyncio.Event(), asyncio.Event()
    first = _SlowStage(settings, started=first_started)
    second = _SlowStage(settings, started=second_started)
    runners = [
        StageRunner(stage, settings=settings, bootstrap=kafka_bootstrap, sessions=sessions,
                    group_id=group)
        for stage in (first, second)
    ]  # fmt: skip
    tasks = [asyncio.create_task(runners[0].run())]
    try:
        await asyncio.wait_for(first_started.wait(), 60)
        # A second member joins while the first is inside a batch: its partitions are revoked.
        tasks.append(asyncio.create_task(runners[1].run()))
        deadline = time.monotonic() + 120
        while len(first.seen) + len(second.seen) < len(records):
            assert time.monotonic() < deadline, "not every record was handled"
            for task in tasks:
                assert not task.done(), f"a worker stopped: {task.exception()!r}"
            await asyncio.sleep(0.1)
        assert second_started.is_set(), "the second member never got a partition"
    finally:
        for runner in runners:
            runner.stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()
    assert [r for r in results if isinstance(r, BaseException)] == []
    handled = first.seen + second.seen
    assert len(handled) == len(set(handled)) == len(records), "a record was handled twice"


class _RecordingStage(Stage):
    """Remembers the values it handled, in order."""

    name = "validate"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen: list[bytes] = []

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> Sequence[Outgoing]:  # type: ignore[override]
        self.seen += [r.value or b"" for r in records]
        return []


def _produce_to_partition_0(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value=value, partition=0)
    assert producer.flush(30) == 0


async def _wait_seen(stage: _RecordingStage, task: asyncio.Task[None], count: int) -> None:
    deadline = time.monotonic() + 90
    while len(stage.seen) < count:
        assert not task.done(), f"the worker stopped: {task.exception()!r}"
        assert time.monotonic() < deadline, f"handled {len(stage.seen)} of {count}"
        await asyncio.sleep(0.1)


async def _commit_offset(bootstrap: str, group: str, tp: TopicPartition, offset: int) -> None:
    """Commit `offset` for `group` as a client outside the group would (no membership)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def test_a_position_past_the_end_of_the_log_is_read_again_from_its_earliest_offset(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker
) -> None:
    """What a broker that restarts empty leaves behind: the group's offset (10) is past the
    new log's end (3). The worker must start over at 0, not wait for offset 10 and skip
    everything below it (the embedded broker answers such a fetch with no error)."""
    from service.db.engine import create_engine, create_sessionmaker

    bootstrap = embedded_broker.bootstrap
    settings = pipeline_settings(sqlite_migrated_url, bootstrap, batch_max_records=5)
    await ensure_topics(settings, bootstrap)
    inbound = settings.topics.inbound
    records = [b"after-restart-%d" % n for n in range(3)]
    await asyncio.to_thread(_produce_to_partition_0, bootstrap, inbound, records)
    engine = create_engine(sqlite_migrated_url)
    stage = _RecordingStage(settings)
    runner = StageRunner(
        stage, settings=settings, bootstrap=bootstrap, sessions=create_sessionmaker(engine)
    )
    await _commit_offset(bootstrap, runner.group_id, TopicPartition(inbound, 0), 10)
    task = asyncio.create_task(runner.run())
    try:
        await _wait_seen(stage, task, len(records))
    finally:
        runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
    assert stage.seen == records


class _OutageOnce(_RecordingStage):
    """Fails the first slice holding `poisoned` with an outage (as a lost database would)."""

    def __init__(self, *args: object, poisoned: bytes, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.poisoned = poisoned
        self.slices: list[list[bytes]] = []
        self.failed = False

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> Sequence[Outgoing]:  # type: ignore[override]
        values = [r.value or b"" for r in records]
        self.slices.append(values)
        if self.poisoned in values and not self.failed:
            self.failed = True
            raise OSError("database unreachable")
        return await super().handle(session, records)


async def test_a_batch_is_handled_in_slices_and_an_outage_rewinds_only_what_is_unhandled(
    sqlite_migrated_url: str, kafka_bootstrap: str
) -> None:
    """Ten 2-byte records fetched as one batch, handled two by two (batch_max_bytes=4);
    an outage in the third slice re-reads from it on, and no record is handled twice."""
    from service.db.engine import create_engine, create_sessionmaker

    settings = pipeline_settings(sqlite_migrated_url, kafka_bootstrap).model_copy(
        update={"batch_max_bytes": 4, "batch_max_records": 50}
    )
    await ensure_topics(settings, kafka_bootstrap)
    values = [b"v%d" % n for n in range(10)]
    await asyncio.to_thread(
        _produce_to_partition_0, kafka_bootstrap, settings.topics.inbound, values
    )
    engine = create_engine(sqlite_migrated_url)
    stage = _OutageOnce(settings, poisoned=b"v4")
    runner = StageRunner(
        stage, settings=settings, bootstrap=kafka_bootstrap, sessions=create_sessionmaker(engine)
    )
    task = asyncio.create_task(runner.run())
    try:
        await _wait_seen(stage, task, len(values))
    finally:
        runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
    assert stage.seen == values, "every record once, in order"
    assert stage.failed
    assert max(len(piece) for piece in stage.slices) <= 2, stage.slices
