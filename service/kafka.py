"""Kafka clients built the one way this system needs them, and the topics they use.

Delivery guarantees live here so no stage or route configures them differently:
producers wait for every in-sync replica (`acks="all"`); consumers never
auto-commit (a stage commits offsets after its database commit, so a crash
redelivers instead of losing); both carry records as large as the largest
message the API accepts. Idempotence follows `Settings.kafka_idempotence`
(off by default): the embedded Tansu broker fails InitProducerId v0, which aiokafka sends.

Apache Kafka in production must allow large records too: raise the broker's
`message.max.bytes` (or the topics' `max.message.bytes`) above
`AEDEX_MAX_MESSAGE_BYTES`. Tansu 0.6 has no such cap (a 51 MiB record passes).

aiokafka binds its clients to the running event loop: call `producer` and
`consumer` from a coroutine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from service import kafka_decoding
from service.settings import Settings

log = structlog.get_logger(__name__)

#: Room for headers and record-batch framing on top of the largest message body.
RECORD_HEADROOM_BYTES = 1024 * 1024
#: Pause between readiness or metadata polls.
_POLL_S = 0.1
#: Longest single metadata request while polling; the overall deadline is the caller's.
_PROBE_TIMEOUT_MS = 5000


class ForeignBrokerError(RuntimeError):
    """A broker answered at the address, but not the one expected (another cluster id)."""


def producer(settings: Settings, bootstrap: str, **overrides: Any) -> AIOKafkaProducer:
    """A producer (not started) that waits for all replicas; `overrides` win over defaults."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        # A few ms of batching costs little latency and saves requests under load.
        "linger_ms": 5,
        "max_request_size": settings.max_message_bytes + RECORD_HEADROOM_BYTES,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def consumer(
    settings: Settings, bootstrap: str, *topics: str, group_id: str, **overrides: Any
) -> AIOKafkaConsumer:
    """A group consumer (not started) of `topics` that leaves every commit to its caller.

    A new group starts from the earliest offset: records published before the
    stage first ran are work too, not history to skip. A record batch that cannot be
    decoded arrives as one marked record (service.kafka_decoding), never as an error
    that holds the partition.
    """
    fetch_bytes = settings.max_message_bytes + RECORD_HEADROOM_BYTES
    kafka_decoding.install(max_decompressed_bytes=fetch_bytes)
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_bytes": fetch_bytes,
        "max_partition_fetch_bytes": fetch_bytes,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


async def ensure_topics(
    settings: Settings,
    bootstrap: str,
    *,
    replication_factor: int = 1,
    timeout: float = 20.0,
) -> None:
    """Create every pipeline topic that is missing, then wait until metadata lists them all.

    Safe to call on every start: topics that exist already are left as they are
    (a different partition count is logged, not changed: repartitioning moves
    keys between partitions and is an operator's decision).
    """
    names = settings.topics.all()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            response = await admin.create_topics(
                [NewTopic(name, settings.topic_partitions, replication_factor) for name in names]
            )
            # v0 rows are (topic, code); later versions add the broker's message.
            for row in response.topic_errors:
                topic, code = row[0], row[1]
                if code not in (0, TopicAlreadyExistsError.errno):
                    detail = row[2] if len(row) > 2 else None
                    raise for_code(code)(f"cannot create topic {topic}: {detail or code}")
            partitions = await _wait_for_topics(admin, names)
    except TimeoutError:
        raise TimeoutError(
            f"topics {', '.join(names)} not ready at {bootstrap} within {timeout:g} s"
        ) from None
    finally:
        await admin.close()
    for topic, count in partitions.items():
        if count != settings.topic_partitions:
            log.warning(
                "topic has another partition count",
                topic=topic,
                partitions=count,
                configured=settings.topic_partitions,
            )


async def _wait_for_topics(admin: AIOKafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    """Poll metadata until every topic has partitions; return each topic's partition count."""
    wanted = list(names)
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(wanted)
        found = {
            str(t["topic"]): len(t["partitions"])
            for t in described
            if t["error_code"] == 0 and t["partitions"]
        }
        if all(name in found for name in wanted):
            return found
        await asyncio.sleep(_POLL_S)


async def wait_ready(bootstrap: str, timeout: float, *, cluster_id: str | None = None) -> None:
    """Return once a broker at `bootstrap` answers a metadata request.

    Raises `TimeoutError` (naming the last failure) when none does within
    `timeout` seconds, and `ForeignBrokerError` at once when `cluster_id` is
    given and the broker that answers belongs to another cluster: a port we
    picked may have been taken by someone else's broker.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_error: BaseException | None = None
    while (remaining := deadline - loop.time()) > 0:
        try:
            async with asyncio.timeout(remaining):
                found = await _cluster_id(bootstrap, min(remaining * 1000, _PROBE_TIMEOUT_MS))
        except (KafkaError, OSError, TimeoutError) as error:
            last_error = error
        else:
            if cluster_id is not None and found != cluster_id:
                raise ForeignBrokerError(
                    f"the broker at {bootstrap} has cluster id {found!r}, not {cluster_id!r}"
                )
            return
        await asyncio.sleep(min(_POLL_S, max(0.0, deadline - loop.time())))
    raise TimeoutError(
        f"no Kafka broker answered at {bootstrap} within {timeout:g} s (last error: {last_error!r})"
    )


async def _cluster_id(bootstrap: str, request_timeout_ms: float) -> str | None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=max(1, int(request_timeout_ms))
    )
    try:
        await admin.start()
        cluster: dict[str, Any] = await admin.describe_cluster()
    finally:
        await admin.close()
    found = cluster.get("cluster_id")
    return None if found is None else str(found)
