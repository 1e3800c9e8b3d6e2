"""Prometheus metrics: one registry per app, so tests and several apps never collide.

Counters are per process (what this API accepted, what this worker handled);
a worker serves its own on `AEDEX_METRICS_PORT`. The API's `/metrics` also
describes the whole pipeline, whichever process did the work: gauges read
from the database at scrape time (items per status, open review tasks,
unsettled messages, intake → stage latency over the last minutes) and each
stage's consumer lag read from the broker (service.lag).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages.codelists import DECISIONS
from service.db.base import aware
from service.db.models import (
    Assessment,
    InboxMessage,
    ItemRecord,
    Response,
    ReviewTask,
    StageHeartbeat,
)
from service.stages.settlement import IS_ANSWER

#: The intake → stage latency gauges describe this many recent seconds...
LATENCY_WINDOW_S = 300
#: ...and at most this many of the most recent rows per stage.
LATENCY_SAMPLE = 5000
QUANTILES = (0.5, 0.99)
#: A worker whose heartbeat is older than this is not listed (service.stages.heartbeat).
HEARTBEAT_STALE_S = 15.0


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages = Counter(
            "aedex_messages_accepted",
            "Messages accepted by the API",
            ["kind", "status"],
            registry=r,
        )
        self.items = Counter(
            "aedex_items_accepted", "Items in messages accepted by the API", registry=r
        )
        self.refusals = Counter(
            "aedex_messages_refused",
            "Messages refused at intake (POST of a message or manifest), by code and operator",
            ["code", "operator"],
            registry=r,
        )
        self.http_refusals = Counter(
            "aedex_http_refusals",
            "Other requests answered 4xx (reads, webhooks, unknown routes), by method and code",
            ["method", "code"],
            registry=r,
        )
        self.client_disconnects = Counter(
            "aedex_http_client_disconnects",
            "Requests whose client went away before the request was complete",
            registry=r,
        )
        self.stage_records = Counter(
            "aedex_stage_records", "Records handled by a stage", ["stage", "outcome"], registry=r
        )
        self.stage_batch_seconds = Histogram(
            "aedex_stage_batch_seconds", "Time to handle one batch", ["stage"], registry=r
        )
        self.stage_wait_seconds = Histogram(
            "aedex_stage_wait_seconds",
            "From a record's produce time to the commit of the batch that handled it",
            ["stage"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.stage_lag = Gauge(
            "aedex_stage_lag_records",
            "Records behind the end of the stage's topic",
            ["stage"],
            registry=r,
        )
        self.item_status = Gauge("aedex_items", "Items by status", ["status"], registry=r)
        self.inbox_status = Gauge(
            "aedex_inbox_messages", "Inbox messages by status", ["status"], registry=r
        )
        self.review_open = Gauge(
            "aedex_review_open", "Review tasks awaiting an officer", registry=r
        )
        self.unsettled = Gauge(
            "aedex_inbox_unsettled",
            "Inbox messages with an item still unanswered (the relay re-publishes them when due)",
            registry=r,
        )
        self.decisions = Gauge(
            "aedex_decisions",
            "CUSRSP answers sent, by decision (security decisions under axis SECURITY)",
            ["axis", "decision"],
            registry=r,
        )
        self.deadletters = Gauge(
            "aedex_deadletter_records",
            "Records parked on the dead-letter topic, each with its reason in its headers",
            registry=r,
        )
        self.worker_ruleset = Gauge(
            "aedex_worker_ruleset",
            "1 per live assess worker and the ruleset it scores with (and its shadow, if any)",
            ["worker", "ruleset"],
            registry=r,
        )
        self.latency = Gauge(
            "aedex_intake_to_stage_seconds",
            f"Time from intake to a stage's commit, over the last {LATENCY_WINDOW_S} s",
            ["stage", "quantile"],
            registry=r,
        )


async def refresh_database_gauges(
    metrics: Metrics, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        for item_status, count in await session.execute(
            select(ItemRecord.status, func.count()).group_by(ItemRecord.status)
        ):
            metrics.item_status.labels(str(item_status)).set(count)
        for inbox_status, count in await session.execute(
            select(InboxMessage.status, func.count()).group_by(InboxMessage.status)
        ):
            metrics.inbox_status.labels(str(inbox_status)).set(count)
        open_tasks = await session.scalar(
            select(func.count()).select_from(ReviewTask).where(ReviewTask.status == "OPEN")
        )
        metrics.review_open.set(open_tasks or 0)
        unsettled = await session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.settled_at.is_(None))
        )
        metrics.unsettled.set(unsettled or 0)
        decisions: dict[tuple[str, str], int] = {}
        for code, count in await session.execute(
            select(Response.decision, func.count()).group_by(Response.decision)
        ):
            meaning = DECISIONS.get(code)
            fiscal = (meaning.axis if meaning else None) or "NONE", code
            decisions[fiscal] = decisions.get(fiscal, 0) + count
        for security_code, count in await session.execute(
            select(Response.security_decision, func.count())
            .where(Response.security_decision.is_not(None))
            .group_by(Response.security_decision)
        ):
            security = "SECURITY", str(security_code)
            decisions[security] = decisions.get(security, 0) + count
        for (axis, code), count in decisions.items():
            metrics.decisions.labels(axis, code).set(count)
        metrics.worker_ruleset.clear()  # a worker gone is no longer listed
        fresh = datetime.now(UTC) - timedelta(seconds=HEARTBEAT_STALE_S)
        for worker, ruleset in await session.execute(
            select(StageHeartbeat.worker_id, StageHeartbeat.ruleset).where(
                StageHeartbeat.ruleset.is_not(None), StageHeartbeat.beat_at >= fresh
            )
        ):
            metrics.worker_ruleset.labels(worker, ruleset).set(1)
        for stage, pairs in (await _stage_times(session)).items():
            waits = sorted(
                (aware(done) - aware(received)).total_seconds() for done, received in pairs if done
            )
            for q in QUANTILES:
                metrics.latency.labels(stage, str(q)).set(_quantile(waits, q))


async def _stage_times(
    session: AsyncSession,
) -> dict[str, list[tuple[datetime | None, datetime]]]:
    """(stage commit, intake) time pairs of the most recent rows each stage wrote."""
    since = datetime.now(UTC) - timedelta(seconds=LATENCY_WINDOW_S)
    queries = {
        "validate": select(InboxMessage.processed_at, InboxMessage.received_at)
        .where(InboxMessage.processed_at > since)
        .order_by(InboxMessage.processed_at.desc()),
        "assess": select(Assessment.assessed_at, ItemRecord.received_at)
        .join(ItemRecord, ItemRecord.id == Assessment.item_row_id)
        .where(Assessment.assessed_at > since)
        .order_by(Assessment.assessed_at.desc()),
        "respond": select(Response.created_at, ItemRecord.received_at)
        .join(ItemRecord, ItemRecord.id == Response.item_row_id)
        .where(Response.created_at > since, IS_ANSWER)
        .order_by(Response.created_at.desc()),
    }
    return {
        stage: [
            (done, received)
            for done, received in await session.execute(query.limit(LATENCY_SAMPLE))
        ]
        for stage, query in queries.items()
    }


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values; NaN when there are none (Prometheus's "no data")."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
