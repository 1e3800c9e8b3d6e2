"""The embedded Tansu broker and the Kafka plumbing the stages rely on.

Each consumer-group join costs about a second even with short group timeouts,
so tests share the session broker and join as few groups as they can.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from service import kafka
from service.broker import BrokerError, EmbeddedBroker
from service.settings import Settings
from tests.kafka_fixtures import group_timeouts, unique_name

pytestmark = pytest.mark.kafka

AEDEX = shutil.which("aedex") or str(Path(sys.executable).with_name("aedex"))


def fresh_settings(partitions: int = 3) -> Settings:
    """Settings whose topics no other test touches."""
    return Settings(topic_prefix=unique_name("t"), topic_partitions=partitions)


async def partition_counts(bootstrap: str, topics: tuple[str, ...]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


async def list_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics: list[str] = await admin.list_topics()
    finally:
        await admin.close()
    return topics


async def take(
    consumer: AIOKafkaConsumer, count: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Exactly the first `count` records the consumer gets, or fail after `timeout` seconds."""
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=200, max_records=count - len(records))
        for batch in batches.values():
            records.extend(batch)
    assert len(records) == count, f"got {len(records)} of {count} records within {timeout} s"
    return records


def process_gone(pid: int) -> bool:
    """No such process, or only a zombie nobody has reaped yet (it holds no port or memory)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def accepts(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


async def test_topics_are_created_with_the_configured_partitions_and_twice_is_fine(
    kafka_bootstrap: str,
) -> None:
    settings = fresh_settings(partitions=4)  # not the default 3: the setting must be used

    await kafka.ensure_topics(settings, kafka_bootstrap)
    await kafka.ensure_topics(settings, kafka_bootstrap)  # all exist now: no error

    counts = await partition_counts(kafka_bootstrap, settings.topics.all())
    assert counts == dict.fromkeys(settings.topics.all(), 4)


def test_embedded_brokers_start_on_free_loopback_ports() -> None:
    with EmbeddedBroker() as first, EmbeddedBroker() as second:
        assert first.is_running() and second.is_running()
        assert first.port != second.port
        assert first.bootstrap == f"127.0.0.1:{first.port}"
        assert accepts(first.bootstrap) and accepts(second.bootstrap)


def test_a_port_held_by_another_process_fails_fast_with_the_broker_log() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(BrokerError) as raised:
            EmbeddedBroker(port=port).start()
    message = str(raised.value)
    assert f"port {port} is taken" in message
    assert "broker log (tail)" in message and "AddrInUse" in message
    assert time.monotonic() - started < 10  # not the whole 20 s readiness timeout


async def test_a_group_resumes_after_its_committed_offset(kafka_bootstrap: str) -> None:
    settings = fresh_settings(partitions=1)
    await kafka.ensure_topics(settings, kafka_bootstrap)
    topic, group = settings.topics.inbound, unique_name("group")
    tp = TopicPartition(topic, 0)

    producer = kafka.producer(settings, kafka_bootstrap)
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(
                topic, f"body {n}".encode(), key=b"M1", headers=[("message_id", f"M{n}".encode())]
            )
    finally:
        await producer.stop()

    first = kafka.consumer(settings, kafka_bootstrap, topic, group_id=group, **group_timeouts())
    await first.start()
    try:
        records = await take(first, 3)
        assert [r.value for r in records] == [b"body 0", b"body 1", b"body 2"]
        assert [r.headers for r in records] == [
            (("message_id", f"M{n}".encode()),) for n in range(3)
        ]
        # Only the first record is durably handled: the other two must come back.
        await first.commit({tp: records[0].offset + 1})
        assert await first.committed(tp) == records[0].offset + 1
    finally:
        await first.stop()

    second = kafka.consumer(settings, kafka_bootstrap, topic, group_id=group, **group_timeouts())
    await second.start()
    try:
        redelivered = await take(second, 2)
    finally:
        await second.stop()
    assert [r.offset for r in redelivered] == [records[1].offset, records[2].offset]
    assert [r.value for r in redelivered] == [b"body 1", b"body 2"]


async def test_records_up_to_the_largest_accepted_message_pass_through(
    kafka_bootstrap: str,
) -> None:
    # Tansu 0.6 has no record size cap of its own (51 MiB passes); the clients'
    # limits come from max_message_bytes, so the largest body the API accepts must pass.
    settings = fresh_settings(partitions=1)
    await kafka.ensure_topics(settings, kafka_bootstrap)
    topic = settings.topics.inbound
    bodies = [os.urandom(2 * 1024 * 1024), b"x" * settings.max_message_bytes]

    producer = kafka.producer(settings, kafka_bootstrap)
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(topic, body, headers=[("size", str(len(body)).encode())])
    finally:
        await producer.stop()

    consumer = kafka.consumer(
        settings, kafka_bootstrap, topic, group_id=unique_name("group"), **group_timeouts()
    )
    await consumer.start()
    try:
        records = await take(consumer, 2, timeout=60)
    finally:
        await consumer.stop()
    assert [r.value for r in records] == bodies
    assert [r.headers for r in records] == [(("size", str(len(b)).encode()),) for b in bodies]


async def test_restart_keeps_the_address_and_loses_every_topic_and_record(
    embedded_broker: EmbeddedBroker,
) -> None:
    settings = fresh_settings(partitions=1)
    bootstrap, old_pid = embedded_broker.bootstrap, embedded_broker.pid
    topic = settings.topics.inbound
    await kafka.ensure_topics(settings, bootstrap)
    producer = kafka.producer(settings, bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before the restart")
    finally:
        await producer.stop()

    await asyncio.to_thread(embedded_broker.restart)

    assert embedded_broker.bootstrap == bootstrap
    assert embedded_broker.pid != old_pid and old_pid is not None and process_gone(old_pid)
    assert topic not in await list_topics(bootstrap)
    await kafka.ensure_topics(settings, bootstrap)
    producer = kafka.producer(settings, bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"after the restart")
    finally:
        await producer.stop()
    consumer = kafka.consumer(
        settings, bootstrap, topic, group_id=unique_name("group"), **group_timeouts()
    )
    await consumer.start()
    try:
        [record] = await take(consumer, 1)
        assert record.value == b"after the restart"
        assert not await consumer.getmany(timeout_ms=300)  # nothing older behind it
    finally:
        await consumer.stop()


def test_stop_is_idempotent_and_leaves_no_process_or_log() -> None:
    broker = EmbeddedBroker()
    broker.start()
    pid, log_path, bootstrap = broker.pid, broker.log_path, broker.bootstrap
    assert pid is not None and log_path is not None and log_path.exists()
    assert not process_gone(pid)

    broker.stop()
    broker.stop()

    assert not broker.is_running() and broker.pid is None
    assert process_gone(pid)
    assert not log_path.exists()
    assert not accepts(bootstrap)


def tansu_children(parent: int) -> list[int]:
    """Processes whose parent is `parent` and whose command line names tansu."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if ppid == parent and b"tansu" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def broker_cli() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [AEDEX, "broker", "--port", "0", "--partitions", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AEDEX_TOPIC_PREFIX": "cli"},
    )
    yield process
    if process.poll() is None:  # the test failed before its SIGTERM
        process.kill()
        process.wait(10)


