"""Capture a topic from any Kafka-protocol broker into a recording file (`aedex record`).

No consumer group: every partition is assigned and read from its earliest offset,
so recording never moves a group's offsets or joins a rebalance. The capture ends
after `count` records, or once every partition has reached the end it had when
the capture started and nothing new came for `idle_s`: the embedded Tansu reports
a partition's end too early after a batched produce (docs/broker-faults.md), so
the reported end alone would cut a stream short.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from service import kafka_decoding
from service.harness.recording import Recorded, RecordingWriter

#: A capture that has reached the end waits this long for stragglers, then stops.
IDLE_S = 1.0
#: Largest record this reads (the pipeline's own limit plus headroom).
MAX_FETCH_BYTES = 64 * 1024 * 1024


def aedex_version() -> str:
    try:
        return version("aedex")
    except PackageNotFoundError:
        return "unknown"


async def record_topic(
    bootstrap: str,
    topic: str,
    out: Path,
    *,
    count: int | None = None,
    idle_s: float = IDLE_S,
    timeout_s: float = 30.0,
) -> int:
    """Write the records of `topic` to `out`; returns how many were written."""
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
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        header = {
            "topic": topic,
            "source": "kafka",
            "partitions": len(partitions),
            "aedex": aedex_version(),
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        with out.open("wb") as file, RecordingWriter(file, header) as writer:
            quiet_since = time.monotonic()
            while count is None or writer.count < count:
                batches = await consumer.getmany(timeout_ms=100, max_records=1000)
                got = [r for part in batches.values() for r in part]
                for record in got[: None if count is None else count - writer.count]:
                    writer.write(
                        Recorded(
                            record.timestamp, record.partition, record.offset,
                            record.key, record.value, tuple(record.headers),
                        )
                    )  # fmt: skip
                if got:
                    quiet_since = time.monotonic()
                    continue
                reached = all([await consumer.position(tp) >= ends[tp] for tp in partitions])
                if reached and time.monotonic() - quiet_since >= idle_s:
                    break
            return writer.count
    finally:
        await consumer.stop()


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
