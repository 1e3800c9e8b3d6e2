"""Per-stage consumer lag, read from the broker: how many records each stage still has to do.

Lag is the end (high watermark) of each input partition minus the stage
group's committed offset. Reading both from the broker gives the whole
pipeline's view from any process (the API answers `/metrics`), whichever
worker process does the stage's work.

Two Tansu 0.6 answers cannot be used, found by experiment: aiokafka's admin
`list_consumer_group_offsets` cannot decode its OffsetFetch reply, and its
ListOffsets "latest" reports the base offset of the last batch plus one, not
the end. So committed offsets are read by one unsubscribed consumer per group
(it never joins, so it never causes a rebalance), and the high watermark from
a one-record fetch at the committed offset, which Tansu reports correctly.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from service.settings import STAGES, Settings

#: How long one reading may wait for the fetch replies.
FETCH_TIMEOUT_S = 2.0

#: Stages that consume from Kafka (the relay reads the database).
CONSUMING_STAGES = tuple(stage for stage in STAGES if stage != "relay")


class LagProbe:
    def __init__(self, settings: Settings, bootstrap: str) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self._offsets: AIOKafkaConsumer | None = None
        self._groups: dict[str, AIOKafkaConsumer] = {}

    async def start(self) -> None:
        # Tiny fetches: only the reply's high watermark is wanted, not the records.
        self._offsets = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_bytes=1024,
            max_partition_fetch_bytes=1024,
        )
        await self._offsets.start()
        for stage in CONSUMING_STAGES:
            group = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=f"{self.settings.topic_prefix}-{stage}",
                enable_auto_commit=False,
            )
            await group.start()
            self._groups[stage] = group

    async def stop(self) -> None:
        for consumer in [*self._groups.values(), *([self._offsets] if self._offsets else [])]:
            await consumer.stop()
        self._groups.clear()
        self._offsets = None

    async def read(self) -> dict[str, int]:
        """Records not yet committed by each stage's group, summed over its input partitions."""
        probe = self._offsets
        assert probe is not None, "start() the probe first"
        await probe.topics()  # refreshes metadata, so new partitions are seen
        done: dict[TopicPartition, int] = {}
        stage_of: dict[TopicPartition, str] = {}
        for stage, group in self._groups.items():
            for topic in self.settings.topics.inputs(stage):
                for partition in sorted(probe.partitions_for_topic(topic) or ()):
                    tp = TopicPartition(topic, partition)
                    stage_of[tp] = stage
                    committed = await group.committed(tp)
                    if committed is not None:
                        done[tp] = committed
        lag = dict.fromkeys(self._groups, 0)
        if not stage_of:
            return lag
        never = [tp for tp in stage_of if tp not in done]
        if never:
            done.update(await probe.beginning_offsets(never))
        ends = await self._high_watermarks(probe, done)
        for tp, stage in stage_of.items():
            lag[stage] += max(0, ends[tp] - done[tp])
        return lag

    async def deadletters(self) -> int:
        """Records on the dead-letter topic: its partitions' ends from their beginnings."""
        probe = self._offsets
        assert probe is not None, "start() the probe first"
        await probe.topics()
        topic = self.settings.topics.deadletter
        partitions = [
            TopicPartition(topic, p) for p in sorted(probe.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return 0
        starts = await probe.beginning_offsets(partitions)
        ends = await self._high_watermarks(probe, starts)
        return sum(max(0, ends[tp] - starts[tp]) for tp in partitions)

    async def _high_watermarks(
        self, probe: AIOKafkaConsumer, start: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """Each partition's high watermark, from fetch replies (one small fetch from `start`)."""
        probe.assign(list(start))
        for tp, offset in start.items():
            probe.seek(tp, offset)
        ends: dict[TopicPartition, int] = {}
        deadline = asyncio.get_running_loop().time() + FETCH_TIMEOUT_S
        while len(ends) < len(start):
            if asyncio.get_running_loop().time() > deadline:
                missing = sorted(str(tp) for tp in start if tp not in ends)
                raise TimeoutError(f"no high watermark for {', '.join(missing)}")
            await probe.getmany(timeout_ms=100, max_records=1)
            for tp in start:
                if tp not in ends and (high := probe.highwater(tp)) is not None:
                    ends[tp] = high
        return ends
