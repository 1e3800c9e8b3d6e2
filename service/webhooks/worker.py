"""The delivery worker (`aedex worker --stage webhooks`): queue new CUSRSPs, push them, retry.

Each pass queues a delivery for every response past each webhook's cursor,
then holds (leases) the webhooks that have deliveries due and serves them at
once, up to `webhook_parallel`. One webhook is served by one worker at a time,
`webhook_in_flight` requests at once, in response-id order. A 2xx answer marks
a delivery DELIVERED; anything else schedules it again after an exponential,
jittered back-off and pauses the webhook as long, so a receiver that is down
gets one request per interval and, once back, the oldest responses first.
After `webhook_max_attempts` the delivery is FAILED until the operator replays it.

Outcomes are written after the POSTs: a worker that dies in between leaves the
deliveries PENDING and the lease runs out, so another worker sends them again
with the same Aedex-Response-Id (at least once; receivers dedupe by that id).
The worker reads only the database, so it needs no broker.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.settings import Settings
from service.webhooks import delivery, repository
from service.webhooks.repository import Attempted, Claimed, Due
from service.webhooks.retry import retry_delay

log = structlog.get_logger(__name__)

STAGE = "webhooks"
#: Responses queued per webhook per transaction.
ENQUEUE_BATCH = 1000
#: Deliveries one webhook gets per lease before others have their turn.
PER_CLAIM = 100
#: A lease outlasts one round of requests (each bounded by the timeout) by this much.
LEASE_MARGIN_S = 5.0


class DeliveryWorker:
    name = STAGE

    def __init__(self, settings: Settings, *, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.stopping = asyncio.Event()
        self.lease = timedelta(seconds=settings.webhook_timeout_s + LEASE_MARGIN_S)
        #: Attempts answered 2xx and attempts that failed, since start (for tests and logs).
        self.delivered = 0
        self.failed = 0
        self._running = False

    def partitions(self) -> int | None:
        """0 while running (it reads the database, not a topic); None before (heartbeats)."""
        return 0 if self._running else None

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        async with delivery.client() as http:
            self._running = True
            try:
                while not self.stopping.is_set():
                    try:
                        busy = await self.pass_once(http)
                    except (DBAPIError, OSError) as error:
                        log.warning("webhook pass failed; retrying", error=repr(error)[:300])
                        busy = False
                    if not busy:
                        try:
                            await asyncio.wait_for(
                                self.stopping.wait(), self.settings.webhook_poll_interval_s
                            )
                        except TimeoutError:
                            pass
            finally:
                self._running = False

    async def pass_once(self, http: httpx.AsyncClient) -> bool:
        """Queue what is new, serve what is due; True when there was anything to do."""
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            queued = await repository.enqueue_new(session, now=now, batch=ENQUEUE_BATCH)
        async with self.sessions() as session, session.begin():
            claimed = await repository.claim_due(
                session,
                now=now,
                lease_until=now + self.lease,
                limit=self.settings.webhook_parallel,
            )
        if claimed:
            results = await asyncio.gather(
                *(self._serve(http, hook) for hook in claimed), return_exceptions=True
            )
            for hook, result in zip(claimed, results, strict=True):
                if isinstance(result, Exception):
                    # Its lease runs out and the deliveries are tried again; nothing is lost.
                    log.warning(
                        "webhook round failed",
                        webhook=str(hook.id),
                        host=delivery.host(hook.url),
                        error=repr(result)[:300],
                    )
                elif isinstance(result, BaseException):
                    raise result
        return bool(queued or claimed)

    async def _serve(self, http: httpx.AsyncClient, hook: Claimed) -> None:
        """Send the webhook's due deliveries, `webhook_in_flight` at a time, until none is due,
        one fails (the webhook pauses), `PER_CLAIM` were sent, or the worker stops."""
        served = 0
        while served < PER_CLAIM and not self.stopping.is_set():
            async with self.sessions() as session:
                batch = await repository.due_deliveries(
                    session,
                    webhook_id=hook.id,
                    now=datetime.now(UTC),
                    limit=self.settings.webhook_in_flight,
                )
            if not batch:
                break
            outcomes = await asyncio.gather(*(self._attempt(http, hook, due) for due in batch))
            if not await self._record(hook, outcomes):
                return  # paused and released
            served += len(batch)
        async with self.sessions() as session, session.begin():
            await repository.release(session, webhook_id=hook.id)

    async def _attempt(self, http: httpx.AsyncClient, hook: Claimed, due: Due) -> Attempted:
        outcome = await delivery.post(
            http,
            url=hook.url,
            secret=hook.secret,
            body=due.xml.encode("utf-8"),
            response_id=due.response_id,
            delivery_id=due.id,
            item_id=due.item_id,
            attempt=due.attempts + 1,
            timeout_s=self.settings.webhook_timeout_s,
        )
        return Attempted(due, outcome.delivered, outcome.status_code, outcome.error, None)

    async def _record(self, hook: Claimed, outcomes: list[Attempted]) -> bool:
        """Store the outcomes; schedule failures and pause the webhook until the soonest.
        True when every attempt was delivered (the webhook stays held)."""
        settings = self.settings
        now = datetime.now(UTC)
        recorded: list[Attempted] = []
        pause: datetime | None = None
        for attempt in outcomes:
            if attempt.delivered:
                recorded.append(attempt)
                continue
            made = attempt.due.attempts + 1
            wait = timedelta(
                seconds=retry_delay(
                    made, base_s=settings.webhook_backoff_s, cap_s=settings.webhook_backoff_max_s
                )
            )
            exhausted = made >= settings.webhook_max_attempts
            recorded.append(
                Attempted(
                    attempt.due,
                    False,
                    attempt.status_code,
                    attempt.error,
                    None if exhausted else now + wait,
                )
            )
            pause = now + wait if pause is None else min(pause, now + wait)
            log.warning(
                "webhook delivery failed" if exhausted else "webhook attempt failed; will retry",
                webhook=str(hook.id),
                host=delivery.host(hook.url),
                response_id=attempt.due.response_id,
                attempt=made,
                status=attempt.status_code,
                error=attempt.error,
                retry_in_s=None if exhausted else round(wait.total_seconds(), 2),
            )
        async with self.sessions() as session, session.begin():
            await repository.record_attempts(
                session,
                webhook_id=hook.id,
                attempted=recorded,
                now=now,
                pause_until=pause,
                lease_until=None if pause is not None else now + self.lease,
            )
        delivered = sum(1 for a in recorded if a.delivered)
        self.delivered += delivered
        self.failed += len(recorded) - delivered
        if delivered:
            log.debug(
                "webhook deliveries sent",
                webhook=str(hook.id),
                host=delivery.host(hook.url),
                count=delivered,
            )
        return pause is None
