"""Capture a topic from any Kafka-protocol broker into a recording file (`aedex record`).

No consumer group: every partition is assigned and read from its earliest offset
(or, with a period, from the first record at or after its start), so recording
never moves a group's offsets or joins a rebalance. The capture ends after
`count` records, or once every partition has passed the period's end or reached
the end it had when the capture started and nothing new came for `idle_s`: the
embedded Tansu reports a partition's end too early after a batched produce
(docs/broker-faults.md), so the reported end alone would cut a stream short.

Tansu also answers a look-up by timestamp (`offsets_for_times`) with offset 0
whatever the time (docs/broker-faults.md), so the start found there is taken as
a lower bound: a partition's records before its first one at or after `since`
are skipped as they are read. On Apache Kafka that skips nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from service import kafka_decoding
from service.harness.recording import Recorded, RecordingWriter

#: A capture that has reached the end waits this long for stragglers, then stops.
IDLE_S = 1.0
#: Largest record this reads (the pipeline's own limit plus headroom).
MAX_FETCH_BYTES = 64 * 1024 * 1024

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def aedex_version() -> str:
    try:
        return version("aedex")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class Period:
    """The stretch of a stream to record: from `since` up to and including `until`.

    Either end may be open (None). Times are aware; a record's millisecond
    timestamp is inside when it is not before `since` and not after `until`.
    """

    since: datetime | None = None
    until: datetime | None = None

    def header(self) -> dict[str, Any]:
        """The period as the recording's header states it (ISO 8601, null when open)."""
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }

    @property
    def since_ms(self) -> int | None:
        """The first millisecond inside the period (rounded up: 10.0005 s starts at 10.001)."""
        return None if self.since is None else -(-_micros(self.since) // 1000)

    @property
    def until_ms(self) -> int | None:
        """The last millisecond inside the period (rounded down)."""
        return None if self.until is None else _micros(self.until) // 1000


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


async def record_topic(
    bootstrap: str,
    topic: str,
    out: Path,
    *,
    count: int | None = None,
    period: Period | None = None,
    idle_s: float = IDLE_S,
    timeout_s: float = 30.0,
) -> int:
    """Write the records of `topic` (those of `period`, if given) to `out`; returns how many
    were written."""
    period = period or Period()
    kafka_decoding.install(max_decompressed_bytes=MAX_FETCH_BYTES)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_bytes=MAX_FETCH_BYTES,
        max_partition_fetch_bytes=MAX_FETCH_BYTES,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic, timeout_s)
        header = {
            "topic": topic,
            "source": "kafka",
            "partitions": len(partitions),
            "aedex": aedex_version(),
            **period.header(),
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        with out.open("wb") as file, RecordingWriter(file, header) as writer:
            reading = await _start(consumer, partitions, period.since_ms)
            if reading:
                await _capture(consumer, reading, writer, period, count, idle_s)
            return writer.count
    finally:
        await consumer.stop()


async def _start(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], since_ms: int | None
) -> list[TopicPartition]:
    """Assign and position the partitions to read; a partition with no record at or after
    `since_ms` is left out (it contributes nothing)."""
    if since_ms is None:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return partitions
    found = await consumer.offsets_for_times({tp: max(since_ms, 0) for tp in partitions})
    reading = [tp for tp in partitions if found.get(tp) is not None]
    consumer.assign(reading)
    for tp in reading:
        consumer.seek(tp, found[tp].offset)
    return reading


async def _capture(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    writer: RecordingWriter,
    period: Period,
    count: int | None,
    idle_s: float,
) -> None:
    since_ms, until_ms = period.since_ms, period.until_ms
    ends = await consumer.end_offsets(partitions)
    #: Partitions whose first record of the period has been read (all, without `since`).
    started = set(partitions) if since_ms is None else set()
    #: Partitions past the period's end: paused, nothing more is read from them.
    passed: set[TopicPartition] = set()
    quiet_since = time.monotonic()
    while count is None or writer.count < count:
        batches = await consumer.getmany(timeout_ms=100, max_records=1000)
        for tp, records in batches.items():
            for record in records:
                if tp in passed or (count is not None and writer.count >= count):
                    break
                if until_ms is not None and record.timestamp > until_ms:
                    passed.add(tp)
                    consumer.pause(tp)
                    break
                if tp not in started:
                    assert since_ms is not None
                    if record.timestamp < since_ms:
                        continue  # before the period: only Tansu's look-up lands here
                    started.add(tp)
                writer.write(
                    Recorded(
                        record.timestamp, record.partition, record.offset,
                        record.key, record.value, tuple(record.headers),
                    )
                )  # fmt: skip
        if len(passed) == len(partitions):
            break
        if any(batches.values()):
            quiet_since = time.monotonic()
            continue
        reached = all(
            [tp in passed or await consumer.position(tp) >= ends[tp] for tp in partitions]
        )
        if reached and time.monotonic() - quiet_since >= idle_s:
            break


async def _partitions(
    consumer: AIOKafkaConsumer, topic: str, timeout_s: float
) -> list[TopicPartition]:
    """The topic's partitions, or a clear error when the broker does not know the topic."""
    deadline = time.monotonic() + timeout_s
    while True:
        if topic in await consumer.topics():  # a metadata request: fresh, not cached
            found = consumer.partitions_for_topic(topic)
            if found:
                return [TopicPartition(topic, p) for p in sorted(found)]
        if time.monotonic() > deadline:
            raise LookupError(f"the broker at hand has no topic {topic!r}")
        await asyncio.sleep(0.2)
