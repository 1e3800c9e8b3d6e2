"""`aedex record`: a topic captured from the broker reads back record for record."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from service.harness.capture import record_topic
from service.harness.recording import Recording

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


async def _topic_with(bootstrap: str, records: int) -> tuple[str, list[tuple[bytes, bytes]]]:
    topic = f"record-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()
    sent = [(f"CNA:M-{n % 7}".encode(), f"<m n='{n}'/>".encode()) for n in range(records)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=[("source", b"test"), ("n", None)])
            for key, value in sent
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()
    return topic, sent


async def test_a_topic_is_captured_whole_with_keys_headers_and_partitions(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, sent = await _topic_with(kafka_bootstrap, 60)
    out = tmp_path / "stream.aedexrec"
    assert await record_topic(kafka_bootstrap, topic, out) == 60
    with out.open("rb") as file:
        opened = Recording(file)
        got = list(opened)
    assert opened.complete and opened.header["topic"] == topic
    assert sorted((r.key, r.value) for r in got) == sorted(sent)
    assert all(r.headers == (("source", b"test"), ("n", None)) for r in got)
    # Per key, in the order sent: one key is one partition, read in offset order.
    for key in {k for k, _ in sent}:
        assert [r.value for r in got if r.key == key] == [v for k, v in sent if k == key]
        assert len({r.partition for r in got if r.key == key}) == 1


async def test_a_capture_stops_at_its_count(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic, _ = await _topic_with(kafka_bootstrap, 30)
    out = tmp_path / "first.aedexrec"
    assert await record_topic(kafka_bootstrap, topic, out, count=10) == 10
    with out.open("rb") as file:
        assert len(list(Recording(file))) == 10


async def test_an_unknown_topic_is_named(kafka_bootstrap: str, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no topic 'nowhere-"):
        await record_topic(
            kafka_bootstrap, f"nowhere-{uuid.uuid4().hex[:6]}", tmp_path / "x", timeout_s=1
        )


def _aedex(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(Path(sys.executable).with_name("aedex")), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


async def test_aedex_record_writes_the_file_and_says_how_many(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, sent = await _topic_with(kafka_bootstrap, 12)
    out = tmp_path / "cli.aedexrec"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEDEX_")}
    done = _aedex(
        "record", "--topic", topic, "--out", str(out), "--bootstrap", kafka_bootstrap, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"recorded 12 records of {topic} to {out}"
    with out.open("rb") as file:
        assert sorted(r.value for r in Recording(file)) == sorted(v for _, v in sent)
    missing = _aedex("record", "--topic", topic, "--out", str(out), env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "aedex: no broker to record from: pass --bootstrap or set AEDEX_KAFKA_BOOTSTRAP"
    )
