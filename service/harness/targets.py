"""Where a replay sends its records and where it reads the answers: Kafka or HTTP.

Kafka: records go to the inbound topic as a producer outside aedex would send
them (the validate stage takes such a record into the inbox as an upload); answers
are read from the responses topic, from the end it had before the first send.
HTTP: each message is POSTed with its own operator's key, as the carrier did;
answers are long-polled from GET /v1/responses per operator. Both keep only the
answers to messages this replay sent.

Keys are held here and sent in the Authorization header only; no message, log line
or error of this module contains one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from service.harness.expect import Answer, answers_from_cusrsp
from service.harness.replay import Outgoing, ReplayError, Sent

#: Backoff between attempts of one send: doubles from the first to the cap.
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.2, 5.0
#: Answers to these statuses are what a restart or an overload looks like: send again.
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
#: GET /v1/responses long-poll wait and page size.
POLL_WAIT_S, POLL_PAGE = 2.0, 1000

OnAnswer = Callable[[Answer], None]


def backoff(attempt: int) -> float:
    """Capped exponential backoff with jitter, so restarted targets are not stampeded."""
    capped = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2.0 ** min(attempt, 16))
    return capped * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


@dataclass
class KafkaTarget:
    bootstrap: str
    topic: str
    responses_topic: str
    outage_s: float = 120.0
    retries: int = 0
    #: Message ids of the stream (set before the first send: an instance that has
    #: answered them already may answer before this replay's send is acknowledged).
    sent_ids: set[str] = field(default_factory=set)
    _producer: AIOKafkaProducer | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        connect_s = max(1.0, min(self.outage_s, 15.0))
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, linger_ms=5, max_request_size=64 * 1024 * 1024,
            enable_idempotence=False, request_timeout_ms=15_000,
        )  # fmt: skip
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            fetch_max_wait_ms=100, max_partition_fetch_bytes=16 * 1024 * 1024,
        )  # fmt: skip
        try:
            await asyncio.wait_for(self._producer.start(), connect_s)
            await asyncio.wait_for(self._consumer.start(), connect_s)
            partitions = await self._partitions(self.responses_topic, connect_s)
        except (KafkaError, TimeoutError, OSError) as error:
            await self.stop()
            raise ReplayError(f"no Kafka broker answers at {self.bootstrap}: {error}") from None
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:  # fix the start now, before anything is sent
            await self._consumer.position(partition)

    async def _partitions(self, topic: str, within_s: float) -> list[TopicPartition]:
        assert self._consumer is not None
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if topic in await self._consumer.topics():
                found = self._consumer.partitions_for_topic(topic) or set()
                if found:
                    return [TopicPartition(topic, p) for p in sorted(found)]
            await asyncio.sleep(0.2)
        raise ReplayError(
            f"the broker at {self.bootstrap} has no topic {topic!r} (is aedex running?)"
        )

    async def send(self, record: Outgoing) -> Sent:
        assert self._producer is not None
        deadline = time.monotonic() + self.outage_s
        attempt = 0
        while True:
            try:
                future = await self._producer.send(
                    self.topic, record.value, key=record.key, headers=list(record.headers)
                )
                await future
                return Sent("acknowledged")
            except KafkaError as error:
                if time.monotonic() > deadline:
                    return Sent("error", type(error).__name__)
                self.retries += 1
                await asyncio.sleep(backoff(attempt))
                attempt += 1

    async def collect(self, on_answer: OnAnswer) -> None:
        """Answers to this replay's messages, until cancelled."""
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=2000)
            except KafkaError:
                await asyncio.sleep(1.0)
                continue
            for records in batches.values():
                for record in records:
                    for found in _answers(record.value or b""):
                        if found.in_reply_to in self.sent_ids:
                            on_answer(found)

    async def stop(self) -> None:
        for client in (self._producer, self._consumer):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.stop()


