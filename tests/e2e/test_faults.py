"""The fault table, measured: each test injects one fault into the running pipeline under
traffic and records its row (tests/e2e/fault_table.py) — items in flight at the fault,
items lost, rows doubled, time to recover — then asserts that nothing is lost or doubled.

The pipeline runs as `aedex run` runs it: relay and stages as worker processes
under the Supervisor, the API as an `aedex api` process on a free port (real
HTTP), an embedded broker and a database of the test's own. Traffic comes from
several clients at a steady rate; an upload that gets no 202 is sent again, as
a well-behaved sender does. Recovery is automatic: after the fault ends the
test only watches. Rows 1 (a stage worker killed) and 3 (the broker killed)
are measured by tests/e2e/test_no_loss.py.
"""

from __future__ import annotations

import asyncio
import errno
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, pool, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.post.itmatt import inspect_envelope
from messages.xml import XmlLimits
from service import kafka
from service.broker import EmbeddedBroker
from service.db.migrate import upgrade
from service.db.models import InboxMessage
from service.stages.runner import header
from tests.e2e.conftest import FaultRows
from tests.e2e.fault_harness import (
    HealthProbe,
    Traffic,
    Upload,
    all_settled,
    assert_nothing_lost_or_doubled,
    count_loss_and_doubles,
    in_flight,
    make_uploads,
    recover_and_count,
    request_head,
    send_and_drop,
    wait_recovered,
)
from tests.e2e.fault_table import FaultRow
from tests.e2e.pipeline import Pipeline, free_port, supervised_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(600)]

#: Items per test: enough for the fault to land mid-stream, few enough for a quick table.
ITEMS = 600
#: Small messages, so a fault finds many of them in every state.
ITEMS_PER_MESSAGE = 10


def _pipeline(
    url: str, broker: EmbeddedBroker, tmp_path: Path
) -> AbstractAsyncContextManager[Pipeline]:
    """Relay, stages and the API as processes; the relay re-publishes unsettled messages after 5 s."""
    return supervised_pipeline(url, broker, api_log=tmp_path / "api.log", reconcile_after_s=5)


async def _traffic(
    pipeline: Pipeline,
    *,
    seed: int,
    rate: float,
    items: int = ITEMS,
    items_per_message: int = ITEMS_PER_MESSAGE,
    upload_s: float = 0.0,
) -> Traffic:
    uploads = make_uploads(items, seed=seed, items_per_message=items_per_message)
    traffic = Traffic(pipeline, uploads, rate=rate, upload_s=upload_s)
    await traffic.start()
    return traffic


def _restarts(pipeline: Pipeline) -> str:
    """Workers that died and were restarted by the Supervisor, by stage ("0" when none)."""
    assert pipeline.supervisor is not None
    died = {stage: n for stage, n in pipeline.supervisor.restarts.items() if n}
    return ", ".join(f"{stage}: {n}" for stage, n in died.items()) or "0"


def _api_errors(pipeline: Pipeline) -> int:
    """Unhandled errors the API logged (each one a traceback)."""
    assert pipeline.api is not None
    return pipeline.api.log_path.read_text(errors="replace").count("unhandled error")


