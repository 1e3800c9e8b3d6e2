"""Backtest: stored items of a period through a candidate ruleset and the active one.

Each item's canonical form goes through both rulesets in the order the items
were received, each with fresh windows and the packaged references (nothing
learned, as live scoring does), and both are compared with what officers
recorded: hit rate, precision, recall, queue size per band, revenue at stake,
and the items whose action would change, with the reasons of both.

Outcomes exist only for items the rules of the time selected, so recall here
is "of the infringements officers found"; random selection (issue 18) is what
makes it an estimate of all infringements.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages.canonical import Item
from messages.jsoncodec import decode_item_json
from risk import Assessment, Engine, InMemoryState, Ruleset, compile_ruleset
from service.db.models import Assessment as StoredAssessment
from service.db.models import Backtest, ItemRecord, ReviewTask, StoredRuleset
from service.governance.stats import ratio
from service.governance.versions import label, live

log = structlog.get_logger(__name__)

#: Items per step: progress is written, and the event loop breathes, between steps.
STEP = 2_000
#: Changed items listed in a result (all are counted).
MAX_CHANGED = 500
FLAGGED_BANDS = ("DOCUMENTS_REQUIRED", "INSPECT", "HOLD")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an officer recorded for an item: the truth a backtest is measured against."""

    infringement: bool
    revenue_eur: Decimal
    seized: bool


def flagged(assessment: Assessment) -> bool:
    """Selected for an officer: a fiscal band, or a security action."""
    return assessment.action != "RELEASE" or assessment.security_action is not None


@dataclass
class Side:
    """One ruleset's figures over the period."""

    name: str
    items: int = 0
    flagged: int = 0
    reviewed: int = 0
    confirmed: int = 0
    cleared: int = 0
    revenue_eur: Decimal = Decimal(0)
    seizures: int = 0
    bands: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)

    def count(self, assessment: Assessment, outcome: Outcome | None) -> None:
        self.items += 1
        for hit in assessment.hits:
            self.rules[hit.rule] += 1
        if not flagged(assessment):
            return
        self.flagged += 1
        self.bands[assessment.security_action or assessment.action] += 1
        if outcome is None:
            return
        self.reviewed += 1
        if outcome.infringement:
            self.confirmed += 1
            self.revenue_eur += outcome.revenue_eur
            self.seizures += outcome.seized
        else:
            self.cleared += 1

    def report(self, infringements: int) -> dict[str, Any]:
        return {
            "ruleset": self.name,
            "items": self.items,
            "flagged": self.flagged,
            "hit_rate": ratio(self.flagged, self.items),
            "reviewed": self.reviewed,
            "confirmed": self.confirmed,
            "cleared": self.cleared,
            "precision": ratio(self.confirmed, self.reviewed),
            "recall": ratio(self.confirmed, infringements),
            "revenue_at_stake_eur": str(self.revenue_eur),
            "seizures": self.seizures,
            "queue": dict(sorted(self.bands.items())),
            "hits_per_rule": dict(sorted(self.rules.items())),
        }


def _why(assessment: Assessment) -> list[str]:
    return [f"{hit.rule}: {hit.reason}" for hit in assessment.hits]


