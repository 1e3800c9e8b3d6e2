"""Validate scale-out on PostgreSQL: one worker against two in one consumer group.

The validate stage alone (no relay, assess or respond: they would share the
two cores), on the embedded broker and a fresh PostgreSQL database per run,
with the same generated ITMATT messages produced straight to `aed.inbound`
(4 partitions). A warm-up of a few messages is handled first, so every
worker has joined the group and imported what it needs before the clock
starts; the clock then runs from the first produce of the measured traffic
until every message is processed in the inbox.

Reported per run: items/s, CPU-µs per item of each worker (from /proc), the
partition assignments each worker logged (a rebalance storm shows as many),
and the records handled beyond those produced (redelivery). The figure is
the ratio of the two runs' items/s (issue 15: ≥ 1.7). The cores the whole
machine kept busy are reported beside the workers' own: PostgreSQL's backends,
the broker and the producer share the same two cores, so the ratio is bounded
by what the workers leave of them.

Needs PostgreSQL (`AEDEX_BENCH_PG_URL`, default the project's machine:
postgresql+asyncpg://postgres@127.0.0.1:5432/test); skipped with a message
when it is unreachable. `AEDEX_BENCH_SCALE_ITEMS` sets the measured items.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.generator import generate, itmatt_only
from benchmarks.pipeline_e2e import free_port
from benchmarks.proc_stats import cpu_seconds, machine_busy_s
from service import kafka
from service.broker import EmbeddedBroker
from service.db.engine import create_engine
from service.db.migrate import upgrade
from service.db.models import InboxMessage, InboxStatus
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "validate_scaleout.json"
PG_URL = os.environ.get("AEDEX_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
ITEMS = int(os.environ.get("AEDEX_BENCH_SCALE_ITEMS", "20000"))
WARMUP_MESSAGES = 8
ITEMS_PER_MESSAGE = 50
PARTITIONS = 4
TARGET_RATIO = 1.7
TIMEOUT_S = 600.0
#: The runner's line when a member is given partitions (one per join or rebalance).
ASSIGNED = re.compile(r"\"event\": \"partitions assigned\"")


@dataclass(frozen=True, slots=True)
class Run:
    workers: int
    items: int
    seconds: float
    cpu_us_per_item: dict[str, float]
    assignments: dict[str, int]
    handled_records: int
    produced_records: int
    #: Cores the whole machine kept busy while the run's clock ran (the workers,
    #: PostgreSQL's backends, the broker, this producer, anything else).
    machine_cores: float
    #: Of those, the cores the validate workers used.
    worker_cores: float

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds

    @property
    def redelivered(self) -> int:
        return self.handled_records - self.produced_records


def _messages(seed: int) -> list[tuple[bytes, bytes, int]]:
    """(key, value, items) of generated ITMATT messages: warm-up first, then the measured."""
    total = ITEMS + WARMUP_MESSAGES * ITEMS_PER_MESSAGE
    options = itmatt_only(total, seed, scenarios=True, items_per_message=ITEMS_PER_MESSAGE)
    found = []
    for file in generate(options):
        envelope = file.envelope
        key = f"{envelope.sender_operator}:{envelope.message_id}".encode()
        found.append((key, file.data, envelope.items))
    return found


async def _admin(*statements: str) -> None:
    """Run statements on the maintenance database of `PG_URL` (CREATE/DROP DATABASE)."""
    url = make_url(PG_URL)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _fresh_database(name: str) -> str | None:
    """A new database on the PostgreSQL server of `PG_URL`; None when it is unreachable."""
    url = make_url(PG_URL)
    try:
        await _admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        print(
            f"validate_scaleout: PostgreSQL at {url.host}:{url.port} unreachable ({error}); skipped"
        )
        return None
    return url.set(database=name).render_as_string(hide_password=False)


async def _processed(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.status.in_([InboxStatus.PROCESSED, InboxStatus.REFUSED]))
        )
        return int(count or 0)


async def _wait_processed(
    engine: AsyncEngine, count: int, workers: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while await _processed(engine) < count:
        for worker in workers:
            if worker.poll() is not None:
                raise RuntimeError(f"a validate worker exited with status {worker.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not every message was processed within {TIMEOUT_S:g} s")
        await asyncio.sleep(0.2)


def _handled(port: int) -> int:
    """Records the worker handled, from its own Prometheus counter."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("aedex_stage_records_total{") and 'outcome="handled"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def _produce(settings: Settings, messages: list[tuple[bytes, bytes, int]]) -> None:
    producer = kafka.producer(settings, settings.kafka_bootstrap)
    await producer.start()
    try:
        futures = [await producer.send(settings.topics.inbound, v, key=k) for k, v, _ in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def one_run(broker: EmbeddedBroker, workers: int, logs: Path) -> Run | None:
    name = f"aedex_scale_{workers}_{uuid.uuid4().hex[:6]}"
    url = await _fresh_database(name)
    if url is None:
        return None
    try:
        await upgrade(url)
        prefix = f"scale{workers}-{uuid.uuid4().hex[:6]}"
        settings = Settings(
            database_url=url, kafka_bootstrap=broker.bootstrap, topic_prefix=prefix,
            topic_partitions=PARTITIONS,
        )  # fmt: skip
        await kafka.ensure_topics(settings, broker.bootstrap)
        messages = _messages(seed=15)
        warmup, measured = messages[:WARMUP_MESSAGES], messages[WARMUP_MESSAGES:]
        env = {
            **os.environ,
            "AEDEX_DATABASE_URL": url,
            "AEDEX_KAFKA_BOOTSTRAP": broker.bootstrap,
            "AEDEX_TOPIC_PREFIX": prefix,
            "AEDEX_TOPIC_PARTITIONS": str(PARTITIONS),
            "AEDEX_KAFKA_SESSION_TIMEOUT_MS": "10000",
            "AEDEX_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
            "AEDEX_KAFKA_REBALANCE_TIMEOUT_MS": "10000",
            "AEDEX_LOG_JSON": "true",
        }
        ports = [free_port() for _ in range(workers)]
        files = [(logs / f"validate-{workers}-{n}.log").open("wb") for n in range(workers)]
        processes = [
            subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [
                    sys.executable,
                    "-m",
                    "service.cli.main",
                    "worker",
                    "--stage",
                    "validate",
                    "--metrics-port",
                    str(port),
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=file,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            for port, file in zip(ports, files, strict=True)
        ]
        engine = create_engine(url)
        try:
            await _produce(settings, warmup)
            await _wait_processed(engine, len(warmup), processes)
            await asyncio.sleep(3)  # a late joiner's rebalance is over before the clock starts
            before = {p.pid: cpu_seconds(p.pid) or 0.0 for p in processes}
            busy_before = machine_busy_s() or 0.0
            started = time.perf_counter()
            await _produce(settings, measured)
            await _wait_processed(engine, len(messages), processes)
            seconds = time.perf_counter() - started
            machine_cores = ((machine_busy_s() or 0.0) - busy_before) / seconds
            worker_s = sum((cpu_seconds(p.pid) or 0.0) - before[p.pid] for p in processes)
            items = sum(n for _, _, n in measured)
            cpu = {
                f"validate-{n}": ((cpu_seconds(p.pid) or 0.0) - before[p.pid]) / items * 1e6
                for n, p in enumerate(processes)
            }
            # The inbox shows a message processed at the stage's commit; the records count
            # as handled a moment later (after the offsets): wait for the last slice.
            deadline = time.monotonic() + 10
            handled = sum(_handled(port) for port in ports)
            while handled < len(messages) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                handled = sum(_handled(port) for port in ports)
        finally:
            await engine.dispose()
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            for file in files:
                file.close()
        assignments = {
            f"validate-{n}": len(
                ASSIGNED.findall(
                    (logs / f"validate-{workers}-{n}.log").read_text("utf-8", "replace")
                )
            )
            for n in range(workers)
        }
        return Run(
            workers, items, seconds, cpu, assignments, handled, len(messages),
            machine_cores, worker_s / seconds,
        )  # fmt: skip
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _print(run: Run) -> None:
    cpu = ", ".join(f"{name} {us:,.0f}" for name, us in run.cpu_us_per_item.items())
    print(
        f"{run.workers} worker(s): {run.items:,} items in {run.seconds:.1f} s = "
        f"{run.items_per_s:,.0f} items/s; CPU-µs/item: {cpu}; partition assignments logged: "
        f"{run.assignments}; records handled beyond those produced: {run.redelivered}; "
        f"cores busy: machine {run.machine_cores:.2f} of {os.cpu_count()}, "
        f"validate workers {run.worker_cores:.2f}"
    )


async def run_all() -> None:
    with tempfile.TemporaryDirectory(prefix="aedex-scale-") as tmp, EmbeddedBroker() as broker:
        tmp = os.environ.get("AEDEX_BENCH_LOGS", tmp)
        logs = Path(tmp)
        one = await one_run(broker, 1, logs)
        if one is None:
            return
        _print(one)
        two = await one_run(broker, 2, logs)
        assert two is not None
        _print(two)
    ratio = two.items_per_s / one.items_per_s
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(
        f"figure: 2 validate workers = {ratio:.2f} x 1 worker (target ≥ {TARGET_RATIO}): {verdict}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "runs": [{**asdict(r), "items_per_s": r.items_per_s, "redelivered": r.redelivered}
                         for r in (one, two)],
                "ratio": ratio,
                "target": TARGET_RATIO,
            },
            indent=2,
        )
        + "\n"
    )  # fmt: skip


def main() -> None:
    asyncio.run(run_all())


if __name__ == "__main__":
    main()
