"""The loop every stage runs: getmany → one DB transaction → produce → commit offsets.

At-least-once by construction: offsets are committed only after the database
commit and after the downstream records are acknowledged, so a crash anywhere
means redelivery, and every handler is idempotent (natural unique keys; a
redelivered record re-emits what was stored instead of storing it again).

A record that makes its handler fail is isolated: the batch is retried one
record per transaction, and the one that still fails goes to `aed.deadletter`
with the error in its headers, so a poison record never blocks a partition.
Database outages are not poison: the batch is rewound and retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, ConsumerStoppedError, IllegalStateError, KafkaError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import kafka
from service.db.outage import is_outage
from service.kafka_decoding import undecodable_reason
from service.metrics import Metrics
from service.settings import Settings

log = structlog.get_logger(__name__)

#: Waits before retrying a batch after the database or broker failed.
#: Longest an idle worker looks for partitions to reset (a rebalance makes it wait).
RESET_TIMEOUT_S = 5.0
RETRY_DELAY_S = 1.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Handler(Protocol):
    """One stage's work; `handle` must be idempotent and only `flush()` (the runner commits)."""

    name: str

    def topics(self) -> Sequence[str]: ...

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[Outgoing]: ...

    async def on_assigned(
        self, sessions: async_sessionmaker[AsyncSession], partitions: set[TopicPartition]
    ) -> None: ...

    async def dead_lettered(
        self, session: AsyncSession, record: ConsumerRecord[bytes, bytes], error: str
    ) -> None:
        """Record in the database that `record` went to the dead-letter topic."""

    async def start(self, bootstrap: str, sessions: async_sessionmaker[AsyncSession]) -> None: ...

    async def close(self) -> None: ...


