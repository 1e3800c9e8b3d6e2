"""The rulesets an assess worker scores with, switched without a restart.

The database is the record of which version is active (and which runs in
shadow); `aed.control` only nudges the workers to look. A nudged worker looks
at once; every worker also looks at the start of a batch every
`ruleset_poll_s` seconds (so a nudge lost while the broker was down costs at
most that long). A changed version is compiled completely before it is
swapped in, and a batch takes the engines once, when it starts: every item
of a batch is scored by one whole version, never by a half-loaded one.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from risk import Engine, Ruleset, RulesetError, compile_ruleset, load_ruleset
from service.db.models import RulesetStatus, StoredRuleset
from service.governance.versions import ensure_seed, label, live
from service.settings import Settings

log = structlog.get_logger(__name__)

#: The control record's kind for a change of the active or shadow ruleset.
RULESETS_CHANGED = "rulesets"


@dataclass(frozen=True, slots=True)
class Live:
    """One consistent pair: the active engine and the shadow one (or None)."""

    active: Engine
    shadow: Engine | None
    active_id: uuid.UUID | None
    shadow_id: uuid.UUID | None

    @property
    def label(self) -> str:
        return _name(self.active.ruleset)

    @property
    def shadow_label(self) -> str | None:
        return _name(self.shadow.ruleset) if self.shadow else None


def _name(ruleset: Ruleset) -> str:
    return f"{ruleset.name} {ruleset.version}"


class LiveRulesets:
    """Active and shadow engines for one worker; `refresh` at a batch boundary."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: AEDEX_RULESET_PATH pins a file: the database is not asked (offline, tests).
        self.pinned = settings.ruleset_path is not None
        self.current: Live | None = None
        if settings.ruleset_path is not None:
            self.current = Live(Engine(load_ruleset(settings.ruleset_path)), None, None, None)
        self._nudged = True
        self._checked_at = 0.0
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def nudge(self) -> None:
        self._nudged = True

    async def refresh(self, session: AsyncSession) -> Live:
        """The engines to score the next batch with, from the database when it changed."""
        async with self._lock:
            return await self._refresh(session)

    async def _refresh(self, session: AsyncSession) -> Live:
        current = self.current
        if self.pinned and current is not None:
            return current
        due = time.monotonic() - self._checked_at >= self.settings.ruleset_poll_s
        if current is not None and not self._nudged and not due:
            return current
        self._nudged = False
        self._checked_at = time.monotonic()
        rows = (await _live_rows(session)) or await _seeded(session)
        active = next(r for r in rows if r.status == RulesetStatus.ACTIVE)
        shadow = next((r for r in rows if r.status == RulesetStatus.SHADOW), None)
        shadow_id = shadow.id if shadow else None
        if current is not None and (current.active_id, current.shadow_id) == (
            active.id,
            shadow_id,
        ):
            return current
        # Compiled off the event loop, completely, before anything scores with it.
        try:
            active_engine = (
                current.active
                if current is not None and current.active_id == active.id
                else Engine(await asyncio.to_thread(compile_ruleset, active.text))
            )
            shadow_engine = None
            if shadow is not None:
                shadow_engine = (
                    current.shadow
                    if current is not None and current.shadow_id == shadow.id
                    else Engine(await asyncio.to_thread(compile_ruleset, shadow.text))
                )
        except RulesetError as error:
            if current is None:
                raise  # nothing to score with: the batch waits and is retried
            log.error(
                "ruleset not loaded; scoring on with the previous one",
                ruleset=f"{active.name} {active.version}",
                previous=current.label,
                problems=[str(p) for p in error.problems][:10],
            )
            return current
        switched = Live(active_engine, shadow_engine, active.id, shadow_id)
        log.info(
            "ruleset switched" if current is not None else "ruleset loaded",
            ruleset=switched.label,
            shadow=switched.shadow_label,
            previous=current.label if current is not None else None,
        )
        self.current = switched
        return switched

    def start_listening(self, bootstrap: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Follow `aed.control` in the background (once per worker)."""
        if self.pinned or self._listener is not None:
            return
        self._listener = asyncio.create_task(self._listen(bootstrap, sessions))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
            self._listener = None

    async def _listen(self, bootstrap: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        topic = self.settings.topics.control
        while True:
            # No group: every worker reads every control record, from the newest on.
            consumer = AIOKafkaConsumer(
                topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest"
            )
            try:
                await consumer.start()
                async for record in consumer:
                    if _is_rulesets_change(record.value):
                        log.info("ruleset change announced", topic=topic)
                        self.nudge()
                        await self._look_now(sessions)
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as error:
                log.warning("control topic unreadable; polling", error=repr(error)[:200])
                await asyncio.sleep(self.settings.ruleset_poll_s)
            finally:
                await consumer.stop()

    async def _look_now(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Switch now, not at the next batch: an idle worker is ready when traffic comes,
        and its heartbeat says what it scores with. A batch in progress keeps the engines
        it took when it started."""
        try:
            async with sessions() as session:
                await self.refresh(session)
        except Exception as error:  # the next batch looks again
            log.warning("ruleset refresh failed; the next batch retries", error=repr(error)[:200])
            self.nudge()


def _is_rulesets_change(value: bytes | None) -> bool:
    try:
        body = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and body.get("kind") == RULESETS_CHANGED


async def announce(
    settings: Settings, producer: AIOKafkaProducer | None, active: str, shadow: str | None
) -> bool:
    """Tell the workers to look (they also look every `ruleset_poll_s` seconds, so an
    announcement lost to a broker outage only delays the switch); False if not sent."""
    if producer is None:
        return False
    body = orjson.dumps({"kind": RULESETS_CHANGED, "active": active, "shadow": shadow})
    try:
        await producer.send_and_wait(settings.topics.control, body, key=b"rulesets")
    except (KafkaError, OSError) as error:
        log.warning("ruleset change not announced; workers poll", error=repr(error)[:200])
        return False
    return True


async def announce_live(
    session: AsyncSession, settings: Settings, producer: AIOKafkaProducer | None
) -> bool:
    """Commit the change in `session`, then announce the active and shadow versions."""
    active, running = await live(session)
    await session.commit()  # the workers look in the database: it must be there first
    return await announce(
        settings, producer, label(active), label(running) if running is not None else None
    )


async def _live_rows(session: AsyncSession) -> list[StoredRuleset]:
    rows = await session.scalars(
        select(StoredRuleset).where(
            StoredRuleset.status.in_([RulesetStatus.ACTIVE, RulesetStatus.SHADOW])
        )
    )
    return list(rows)


async def _seeded(session: AsyncSession) -> list[StoredRuleset]:
    """A fresh database: seed it (another worker may be doing the same)."""
    try:
        async with session.begin_nested():
            await ensure_seed(session)
    except IntegrityError:
        pass  # another worker seeded it first
    return await _live_rows(session)