class Comparison:
    """Feed items in order; `report()` compares the candidate with the baseline."""

    def __init__(self, candidate: Ruleset, baseline: Ruleset) -> None:
        self._engines = (Engine(candidate), Engine(baseline))
        self._states = (InMemoryState(learn=False), InMemoryState(learn=False))
        self.candidate = Side(f"{candidate.name} {candidate.version}")
        self.baseline = Side(f"{baseline.name} {baseline.version}")
        self.infringements = 0
        self.changed = 0
        self.changed_items: list[dict[str, Any]] = []

    def add(self, items: list[Item], outcomes: list[Outcome | None]) -> None:
        """One message's items (or consecutive items): observed together, as live."""
        new = self._engines[0].assess_many(items, self._states[0])
        old = self._engines[1].assess_many(items, self._states[1])
        for item, outcome, after, before in zip(items, outcomes, new, old, strict=True):
            if outcome is not None and outcome.infringement:
                self.infringements += 1
            self.candidate.count(after, outcome)
            self.baseline.count(before, outcome)
            if (after.action, after.security_action) != (before.action, before.security_action):
                self.changed += 1
                if len(self.changed_items) < MAX_CHANGED:
                    self.changed_items.append(
                        {
                            "item_id": item.item_id,
                            "baseline": before.security_action or before.action,
                            "candidate": after.security_action or after.action,
                            "baseline_score": before.score,
                            "candidate_score": after.score,
                            "outcome": None
                            if outcome is None
                            else ("infringement" if outcome.infringement else "cleared"),
                            "baseline_reasons": _why(before),
                            "candidate_reasons": _why(after),
                        }
                    )

    def report(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.report(self.infringements),
            "baseline": self.baseline.report(self.infringements),
            "infringements_on_record": self.infringements,
            "changed": self.changed,
            "changed_items": self.changed_items,
            "changed_listed": len(self.changed_items),
        }


async def outcomes_of(
    session: AsyncSession, since: datetime, until: datetime
) -> dict[uuid.UUID, Outcome]:
    """The latest decided outcome of every task of items assessed in the period."""
    rows = await session.execute(
        select(
            ReviewTask.item_row_id,
            ReviewTask.infringement,
            ReviewTask.revenue_corrected_eur,
            ReviewTask.decision,
        )
        .join(StoredAssessment, StoredAssessment.item_row_id == ReviewTask.item_row_id)
        .where(
            ReviewTask.infringement.is_not(None),
            StoredAssessment.assessed_at >= since,
            StoredAssessment.assessed_at < until,
        )
    )
    return {
        row_id: Outcome(bool(found), revenue or Decimal(0), decision == "SEIZE")
        for row_id, found, revenue, decision in rows
    }


def period_items_query(since: datetime, until: datetime) -> Any:
    """Items scored in the period, in the order they were received (message by message)."""
    return (
        select(ItemRecord.id, ItemRecord.inbox_id, ItemRecord.canonical)
        .join(StoredAssessment, StoredAssessment.item_row_id == ItemRecord.id)
        .where(
            StoredAssessment.assessed_at >= since,
            StoredAssessment.assessed_at < until,
            ItemRecord.canonical.is_not(None),
        )
        .order_by(ItemRecord.received_at, ItemRecord.inbox_id, ItemRecord.position)
    )


async def count_period(session: AsyncSession, since: datetime, until: datetime) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(StoredAssessment)
        .where(StoredAssessment.assessed_at >= since, StoredAssessment.assessed_at < until)
    )
    return int(found or 0)


async def _messages(
    session: AsyncSession, since: datetime, until: datetime
) -> AsyncIterator[tuple[list[uuid.UUID], list[Item]]]:
    """Runs of one message's items, decoded, in order."""
    result = await session.stream(
        period_items_query(since, until).execution_options(yield_per=STEP)
    )
    run_ids: list[uuid.UUID] = []
    run_items: list[Item] = []
    inbox: uuid.UUID | None = None
    async for row_id, inbox_id, canonical in result:
        if inbox_id != inbox and run_items:
            yield run_ids, run_items
            run_ids, run_items = [], []
        inbox = inbox_id
        run_ids.append(row_id)
        run_items.append(decode_item_json(orjson.dumps(canonical)))
    if run_items:
        yield run_ids, run_items


async def compare(
    sessions: async_sessionmaker[AsyncSession],
    candidate: Ruleset,
    baseline: Ruleset,
    since: datetime,
    until: datetime,
    progress: Callable[[int, int], Any] | None = None,
) -> dict[str, Any]:
    """Run the period through both; `progress(done, total)` after each step."""
    async with sessions() as session:
        outcomes = await outcomes_of(session, since, until)
        total = await count_period(session, since, until)
    comparison = Comparison(candidate, baseline)
    done = 0
    pending: list[tuple[list[uuid.UUID], list[Item]]] = []
    pending_size = 0
    async with sessions() as session:
        async for ids, items in _messages(session, since, until):
            pending.append((ids, items))
            pending_size += len(items)
            if pending_size >= STEP:
                done += await asyncio.to_thread(_feed, comparison, pending, outcomes)
                pending, pending_size = [], 0
                if progress is not None:
                    await _maybe_await(progress(done, total))
    if pending:
        done += await asyncio.to_thread(_feed, comparison, pending, outcomes)
    if progress is not None:
        await _maybe_await(progress(done, total))
    report = comparison.report()
    report["since"] = since.isoformat()
    report["until"] = until.isoformat()
    return report


