"""Replaying a recording into aedex (`aedex replay`): paced, re-timed, ordered per key.

The recording is read twice: once for its size, time span and operators (so pace
and re-timing are fixed before the first send and a missing key is named before
anything is sent), then record by record as it is sent, so a long stream is never
held in memory.

Per key, records are sent in recorded order: a record waits until the previous one
with its key is acknowledged (an item's replacement must not overtake its
original). Across keys, up to `window` records are in flight. A send that fails for
a reason a restart explains (connection refused or cut, 502/503/504, 429) is sent
again with capped backoff, for at most `outage_s`: a target restarted mid-stream is
waited for, and a message it stored before a cut answer is absorbed on resend by
the idempotent intake (DUPLICATE_MESSAGE), never stored twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.post.itmatt import inspect_envelope
from messages.xml import XmlLimits
from service.harness.recording import Recorded, Recording
from service.harness.retime import shift_times, stream_offset

#: Headers that name rows of the recorded instance: a replayed record must not carry them.
INSTANCE_HEADERS = frozenset({"inbox-id", "received-at", "item-id"})
#: Envelopes are read only for their header; no message of the pipeline is larger.
_LIMITS = XmlLimits(max_bytes=64 * 1024 * 1024)


class ReplayError(RuntimeError):
    """The replay cannot go on (the target is unreachable, a key is refused)."""


@dataclass(frozen=True, slots=True)
class Pace:
    """When each record is due: the recorded intervals divided by `speedup`, or `rate`
    records a second, or (both None) as fast as the window allows."""

    speedup: float | None = 1.0
    rate: float | None = None

    def due_s(self, index: int, timestamp_ms: int, first_ms: int) -> float:
        """Seconds after the start at which record `index` (0-based) is due."""
        if self.rate is not None:
            return index / self.rate
        if self.speedup is not None:
            return max(0.0, (timestamp_ms - first_ms) / 1000 / self.speedup)
        return 0.0

    def describe(self) -> str:
        if self.rate is not None:
            return f"{self.rate:g} records/s"
        if self.speedup is not None:
            return "as recorded" if self.speedup == 1 else f"{self.speedup:g}× recorded speed"
        return "as fast as possible"


@dataclass(frozen=True, slots=True)
class Survey:
    """What the first pass learnt about a recording."""

    header: dict[str, Any]
    records: int
    first_ms: int
    last_ms: int
    #: Operators whose messages the stream holds (for the keys an HTTP replay needs).
    operators: frozenset[str]
    #: Message ids of the stream: only answers to these are this replay's.
    message_ids: frozenset[str]
    items: int
    complete: bool
    #: Per record, in order: (sender operator, message id, items), None when unreadable;
    #: kept so the sending pass does not read every envelope a second time.
    envelopes: tuple[tuple[str, str, int] | None, ...]


def survey(path: Path) -> Survey:
    count, items, first, last = 0, 0, 0, 0
    operators: set[str] = set()
    message_ids: set[str] = set()
    envelopes: list[tuple[str, str, int] | None] = []
    with path.open("rb") as file:
        opened = Recording(file)
        for record in opened:
            if count == 0:
                first = record.timestamp_ms
            last = max(last, record.timestamp_ms)
            count += 1
            envelope = _envelope(record)
            envelopes.append(envelope)
            if envelope is not None:
                operators.add(envelope[0])
                message_ids.add(envelope[1])
                items += envelope[2]
        return Survey(
            opened.header, count, first, last, frozenset(operators), frozenset(message_ids),
            items, opened.complete, tuple(envelopes),
        )  # fmt: skip


def _envelope(record: Recorded) -> tuple[str, str, int] | None:
    """(sender operator, message id, items) of a record, or None when unreadable (it is
    sent all the same: the target must refuse it, as it did when it was recorded)."""
    named = dict(record.headers)
    try:
        envelope = inspect_envelope(record.value or b"", _LIMITS)
    except Exception:  # noqa: BLE001 - hostile or broken input is part of a real stream
        return None
    operator = (named.get("sender-operator") or b"").decode() or envelope.sender_operator
    if not operator or not envelope.message_id:
        return None
    return operator, envelope.message_id, envelope.item_count


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record as it is sent: re-timed, without the recorded instance's headers."""

    index: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes | None], ...]
    operator: str | None
    message_id: str | None
    items: int
    due_s: float