async def _read_topic(
    bootstrap: str, topic: str, partitions: int, *, want: int, wait_s: float
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` from the start, once `want` are there (or after `wait_s`)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + wait_s
        while len(found) < want and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            found += [record for part in batches.values() for record in part]
        return found
    finally:
        await consumer.stop()


async def _note_outage_side_effects(row: FaultRow, pipeline: Pipeline) -> int:
    """Note what an outage must not cause (API errors, worker restarts, dead letters);
    returns the dead letters, which must be none: an outage is no record's fault."""
    row.notes["API unhandled errors"] = _api_errors(pipeline)
    row.notes["workers restarted"] = _restarts(pipeline)
    dead = len(await _dead_letters(pipeline))
    row.notes["dead-lettered"] = dead
    return dead


async def _dead_letters(pipeline: Pipeline, *, want: int = 0) -> list[ConsumerRecord[bytes, bytes]]:
    """Records on aed.deadletter; waits for `want` of them, else reads what is there."""
    settings = pipeline.settings
    return await _read_topic(
        settings.kafka_bootstrap, settings.topics.deadletter, settings.topic_partitions,
        want=want, wait_s=30.0 if want else 2.0,
    )  # fmt: skip


# --- 2. the API process killed mid-upload ------------------------------------------------------


async def test_the_api_killed_mid_upload_loses_and_doubles_nothing(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker, tmp_path: Path, fault_rows: FaultRows
) -> None:
    row = fault_rows.open("2", "kill -9 of the API process mid-upload, started again 1 s later", "SQLite")  # fmt: skip
    async with _pipeline(sqlite_migrated_url, embedded_broker, tmp_path) as pipeline:
        api = pipeline.api
        assert api is not None
        # Each upload takes 0.4 s on the wire: the kill finds some half-sent.
        traffic = await _traffic(pipeline, seed=32, rate=15, upload_s=0.4)
        await traffic.reach(0.3)
        deadline = time.monotonic() + 30
        while traffic.sending < 2:
            assert time.monotonic() < deadline, "no upload on the wire to kill the API under"
            await asyncio.sleep(0.001)
        row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
        on_the_wire = traffic.sending
        api.kill()
        await asyncio.sleep(1.0)
        api.start()  # what the orchestrator does; the test's last act
        restarted = time.monotonic()
        await recover_and_count(row, pipeline.sessions, traffic, fault_ended=restarted)
        row.notes["uploads on the wire at the kill"] = on_the_wire
        back = min(at for at in traffic.ledger.accepted_at.values() if at > restarted)
        row.notes["first 202 after the restart (s)"] = round(back - restarted, 1)
    assert on_the_wire > 0
    assert_nothing_lost_or_doubled(row)


# --- 4. SQLite write lock held by another connection --------------------------------------------

LOCK_S = 10.0


async def test_a_sqlite_write_lock_held_for_10s_loses_and_doubles_nothing(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker, tmp_path: Path, fault_rows: FaultRows
) -> None:
    row = fault_rows.open("4", f"SQLite write lock held {LOCK_S:.0f} s by another connection (BEGIN EXCLUSIVE)", "SQLite")  # fmt: skip
    path = make_url(sqlite_migrated_url).database
    assert path is not None
    async with _pipeline(sqlite_migrated_url, embedded_broker, tmp_path) as pipeline:
        traffic = await _traffic(pipeline, seed=34, rate=8)
        await traffic.reach(0.25)
        row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
        lock = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            await asyncio.to_thread(lock.execute, "BEGIN EXCLUSIVE")
            locked = time.monotonic()
            await asyncio.sleep(1.0)
            accepted_then = len(traffic.ledger.items)
            await asyncio.sleep(LOCK_S - (time.monotonic() - locked))
            accepted_while_locked = len(traffic.ledger.items) - accepted_then
            await asyncio.to_thread(lock.execute, "ROLLBACK")
            released = time.monotonic()
        finally:
            lock.close()
        await recover_and_count(row, pipeline.sessions, traffic, fault_ended=released)
        row.notes["lock held (s)"] = round(released - locked, 1)
        row.notes["slowest 202 (s)"] = round(traffic.ledger.slowest_202_s, 1)
        dead = await _note_outage_side_effects(row, pipeline)
    # The lock held every writer off: nothing could be stored while it lasted.
    assert accepted_while_locked == 0
    assert dead == 0, f"{dead} valid records dead-lettered: a locked database is not poison"
    assert_nothing_lost_or_doubled(row)


# --- 5. PostgreSQL stopped for 30 s -------------------------------------------------------------

PG_DOWN_S = 30.0


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: initdb into a temporary folder, a free port.

    The shared server at 127.0.0.1:5432 serves other tests and is never stopped.
    initdb and postgres refuse to run as root: as root they run as `postgres`.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="aedex-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @staticmethod
    def binaries() -> Path | None:
        """The newest /usr/lib/postgresql/N/bin holding initdb and pg_ctl, if any."""
        found = [
            tool.parent
            for tool in Path("/usr/lib/postgresql").glob("*/bin/initdb")
            if (tool.parent / "pg_ctl").exists()
        ]
        found.sort(
            key=lambda bindir: int(bindir.parent.name) if bindir.parent.name.isdigit() else 0
        )
        return found[-1] if found else None

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        if self._as_owner:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        log = str(self.root / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        argv = [*self._as_owner, str(self.bindir / tool), *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}")


@pytest_asyncio.fixture
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    """A migrated database `aedex` on a private cluster, removed afterwards."""
    bindir = PrivatePostgres.binaries()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run initdb as")
    cluster = PrivatePostgres(bindir)
    try:
        await asyncio.to_thread(cluster.init)
        await asyncio.to_thread(cluster.start)
        admin = create_async_engine(
            cluster.url("postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        async with admin.connect() as connection:
            await connection.execute(text("CREATE DATABASE aedex"))
        await admin.dispose()
        await upgrade(cluster.url("aedex"))
        yield cluster
    finally:
        await asyncio.to_thread(cluster.destroy)


@pytest.mark.pg
async def test_postgresql_stopped_for_30s_loses_and_doubles_nothing(
    private_postgres: PrivatePostgres,
    embedded_broker: EmbeddedBroker,
    tmp_path: Path,
    fault_rows: FaultRows,
) -> None:
    row = fault_rows.open("5", f"PostgreSQL stopped {PG_DOWN_S:.0f} s (pg_ctl stop -m fast), then started", "PostgreSQL")  # fmt: skip
    url = private_postgres.url("aedex")
    async with _pipeline(url, embedded_broker, tmp_path) as pipeline:
        traffic = await _traffic(pipeline, seed=35, rate=4)
        await traffic.reach(0.15)
        row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
        await asyncio.to_thread(private_postgres.stop, "fast")
        stopped = time.monotonic()
        await asyncio.sleep(1.0)  # answers already on their way arrive
        accepted_then = len(traffic.ledger.items)
        await asyncio.sleep(PG_DOWN_S - 2.0)
        accepted_while_down = len(traffic.ledger.items) - accepted_then
        await asyncio.sleep(PG_DOWN_S - (time.monotonic() - stopped))
        await asyncio.to_thread(private_postgres.start)
        started = time.monotonic()
        await recover_and_count(row, pipeline.sessions, traffic, fault_ended=started)
        row.notes["down (s)"] = round(started - stopped, 1)
        dead = await _note_outage_side_effects(row, pipeline)
    # Accepting needs the database: no 202 can come while it is down.
    assert accepted_while_down == 0
    assert dead == 0, f"{dead} valid records dead-lettered: a database outage is not poison"
    assert_nothing_lost_or_doubled(row)


# --- 6. disk full under the SQLite file --------------------------------------------------------

DISK_MB = 64
FULL_S = 8.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MB MiB mounted for the test, a real file system that can fill up."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    argv = ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mountpoint)]
    mounted = subprocess.run(argv, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        # PRAGMA max_page_count cannot stand in for it: the limit is per connection, so a
        # separate connection setting it leaves the service's own connections unlimited.
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the file system is full (ENOSPC); returns it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as file:
        for chunk in (b"\0" * (1 << 20), b"\0" * 4096):
            try:
                while file.write(chunk):
                    pass
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    return filler


async def test_the_disk_under_sqlite_full_for_8s_loses_and_doubles_nothing(
    small_disk: Path,
    _sqlite_template: Path,
    embedded_broker: EmbeddedBroker,
    tmp_path: Path,
    fault_rows: FaultRows,
) -> None:
    row = fault_rows.open("6", f"disk full under the SQLite file for {FULL_S:.0f} s, then freed", "SQLite")  # fmt: skip
    row.notes["method"] = f"real full file system (tmpfs of {DISK_MB} MiB filled to ENOSPC)"
    database = small_disk / "aedex.db"
    shutil.copyfile(_sqlite_template, database)
    url = f"sqlite+aiosqlite:///{database}"
    async with _pipeline(url, embedded_broker, tmp_path) as pipeline:
        traffic = await _traffic(pipeline, seed=36, rate=8)
        await traffic.reach(0.25)
        row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
        filler = await asyncio.to_thread(_fill, small_disk)
        full = time.monotonic()
        free_when_full = shutil.disk_usage(small_disk).free
        accepted_then = len(traffic.ledger.items)
        await asyncio.sleep(FULL_S)
        accepted_while_full = len(traffic.ledger.items) - accepted_then
        filler.unlink()  # "disk freed"
        freed = time.monotonic()
        await recover_and_count(row, pipeline.sessions, traffic, fault_ended=freed)
        row.notes["full (s)"] = round(freed - full, 1)
        row.notes["messages accepted while full"] = accepted_while_full
        dead = await _note_outage_side_effects(row, pipeline)
    assert free_when_full < 1 << 20, f"the disk was not full: {free_when_full:,} bytes free"
    assert dead == 0, f"{dead} valid records dead-lettered: a full disk is not poison"
    assert_nothing_lost_or_doubled(row)


# --- 7. poison records on aed.inbound ---------------------------------------------------------

POISON = {
    "not-xml": b"\x00\xff this is not XML at all",
    "unsafe-xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    "wrong-root": b"<Note><To>customs</To></Note>",
    "truncated": b'<?xml version="1.0" encoding="UTF-8"?><ITMATT xmlns="urn:upu:itmatt"><Header>',
}


async def test_poison_records_on_inbound_go_to_deadletter_and_block_nothing(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker, tmp_path: Path, fault_rows: FaultRows
) -> None:
    row = fault_rows.open("7", "poison records produced straight to aed.inbound mid-stream", "SQLite")  # fmt: skip
    async with _pipeline(sqlite_migrated_url, embedded_broker, tmp_path) as pipeline:
        settings = pipeline.settings
        traffic = await _traffic(pipeline, seed=37, rate=15)
        await traffic.reach(0.33)
        row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
        producer = kafka.producer(settings, embedded_broker.bootstrap)
        await producer.start()
        try:
            for partition in range(settings.topic_partitions):
                for name, value in POISON.items():
                    await producer.send_and_wait(
                        settings.topics.inbound, value, key=f"poison:{name}".encode(),
                        partition=partition,
                    )  # fmt: skip
        finally:
            await producer.stop()
        written = time.monotonic()
        await recover_and_count(row, pipeline.sessions, traffic, fault_ended=written)
        after = len(traffic.ledger.items) - len(traffic.ledger.accepted(before=written))
        poison = len(POISON) * settings.topic_partitions
        records = await _dead_letters(pipeline, want=poison)
        dead = [r for r in records if (r.key or b"").startswith(b"poison:")]
        reasons = Counter(str(header(r, "error")).split(":")[0] for r in dead)
        stages = {header(r, "stage") for r in dead}
        kafka_rows = await pipeline.count(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.source == "KAFKA")
        )
        row.notes["poison records"] = f"{poison} ({', '.join(POISON)} on each partition)"
        row.notes["dead-lettered"] = f"{len(dead)} ({', '.join(f'{k}: {n}' for k, n in reasons.items())})"  # fmt: skip
        row.notes["messages accepted after the poison"] = after
    assert len(dead) == poison, f"{len(dead)} of {poison} poison records on the dead-letter topic"
    assert len(records) == poison, "a valid record went to the dead-letter topic"
    assert stages == {"validate"}
    assert kafka_rows == 0, "a poison record was stored in the inbox"
    assert after > 0, "the poison came after the traffic"
    assert_nothing_lost_or_doubled(row)


# --- 8. uploads aborted half-sent --------------------------------------------------------------

ABORTS = 200
ABORTING_AT_ONCE = 10


async def _abort_upload(port: int, key: str, upload: Upload) -> None:
    """Headers promising the whole body, half of it, then the connection closed."""
    head = request_head(upload.route, key=key, media=upload.media, length=len(upload.data))
    # After 50 ms the API is reading the body.
    await send_and_drop(
        port, head + upload.data[: len(upload.data) // 2], after_s=0.05, reset=False
    )


async def test_uploads_aborted_half_sent_do_not_stall_the_api(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker, tmp_path: Path, fault_rows: FaultRows
) -> None:
    row = fault_rows.open("8", f"{ABORTS} uploads aborted half-sent while traffic flows", "SQLite")  # fmt: skip
    async with _pipeline(sqlite_migrated_url, embedded_broker, tmp_path) as pipeline:
        api = pipeline.api
        assert api is not None
        probe = HealthProbe(api.url)
        probe.start()
        try:
            traffic = await _traffic(pipeline, seed=38, rate=10)
            await traffic.reach(0.15)
            row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
            victim = max((u for u in traffic.uploads if u.route == "/v1/messages"), key=lambda u: len(u.data))  # fmt: skip
            key = await pipeline.key(victim.operator)
            slots = asyncio.Semaphore(ABORTING_AT_ONCE)

            async def abort() -> None:
                async with slots:
                    await _abort_upload(api.port, key, victim)

            began, probe.phase = time.monotonic(), "during"
            await asyncio.gather(*(abort() for _ in range(ABORTS)))
            ended, probe.phase = time.monotonic(), "after"
            row.notes["aborting (s)"] = round(ended - began, 1)
            await recover_and_count(row, pipeline.sessions, traffic, fault_ended=ended)
        finally:
            probe.stop()
            # Also when the traffic failed: how the API answered is the point of the row.
            for phase, worst in probe.worst_s.items():
                row.notes[f"worst /healthz {phase} the aborts (ms)"] = round(worst * 1000, 1)
            row.notes["/healthz probes"] = probe.probes
            if probe.failures:
                row.notes["/healthz failures"] = dict(probe.failures)
            row.notes["API unhandled errors"] = _api_errors(pipeline)
        alive = api.alive()
    assert alive, "the API process died"
    assert not probe.failures, f"/healthz failed: {dict(probe.failures)}"
    probe.assert_answers_quickly()
    assert_nothing_lost_or_doubled(row)


# --- 9. a rebalance with two validate workers --------------------------------------------------


class GroupWatch:
    """Polls a consumer group's members (DescribeGroups) every 0.1 s; each change of the
    member set is a rebalance seen. A rebalance shorter than the poll can be missed."""

    def __init__(self, bootstrap: str, group: str) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.changes = 0
        self.members: frozenset[str] = frozenset()
        self.state = ""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def until_members(self, count: int, timeout: float = 60.0) -> None:
        """Until the group is Stable with `count` members (the rebalance is complete)."""
        deadline = time.monotonic() + timeout
        while len(self.members) != count or self.state != "Stable":
            assert time.monotonic() < deadline, f"the group never had {count} members"
            await asyncio.sleep(0.05)

    async def _run(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        seen = False
        try:
            while True:
                try:
                    [described] = await admin.describe_consumer_groups([self.group])
                    [(_, _, state, _, _, rows)] = described.groups
                except Exception:  # noqa: BLE001 - a missed poll, not a failure
                    await asyncio.sleep(0.1)
                    continue
                now = frozenset(member[0] for member in rows)
                if seen and now != self.members:
                    self.changes += 1
                self.members, self.state, seen = now, state, True
                await asyncio.sleep(0.1)
        finally:
            await admin.close()


#: Messages put straight on each partition of aed.inbound before the second worker starts.
BURST_PER_PARTITION = 3
#: Enough for the first worker to fetch them and be blocked writing them.
BATCH_TAKEN_S = 1.0


def _burst(traffic: Traffic, partitions: int) -> list[tuple[int, bytes, bytes]]:
    """(partition, key, XML) of generated messages whose ids the API traffic does not use."""
    limits = XmlLimits()
    taken = {inspect_envelope(u.data, limits).message_id for u in traffic.uploads if u.route == "/v1/messages"}  # fmt: skip
    burst: list[tuple[int, bytes, bytes]] = []
    for upload in make_uploads(200, seed=139, items_per_message=ITEMS_PER_MESSAGE):
        if upload.route != "/v1/messages":
            continue
        envelope = inspect_envelope(upload.data, limits)
        if envelope.message_id not in taken:
            key = f"{envelope.sender_operator}:{envelope.message_id}".encode()
            burst.append((len(burst) % partitions, key, upload.data))
    return burst[: BURST_PER_PARTITION * partitions]


async def test_a_rebalance_between_two_validate_workers_loses_and_doubles_nothing(
    sqlite_migrated_url: str, embedded_broker: EmbeddedBroker, tmp_path: Path, fault_rows: FaultRows
) -> None:
    # A partition moves away from a worker mid-batch only if the whole rebalance fits in
    # that batch while the worker's event loop is free: a batch waiting on its database
    # writes, here behind another connection's write lock held until the group has two
    # members, the way a long transaction elsewhere makes a batch wait in production.
    row = fault_rows.open("9", "rebalance: a 2nd validate worker joins mid-stream while the 1st has a batch in hand (its writes wait on another connection's lock); later the 2nd is killed (kill -9)", "SQLite")  # fmt: skip
    path = make_url(sqlite_migrated_url).database
    assert path is not None
    async with _pipeline(sqlite_migrated_url, embedded_broker, tmp_path) as pipeline:
        supervisor = pipeline.supervisor
        assert supervisor is not None
        settings = pipeline.settings
        watch = GroupWatch(embedded_broker.bootstrap, f"{settings.topic_prefix}-validate")
        watch.start()
        await watch.until_members(1)
        traffic = await _traffic(pipeline, seed=39, rate=10)
        burst = _burst(traffic, settings.topic_partitions)
        await traffic.reach(0.2)
        row.in_flight = await in_flight(pipeline.sessions, traffic.ledger)
        producer = kafka.producer(settings, embedded_broker.bootstrap)
        lock = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        await producer.start()
        second: subprocess.Popen[bytes] | None = None
        try:
            await asyncio.to_thread(lock.execute, "BEGIN EXCLUSIVE")
            locked = time.monotonic()
            for partition, key, value in burst:
                await producer.send(settings.topics.inbound, value, key=key, partition=partition)
            await producer.flush()
            await asyncio.sleep(BATCH_TAKEN_S)  # the first worker has them in hand, blocked
            second = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "service.cli.main", "worker", "--stage", "validate"],
                env=supervisor.env,
            )
            await watch.until_members(2)
            await asyncio.to_thread(lock.execute, "ROLLBACK")
            held = time.monotonic() - locked
            await traffic.reach(0.7)
            second_status = second.poll()
            os.kill(second.pid, signal.SIGKILL)
        finally:
            lock.close()
            await producer.stop()
            if second is not None:
                second.kill()
                second.wait()
        killed = time.monotonic()
        before_end = traffic.ledger.accepted(before=killed)

        async def burst_stored() -> dict[uuid.UUID, int]:
            """The burst's messages the validate stage has stored: inbox id → items."""
            statement = select(InboxMessage.id, InboxMessage.item_count)
            async with pipeline.sessions() as session:
                found = await session.execute(statement.where(InboxMessage.source == "KAFKA"))
                return {inbox_id: int(items) for inbox_id, items in found.all()}

        async def recovered() -> bool:
            stored = await burst_stored()
            return len(stored) == len(burst) and await all_settled(
                pipeline.sessions, before_end | stored.keys()
            )

        row.recovery_s = await wait_recovered(recovered, since=killed)  # traffic goes on
        await traffic.finish()
        stored = await burst_stored()
        for inbox_id, items in stored.items():  # accepted by the validate stage
            traffic.ledger.items[inbox_id] = items
            traffic.ledger.accepted_at[inbox_id] = locked
        await count_loss_and_doubles(row, pipeline.sessions, traffic.ledger, since=killed)
        await watch.stop()
        crashed = supervisor.restarts["validate"]
        row.notes["messages put on aed.inbound before the 2nd started"] = len(burst)
        row.notes["write lock held (s)"] = round(held, 1)
        row.notes["rebalances seen"] = watch.changes
        row.notes["supervised validate worker died and restarted"] = crashed
        row.notes["second worker alive until killed"] = second_status is None
    assert len(stored) == len(burst), (
        f"{len(burst) - len(stored)} messages of the burst never stored"
    )
    assert second_status is None, (
        f"the second validate worker exited ({second_status}) before the kill"
    )
    assert crashed == 0, f"the supervised validate worker died {crashed} times in the rebalances"
    assert_nothing_lost_or_doubled(row)