def read_bootstrap(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The address after `export AEDEX_KAFKA_BOOTSTRAP=` in the command's output."""
    found: list[str] = []
    done = threading.Event()

    def scan() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip().startswith("export AEDEX_KAFKA_BOOTSTRAP="):
                found.append(line.strip().split("=", 1)[1])
                break
        done.set()

    threading.Thread(target=scan, daemon=True).start()
    done.wait(timeout)
    assert found, f"no bootstrap printed; exit status {process.poll()}"
    return found[0]


async def test_aedex_broker_serves_the_topics_and_stops_cleanly_on_sigterm(
    broker_cli: subprocess.Popen[str],
) -> None:
    bootstrap = await asyncio.to_thread(read_bootstrap, broker_cli)
    [tansu] = tansu_children(broker_cli.pid)
    settings = Settings(topic_prefix="cli", topic_partitions=2)
    assert await partition_counts(bootstrap, settings.topics.all()) == dict.fromkeys(
        settings.topics.all(), 2
    )

    producer = kafka.producer(settings, bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(settings.topics.responses, b"through the CLI broker")
    finally:
        await producer.stop()
    consumer = kafka.consumer(
        settings, bootstrap, settings.topics.responses, group_id="cli", **group_timeouts()
    )
    await consumer.start()
    try:
        [record] = await take(consumer, 1)
    finally:
        await consumer.stop()
    assert record.value == b"through the CLI broker"

    broker_cli.send_signal(signal.SIGTERM)
    out, err = await asyncio.to_thread(broker_cli.communicate, timeout=30)
    assert broker_cli.returncode == 0, err
    assert "broker stopped" in out
    assert process_gone(tansu)
    assert not accepts(bootstrap)