@dataclass
class HttpTarget:
    url: str
    #: Operator code → API key; "*" is the key for every operator without one of its own.
    keys: dict[str, str]
    window: int = 16
    outage_s: float = 120.0
    retries: int = 0
    #: Message ids of the stream (set before the first send: an instance that has
    #: answered them already may answer before this replay's send is acknowledged).
    sent_ids: set[str] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:  # never the keys
        return f"HttpTarget(url={self.url!r}, operators={sorted(self.keys)})"

    def key_for(self, operator: str | None) -> str | None:
        if operator is not None and operator in self.keys:
            return self.keys[operator]
        return self.keys.get("*")

    async def start(self) -> None:
        """Ready once GET /healthz answers 200; a target that does not answer within the
        outage budget (at most 15 s) is named, before anything is sent."""
        connect_s = max(1.0, min(self.outage_s, 15.0))
        self._client = httpx.AsyncClient(
            base_url=self.url, timeout=httpx.Timeout(60.0, connect=5.0),
            limits=httpx.Limits(max_connections=self.window + len(self.keys) + 2),
        )  # fmt: skip
        deadline = time.monotonic() + connect_s
        while True:
            try:
                answer = await self._client.get("/healthz")
                if answer.status_code == 200:
                    return
                problem = f"GET /healthz answered {answer.status_code}"
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                await self.stop()
                raise ReplayError(f"no aedex API answers at {self.url} ({problem})")
            await asyncio.sleep(0.5)

    async def send(self, record: Outgoing) -> Sent:
        assert self._client is not None
        key = self.key_for(record.operator)
        if key is None:
            return Sent("error", f"NO_KEY for {record.operator or 'an unreadable message'}")
        headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {key}"}
        deadline = time.monotonic() + self.outage_s
        attempt = 0
        while True:
            wait: float | None = None
            try:
                answer = await self._client.post(
                    "/v1/messages", content=record.value, headers=headers
                )
            except httpx.TransportError as error:
                problem = type(error).__name__
            else:
                if answer.status_code == 401:
                    raise ReplayError(
                        f"the API refused the key of operator {record.operator} (401)"
                    )
                if answer.status_code not in RETRIED_STATUSES:
                    return _outcome(answer)
                problem = f"HTTP {answer.status_code}"
                wait = _retry_after(answer)
            if time.monotonic() > deadline:
                return Sent("error", problem)
            self.retries += 1
            await asyncio.sleep(wait if wait is not None else backoff(attempt))
            attempt += 1

    async def collect(self, on_answer: OnAnswer) -> None:
        """Answers to this replay's messages, until cancelled: one long poll per key (the
        answers route gives each key its own operator's answers; `--key` is one of them)."""
        keys = dict.fromkeys(self.keys.values())
        await asyncio.gather(*(self._poll(key, on_answer) for key in keys))

    async def _poll(self, key: str, on_answer: OnAnswer) -> None:
        assert self._client is not None
        headers = {"Authorization": f"Bearer {key}"}
        after = 0
        while True:
            try:
                page = await self._client.get(
                    "/v1/responses", headers=headers,
                    params={"after": after, "wait": POLL_WAIT_S, "limit": POLL_PAGE},
                )  # fmt: skip
            except httpx.TransportError:
                await asyncio.sleep(1.0)  # the API restarts: poll on from the same cursor
                continue
            if page.status_code != 200:
                await asyncio.sleep(1.0)
                continue
            body = page.json()
            for row in body["responses"]:
                if row["in_reply_to"] in self.sent_ids:
                    for found in _answers(row["cusrsp"].encode()):
                        on_answer(found)
            after = body["next"]

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _outcome(answer: httpx.Response) -> Sent:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 202:
        duplicate = isinstance(body, dict) and body.get("status") == "DUPLICATE_MESSAGE"
        return Sent("duplicate" if duplicate else "acknowledged")
    code = body.get("error") if isinstance(body, dict) else None
    return Sent("refused", str(code or f"HTTP {answer.status_code}"))


def _retry_after(answer: httpx.Response) -> float | None:
    try:
        return min(BACKOFF_CAP_S * 6, max(0.0, float(answer.headers.get("Retry-After", ""))))
    except ValueError:
        return None


def _answers(xml: bytes) -> list[Answer]:
    try:
        return answers_from_cusrsp(xml)
    except Exception:  # noqa: BLE001 - a record on the topic that is not our CUSRSP
        return []