def outgoing(path: Path, found: Survey, pace: Pace, offset: timedelta) -> Iterator[Outgoing]:
    """The surveyed recording's records as they are sent, read a second time."""
    with path.open("rb") as file:
        for index, record in enumerate(Recording(file)):
            value, _ = shift_times(record.value or b"", offset)
            envelope = found.envelopes[index]
            operator, message_id, items = envelope if envelope else (None, None, 0)
            headers = tuple((k, v) for k, v in record.headers if k not in INSTANCE_HEADERS)
            yield Outgoing(
                index, record.key, value, headers, operator, message_id, items,
                pace.due_s(index, record.timestamp_ms, found.first_ms),
            )  # fmt: skip


def planned_offset(found: Survey, pace: Pace, start: datetime, keep_times: bool) -> timedelta:
    """The shift of every declared time: none with `keep_times`, else so that the last
    record's times stand to its sending as they stood to its recording."""
    if keep_times or not found.records:
        return timedelta(0)
    last_due = pace.due_s(found.records - 1, found.last_ms, found.first_ms)
    return stream_offset(found.last_ms, start + timedelta(seconds=last_due))


@dataclass
class Tally:
    """What happened to the records sent: the summary `aedex replay` prints."""

    sent: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    items: int = 0
    #: Message ids acknowledged (answers are awaited for these).
    message_ids: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Sent:
    """How one send went, and the refusal's or error's code."""

    outcome: str  # "acknowledged" | "duplicate" | "refused" | "error"
    code: str = ""


#: Sends one record, retrying what a restart explains; returns how it went.
Sender = Callable[[Outgoing], Awaitable[Sent]]


async def run_replay(
    records: Iterator[Outgoing],
    send: Sender,
    *,
    window: int,
    tally: Tally,
    on_sent: Callable[[Outgoing, Sent], None] = lambda _o, _s: None,
) -> Tally:
    """Send every record when it is due, in order per key, at most `window` in flight."""
    slots = asyncio.Semaphore(window)
    previous: dict[bytes | None, asyncio.Task[None]] = {}
    running: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    tally.started = start

    async def one(record: Outgoing, before: asyncio.Task[None] | None) -> None:
        try:
            if before is not None:
                await asyncio.shield(before)
            result = await send(record)
            _count(tally, record, result)
            on_sent(record, result)
        finally:
            slots.release()

    for record in records:
        delay = start + record.due_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        key = record.key if record.key is not None else record.index.to_bytes(8, "big")
        before = previous.get(key)
        if before is not None and before.done():
            before = None
        task = asyncio.create_task(one(record, before))
        previous[key] = task
        running.add(task)
        task.add_done_callback(running.discard)
        if len(previous) > 4 * window:  # forget keys whose last send is done
            previous = {k: t for k, t in previous.items() if not t.done()}
    if running:
        await asyncio.gather(*running)
    tally.ended = time.monotonic()
    return tally


def _count(tally: Tally, record: Outgoing, result: Sent) -> None:
    tally.sent += 1
    if result.outcome == "acknowledged":
        tally.acknowledged += 1
        tally.items += record.items
    elif result.outcome == "duplicate":
        tally.duplicates += 1
    elif result.outcome == "refused":
        tally.refused[result.code] += 1
    else:
        tally.errors[result.code] += 1
    if result.outcome in ("acknowledged", "duplicate") and record.message_id:
        tally.message_ids.add(record.message_id)


def now() -> datetime:
    return datetime.now(UTC)