def _feed(
    comparison: Comparison,
    runs: list[tuple[list[uuid.UUID], list[Item]]],
    outcomes: dict[uuid.UUID, Outcome],
) -> int:
    for ids, items in runs:
        comparison.add(items, [outcomes.get(row_id) for row_id in ids])
    return sum(len(items) for _, items in runs)


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value


def period(since_days: float, now: datetime | None = None) -> tuple[datetime, datetime]:
    until = now or datetime.now(UTC)
    return until - timedelta(days=since_days), until + timedelta(seconds=1)


async def queue_job(
    session: AsyncSession, row: StoredRuleset, since_days: float, requested_by: str
) -> Backtest:
    """A backtest of a stored version against the active one, to be run by `run_job`."""
    active, _ = await live(session)
    since, until = period(since_days)
    job = Backtest(
        ruleset_id=row.id,
        candidate=label(row),
        baseline=label(active),
        since=since,
        until=until,
        status="QUEUED",
        requested_by=requested_by,
    )
    session.add(job)
    await session.flush()
    return job


async def run_job(sessions: async_sessionmaker[AsyncSession], job_id: uuid.UUID) -> None:
    """Run a queued job to DONE (with its result) or FAILED (with why); never raises."""
    try:
        async with sessions() as session, session.begin():
            job = await session.get(Backtest, job_id)
            if job is None or job.ruleset_id is None:
                return
            candidate_row = await session.get(StoredRuleset, job.ruleset_id)
            baseline_row, _ = await live(session)
            assert candidate_row is not None
            job.status = "RUNNING"
            job.baseline = label(baseline_row)
            candidate_text, baseline_text = candidate_row.text, baseline_row.text
            since, until = job.since, job.until
        candidate = await asyncio.to_thread(compile_ruleset, candidate_text)
        baseline = await asyncio.to_thread(compile_ruleset, baseline_text)

        async def progress(done: int, total: int) -> None:
            async with sessions() as session, session.begin():
                await session.execute(
                    update(Backtest)
                    .where(Backtest.id == job_id)
                    .values(items_done=done, items_total=total)
                )

        result = await compare(sessions, candidate, baseline, since, until, progress)
        async with sessions() as session, session.begin():
            await session.execute(
                update(Backtest)
                .where(Backtest.id == job_id)
                .values(status="DONE", result=result, finished_at=datetime.now(UTC))
            )
        log.info("backtest done", job=str(job_id), items=result["candidate"]["items"])
    except Exception as error:  # a job must end with its reason, whatever happened
        log.warning("backtest failed", job=str(job_id), error=repr(error)[:300])
        async with sessions() as session, session.begin():
            await session.execute(
                update(Backtest)
                .where(Backtest.id == job_id)
                .values(status="FAILED", error=repr(error)[:2000], finished_at=datetime.now(UTC))
            )


#: Jobs running in this process (a reference keeps each task alive until it ends).
_RUNNING: set[asyncio.Task[None]] = set()


def start_job(sessions: async_sessionmaker[AsyncSession], job_id: uuid.UUID) -> None:
    """Run a committed, queued job in the background of this process."""
    task = asyncio.create_task(run_job(sessions, job_id))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def fail_interrupted(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Jobs left QUEUED or RUNNING by a process that stopped: FAILED, saying so."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Backtest)
            .where(Backtest.status.in_(["QUEUED", "RUNNING"]))
            .values(
                status="FAILED",
                error="interrupted: the API stopped before the backtest finished; run it again",
                finished_at=datetime.now(UTC),
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)
