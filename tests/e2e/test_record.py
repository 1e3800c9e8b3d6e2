"""`aedex record`: a topic captured from the broker reads back record for record."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from service.harness.capture import Period, record_topic
from service.harness.recording import Recorded, Recording

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


async def _timed_topic(bootstrap: str, timestamps: Sequence[Sequence[int]]) -> str:
    """A topic with one partition per list of `timestamps` (ms), a record per timestamp,
    sent with it as its CreateTime: the value names the partition and the timestamp."""
    topic = f"record-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, len(timestamps), 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic, f"{p}@{ms}".encode(), key=f"k{p}".encode(), partition=p, timestamp_ms=ms
            )
            for p, stamps in enumerate(timestamps)
            for ms in stamps
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()
    return topic


def _read(path: Path) -> tuple[dict[str, object], list[Recorded]]:
    with path.open("rb") as file:
        opened = Recording(file)
        return opened.header, list(opened)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


#: An hour ago, in whole seconds: recent enough for any broker's retention.
BASE_MS = (int(time.time()) - 3600) * 1000


async def test_a_period_cuts_every_partition_at_its_timestamps(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    seconds = [[BASE_MS + n * 1000 for n in range(p, 30, 3)] for p in range(3)]
    topic = await _timed_topic(kafka_bootstrap, seconds)
    out = tmp_path / "period.aedexrec"
    # From the 10th second on, up to and including 19.5 s: records of seconds 10 to 19.
    period = Period(_at(BASE_MS + 10_000), _at(BASE_MS + 19_500))
    assert await record_topic(kafka_bootstrap, topic, out, period=period) == 10
    header, got = _read(out)
    assert (header["since"], header["until"]) == (
        _at(BASE_MS + 10_000).isoformat(),
        _at(BASE_MS + 19_500).isoformat(),
    )
    assert sorted(r.timestamp_ms for r in got) == [BASE_MS + n * 1000 for n in range(10, 20)]
    assert all(r.value == f"{r.partition}@{r.timestamp_ms}".encode() for r in got)
    # The ends are inside: a record at exactly `since` or `until` is kept.
    exact = Period(_at(BASE_MS + 10_000), _at(BASE_MS + 19_000))
    assert await record_topic(kafka_bootstrap, topic, out, period=exact) == 10
    # Without a period the header says so.
    assert await record_topic(kafka_bootstrap, topic, out, count=1) == 1
    header, _ = _read(out)
    assert (header["since"], header["until"]) == (None, None)


async def test_a_partition_with_nothing_since_contributes_nothing_and_count_still_holds(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    early = [BASE_MS + n * 1000 for n in range(5)]
    late = [BASE_MS + n * 1000 for n in range(10)]
    topic = await _timed_topic(kafka_bootstrap, [early, late, []])
    out = tmp_path / "since.aedexrec"
    since = Period(_at(BASE_MS + 5_000))
    assert await record_topic(kafka_bootstrap, topic, out, period=since) == 5
    _, got = _read(out)
    assert [(r.partition, r.timestamp_ms) for r in got] == [(1, ms) for ms in late[5:]]
    assert await record_topic(kafka_bootstrap, topic, out, period=since, count=2) == 2
    _, got = _read(out)
    assert [r.timestamp_ms for r in got] == late[5:7]
    after_all = Period(_at(BASE_MS + 60_000))
    assert await record_topic(kafka_bootstrap, topic, out, period=after_all) == 0
    header, got = _read(out)
    assert got == [] and header["since"] == _at(BASE_MS + 60_000).isoformat()


async def test_a_capture_stops_once_every_partition_has_passed_until(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic = await _timed_topic(
        kafka_bootstrap, [[BASE_MS + n * 1000 for n in range(p, 12, 2)] for p in range(2)]
    )
    out = tmp_path / "until.aedexrec"
    started = time.monotonic()
    until = Period(until=_at(BASE_MS + 5_000))
    # Every partition has a record after `until`: no wait for stragglers (idle_s) at its end.
    assert await record_topic(kafka_bootstrap, topic, out, period=until, idle_s=30) == 6
    assert time.monotonic() - started < 15
    _, got = _read(out)
    assert sorted(r.timestamp_ms for r in got) == [BASE_MS + n * 1000 for n in range(6)]


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


async def test_aedex_record_takes_the_period_as_iso_times_or_how_long_ago(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic = await _timed_topic(kafka_bootstrap, [[BASE_MS + n * 1000 for n in range(8)]])
    out = tmp_path / "cli-period.aedexrec"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEDEX_")}
    base = ["record", "--topic", topic, "--out", str(out), "--bootstrap", kafka_bootstrap]
    since, until = (
        _at(BASE_MS + 2_000),
        _at(BASE_MS + 4_000).astimezone(timezone(timedelta(hours=2))),
    )
    done = _aedex(*base, "--since", since.isoformat(), "--until", until.isoformat(), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"recorded 3 records of {topic} to {out}"
    header, got = _read(out)
    assert [r.timestamp_ms for r in got] == [BASE_MS + n * 1000 for n in (2, 3, 4)]
    assert (header["since"], header["until"]) == (
        since.isoformat(),
        _at(BASE_MS + 4_000).isoformat(),
    )
    # An hour and a half ago: before every record (sent an hour ago); 1 minute ago: after all.
    assert _aedex(*base, "--since", "90m", "--until", "1m", env=env).stdout.strip() == (
        f"recorded 8 records of {topic} to {out}"
    )
    assert _aedex(*base, "--from-beginning", "--count", "2", env=env).stdout.strip() == (
        f"recorded 2 records of {topic} to {out}"
    )
    wrong = _aedex(*base, "--since", "yesterday", env=env)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("aedex: --since 'yesterday' is not a time: give an ISO 8601")