class Stage:
    """Defaults for a Handler: input topics by stage name, nothing to do on assignment
    or dead-lettering. A stage overrides what it needs and writes `handle`."""

    name: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def topics(self) -> Sequence[str]:
        return self.settings.topics.inputs(self.name)

    async def on_assigned(
        self, sessions: async_sessionmaker[AsyncSession], partitions: set[TopicPartition]
    ) -> None:
        return None

    async def start(self, bootstrap: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Start what the stage runs beside its consumer (the assess stage's control
        listener); called once, before the first batch."""
        return None

    async def close(self) -> None:
        """Stop what `start` started."""
        return None

    async def dead_lettered(
        self, session: AsyncSession, record: ConsumerRecord[bytes, bytes], error: str
    ) -> None:
        return None


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    """A record header as text, or None."""
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode("utf-8", "replace")
    return None


def deadletter(
    settings: Settings, stage: str, record: ConsumerRecord[bytes, bytes], error: str
) -> Outgoing:
    """The original record, unchanged, with why it could not be handled (DESIGN.md §1)."""
    return Outgoing(
        settings.topics.deadletter,
        record.key,
        record.value or b"",
        [
            ("error", error.encode("utf-8", "replace")[:1000]),
            ("stage", stage.encode()),
            ("topic", record.topic.encode()),
            ("partition", str(record.partition).encode()),
            ("offset", str(record.offset).encode()),
        ],
    )


def slices_of(
    records: list[ConsumerRecord[bytes, bytes]], max_bytes: int
) -> list[list[ConsumerRecord[bytes, bytes]]]:
    """`records` in order, cut into slices of at most `max_bytes` of values (a record
    bigger than that is a slice of its own)."""
    slices: list[list[ConsumerRecord[bytes, bytes]]] = []
    size = 0
    for record in records:
        length = len(record.value or b"")
        if not slices or (size + length > max_bytes and slices[-1]):
            slices.append([])
            size = 0
        slices[-1].append(record)
        size += length
    return slices


def _rewind(consumer: AIOKafkaConsumer, unhandled: list[ConsumerRecord[bytes, bytes]]) -> None:
    """Fetch these records again: each partition still owned back to its first unhandled
    offset (a partition gone meanwhile starts from its committed offset at its new owner)."""
    first: dict[TopicPartition, int] = {}
    for record in unhandled:
        first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
    for tp, offset in first.items():
        try:
            consumer.seek(tp, offset)
        except IllegalStateError:
            continue


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: StageRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Let the batch in hand finish and commit before the partitions go: the new owner
        then starts after it instead of redoing it (a rebalance costs no redelivery)."""
        runner = self.runner
        try:
            async with asyncio.timeout(runner.settings.kafka_rebalance_timeout_ms / 2000):
                async with runner.batch_lock:
                    pass
        except TimeoutError:
            log.warning(
                "batch still running at rebalance; its records will be redelivered",
                stage=runner.handler.name,
            )

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        # One line per join or rebalance: a rebalance storm shows in the log at a glance.
        log.info(
            "partitions assigned",
            stage=self.runner.handler.name,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )
        await self.runner.handler.on_assigned(self.runner.sessions, set(assigned))


class StageRunner:
    def __init__(
        self,
        handler: Handler,
        *,
        settings: Settings,
        bootstrap: str,
        sessions: async_sessionmaker[AsyncSession],
        metrics: Metrics | None = None,
        group_id: str | None = None,
        consumer_options: dict[str, Any] | None = None,
    ) -> None:
        self.handler = handler
        self.settings = settings
        self.bootstrap = bootstrap
        self.sessions = sessions
        self.metrics = metrics or Metrics()
        # Groups live under the topic prefix: two deployments (or tests) on one broker never mix.
        self.group_id = group_id or f"{settings.topic_prefix}-{handler.name}"
        self.consumer_options = {
            "session_timeout_ms": settings.kafka_session_timeout_ms,
            "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
            "rebalance_timeout_ms": settings.kafka_rebalance_timeout_ms,
            **(consumer_options or {}),
        }
        self.stopping = asyncio.Event()
        #: Held from a batch's fetch to its offset commit; a revocation waits for it.
        self.batch_lock = asyncio.Lock()
        #: Records handled since start (for tests and progress output).
        self.handled = 0
        self._consumer: AIOKafkaConsumer | None = None

    def partitions(self) -> int | None:
        """Partitions held now; None until the consumer has joined (heartbeats, /readyz)."""
        if self._consumer is None:
            return None
        return len(self._consumer.assignment())

    def stop(self) -> None:
        """Finish the batch in hand, commit it, and return from `run` (SIGTERM does this)."""
        self.stopping.set()

    async def run(self) -> None:
        settings = self.settings
        producer = kafka.producer(settings, self.bootstrap)
        consumer = kafka.consumer(
            settings, self.bootstrap, group_id=self.group_id, **self.consumer_options
        )
        await producer.start()
        try:
            await consumer.start()
            consumer.subscribe(list(self.handler.topics()), listener=_Rebalance(self))
            self._consumer = consumer
            await self.handler.start(self.bootstrap, self.sessions)
            try:
                await self._loop(consumer, producer)
            finally:
                self._consumer = None
                await self.handler.close()
                await consumer.stop()
        finally:
            await producer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        while not self.stopping.is_set():
            async with self.batch_lock:
                fetched = await self._one_batch(consumer, producer)
            if not fetched:
                # Outside the lock: a reset waits for the coordinator, and a rebalance in
                # progress waits for the lock (on_partitions_revoked).
                await self._reset_past_the_end(consumer)

    async def _fetch(
        self, consumer: AIOKafkaConsumer
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        """The next records, or none when the fetch failed (the error is logged and counted:
        a fetch error is the broker's or the topic's, and must not end the worker)."""
        try:
            batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
            batches = await consumer.getmany(
                timeout_ms=self.settings.batch_timeout_ms,
                max_records=self.settings.batch_max_records,
            )
            return batches
        except ConsumerStoppedError:
            raise
        except KafkaError as error:
            log.warning("fetch failed; retrying", stage=self.handler.name, error=repr(error))
            self.metrics.stage_records.labels(self.handler.name, "fetch_error").inc()
            await asyncio.sleep(RETRY_DELAY_S)
            return {}

    async def _one_batch(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> bool:
        """Fetch, handle, produce and commit one batch; False when nothing was fetched."""
        batches = await self._fetch(consumer)
        records = [record for part in batches.values() for record in part]
        if not records:
            return False
        slices = slices_of(records, self.settings.batch_max_bytes)
        for number, piece in enumerate(slices):
            owned = consumer.assignment()
            # A partition revoked meanwhile is its new owner's: do not handle it twice.
            piece = [r for r in piece if TopicPartition(r.topic, r.partition) in owned]
            if piece and not await self._one_slice(consumer, producer, piece):
                _rewind(consumer, [r for rest in slices[number:] for r in rest])
                await asyncio.sleep(RETRY_DELAY_S)
                return True
            if self.stopping.is_set():
                break  # the rest is fetched again by whoever reads these partitions next
        return True

    async def _one_slice(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> bool:
        """Handle, produce and commit `records`; False when an outage interrupted them."""
        stage = self.handler.name
        started = time.perf_counter()
        try:
            readable, unreadable = self._split_undecodable(records)
            outgoing = await self._handle(readable) if readable else []
            outgoing += unreadable
            await self._produce(producer, outgoing)
        except (DBAPIError, KafkaError, OSError, TimeoutError) as error:
            log.warning("batch failed; rewinding", stage=stage, error=repr(error))
            return False
        ends: dict[TopicPartition, int] = {}
        for record in records:
            ends[TopicPartition(record.topic, record.partition)] = record.offset + 1
        await self._commit(consumer, ends)
        self.handled += len(records)
        self.metrics.stage_records.labels(stage, "handled").inc(len(records))
        self.metrics.stage_batch_seconds.labels(stage).observe(time.perf_counter() - started)
        waited = self.metrics.stage_wait_seconds.labels(stage)
        now_ms = time.time() * 1000
        for record in records:
            waited.observe(max(0.0, now_ms - record.timestamp) / 1000)
        return True

    async def _reset_past_the_end(self, consumer: AIOKafkaConsumer) -> None:
        """Start again from the earliest offset of a partition whose position is past the end
        of its log, as Kafka's `auto.offset.reset` would.

        Apache Kafka answers such a fetch with OFFSET_OUT_OF_RANGE and the client resets;
        the embedded broker answers nothing, so a consumer whose broker restarted empty (or
        that was rewound after the restart) would wait past the end and skip every new
        record below its old position. Re-reading is safe: handlers are idempotent.
        """
        try:
            async with asyncio.timeout(RESET_TIMEOUT_S):
                for tp in consumer.assignment():
                    await self._reset_if_past_the_end(consumer, tp)
        except TimeoutError:
            pass  # a rebalance in progress; the next idle fetch looks again
        except IllegalStateError:
            pass  # revoked meanwhile: the new owner starts from its own position

    async def _reset_if_past_the_end(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        end = consumer.highwater(tp)
        if end is None:
            return
        position = await consumer.position(tp)
        if position > end:
            log.warning(
                "position past the end of the log (the broker lost its data?); "
                "reading the partition again from its earliest offset",
                stage=self.handler.name, topic=tp.topic, partition=tp.partition,
                position=position, end=end,
            )  # fmt: skip
            self.metrics.stage_records.labels(self.handler.name, "offset_reset").inc()
            # A coroutine in aiokafka: not awaited, it would never reset anything.
            await consumer.seek_to_beginning(tp)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit `offsets` of the partitions this consumer still owns; a partition that has
        moved is the new owner's to redeliver (handlers are idempotent)."""
        stage = self.handler.name
        owned = consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in owned}
        if len(mine) < len(offsets):
            log.info(
                "partitions moved before commit; their records will be redelivered",
                stage=stage,
                moved=sorted(str(tp) for tp in offsets.keys() - mine.keys()),
            )
        if not mine:
            return
        try:
            await consumer.commit(mine)
        except (CommitFailedError, IllegalStateError) as error:
            log.info(
                "commit after rebalance refused; records will be redelivered",
                stage=stage,
                error=type(error).__name__,
            )

    def _split_undecodable(
        self, records: list[ConsumerRecord[bytes, bytes]]
    ) -> tuple[list[ConsumerRecord[bytes, bytes]], list[Outgoing]]:
        """Records to handle, and dead letters for batches that could not be decoded."""
        readable: list[ConsumerRecord[bytes, bytes]] = []
        letters: list[Outgoing] = []
        for record in records:
            reason = undecodable_reason(record.headers)
            if reason is None:
                readable.append(record)
                continue
            stage = self.handler.name
            log.error(
                "undecodable record batch dead-lettered; the partition moves on",
                stage=stage, topic=record.topic, partition=record.partition,
                offset=record.offset, error=reason,
            )  # fmt: skip
            self.metrics.stage_records.labels(stage, "undecodable").inc()
            letters.append(
                deadletter(self.settings, stage, record, f"undecodable record batch: {reason}")
            )
        return readable, letters

    async def _handle(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[Outgoing]:
        try:
            async with self.sessions() as session, session.begin():
                return await self.handler.handle(session, records)
        except Exception as error:  # noqa: BLE001 - isolate the record that fails, below
            if is_outage(error):
                raise
            log.warning("batch failed; retrying record by record", error=repr(error)[:500])
        outgoing: list[Outgoing] = []
        for record in records:
            try:
                async with self.sessions() as session, session.begin():
                    outgoing += await self.handler.handle(session, [record])
            except Exception as error:  # noqa: BLE001 - a poison record must not block the partition
                if is_outage(error):
                    raise
                outgoing.append(await self._poison(record, error))
        return outgoing

    async def _poison(self, record: ConsumerRecord[bytes, bytes], error: BaseException) -> Outgoing:
        stage = self.handler.name
        log.warning(
            "record dead-lettered",
            stage=stage,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=repr(error),
        )
        self.metrics.stage_records.labels(stage, "deadletter").inc()
        reason = f"{type(error).__name__}: {error}"
        async with self.sessions() as session, session.begin():
            await self.handler.dead_lettered(session, record, reason)
        return deadletter(self.settings, stage, record, reason)

    async def _produce(self, producer: AIOKafkaProducer, outgoing: list[Outgoing]) -> None:
        if not outgoing:
            return
        futures: list[Any] = [
            await producer.send(o.topic, o.value, key=o.key, headers=o.headers) for o in outgoing
        ]
        await asyncio.gather(*futures)
