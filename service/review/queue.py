"""The officers' work queue: open review tasks, filtered and sorted, and claims on them.

A claim is a conditional UPDATE (the task is open and unclaimed, or its claim
has lapsed), so two officers never hold one task, on SQLite (one writer at a
time) and on PostgreSQL (the second UPDATE re-reads the row after the first
commits, and `next` skips rows another transaction has locked).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import String, and_, case, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.accounts import Staff, audit
from service.db.base import aware
from service.db.models import Assessment, ReviewTask
from service.errors import AedexError, NotFound


class QueueStatus(enum.StrEnum):
    OPEN = "open"  # waiting, nobody holds it (or a claim lapsed)
    CLAIMED = "claimed"  # an officer holds it
    DECIDED = "decided"


class Sort(enum.StrEnum):
    PRIORITY = "priority"  # security first, then score, then the nearest arrival
    SCORE = "score"
    AGE = "age"  # oldest first
    ARRIVAL = "arrival"  # nearest expected arrival first


class Hit(BaseModel):
    rule: str
    reason: str


class TaskOut(BaseModel):
    id: str
    item_id: str
    sender_operator: str
    origin: str | None = Field(description="the sender's country")
    score: int
    action: str = Field(description="the fiscal action: DOCUMENTS_REQUIRED, INSPECT, HOLD...")
    security_action: str | None = Field(description="SCREEN or DO_NOT_LOAD, shown first")
    hits: list[Hit]
    received_at: str | None
    expected_arrival: str | None
    seconds_to_arrival: int | None = Field(description="negative once the item has arrived")
    status: QueueStatus
    claimed_by: str | None
    claimed_until: str | None
    decision: str | None = Field(None, description="the latest decision, once decided")
    decided_by: str | None = None
    version: int = Field(1, description="send it with a decision: a stale one is refused (409)")


class QueuePage(BaseModel):
    tasks: list[TaskOut]
    total: int = Field(description="tasks matching the filters, on every page")
    next: int | None = Field(description="`after` for the next page; null on the last")


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """What an officer asks of the queue (the API's query string, the UI's filter form)."""

    status: QueueStatus = QueueStatus.OPEN
    action: str | None = None
    security_only: bool = False
    score_min: int | None = None
    score_max: int | None = None
    rule: str | None = None
    operator: str | None = None
    origin: str | None = None
    received_since: datetime | None = None
    received_until: datetime | None = None
    sort: Sort = Sort.PRIORITY
    after: int = 0
    limit: int = 50


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        ReviewTask.status == "OPEN",
        or_(ReviewTask.claimed_until.is_(None), ReviewTask.claimed_until < now),
    )


def _status_filter(status: QueueStatus, now: datetime) -> ColumnElement[bool]:
    if status is QueueStatus.DECIDED:
        return ReviewTask.status != "OPEN"
    if status is QueueStatus.OPEN:
        return _claimable(now)
    return and_(ReviewTask.status == "OPEN", ReviewTask.claimed_until >= now)


def _order(sort: Sort) -> list[Any]:
    security_first = case((ReviewTask.security_action.is_not(None), 0), else_=1)
    arrival: list[Any] = [ReviewTask.expected_arrival.is_(None), ReviewTask.expected_arrival]
    keys: list[Any]
    if sort is Sort.PRIORITY:
        keys = [security_first, ReviewTask.score.desc(), *arrival]
    elif sort is Sort.SCORE:
        keys = [ReviewTask.score.desc()]
    elif sort is Sort.AGE:
        keys = []
    else:
        keys = arrival
    return [*keys, ReviewTask.created_at, ReviewTask.id]


def _filters(query: QueueQuery, now: datetime) -> list[ColumnElement[bool]]:
    for name, moment in (
        ("received_since", query.received_since),
        ("received_until", query.received_until),
    ):
        if moment is not None and moment.tzinfo is None:
            raise AedexError("REQUEST_INVALID", f"{name} needs a UTC offset, e.g. Z", 422)
    filters: list[ColumnElement[bool]] = [_status_filter(query.status, now)]
    if query.action is not None:
        filters.append(
            or_(ReviewTask.action == query.action, ReviewTask.security_action == query.action)
        )
    if query.security_only:
        filters.append(ReviewTask.security_action.is_not(None))
    if query.score_min is not None:
        filters.append(ReviewTask.score >= query.score_min)
    if query.score_max is not None:
        filters.append(ReviewTask.score <= query.score_max)
    if query.rule is not None:
        # The rule ids are a JSON list; its text holds each id quoted (ids are [A-Z0-9_]).
        filters.append(cast(ReviewTask.rules, String).like(f'%"{query.rule}"%'))
    if query.operator is not None:
        filters.append(ReviewTask.sender_operator == query.operator)
    if query.origin is not None:
        filters.append(ReviewTask.origin == query.origin)
    if query.received_since is not None:
        filters.append(ReviewTask.received_at >= query.received_since)
    if query.received_until is not None:
        filters.append(ReviewTask.received_at < query.received_until)
    return filters


async def find_tasks(session: AsyncSession, query: QueueQuery) -> QueuePage:
    """One page of tasks matching `query`, security hits first by default; `total` counts all."""
    now = datetime.now(UTC)
    filters = _filters(query, now)
    total = await session.scalar(select(func.count()).select_from(ReviewTask).where(*filters))
    rows = (
        await session.scalars(
            select(ReviewTask)
            .where(*filters)
            .order_by(*_order(query.sort))
            .offset(query.after)
            .limit(query.limit)
        )
    ).all()
    tasks = await _with_hits(session, list(rows), now)
    more = query.after + len(rows) < (total or 0)
    return QueuePage(tasks=tasks, total=total or 0, next=query.after + len(rows) if more else None)


async def count_waiting(session: AsyncSession) -> int:
    """Open tasks nobody holds: the UI's live count."""
    found = await session.scalar(
        select(func.count()).select_from(ReviewTask).where(_claimable(datetime.now(UTC)))
    )
    return found or 0


async def _with_hits(session: AsyncSession, rows: list[ReviewTask], now: datetime) -> list[TaskOut]:
    hits: dict[Any, list[Hit]] = {}
    if rows:
        for item_row_id, found in await session.execute(
            select(Assessment.item_row_id, Assessment.hits).where(
                Assessment.item_row_id.in_([r.item_row_id for r in rows])
            )
        ):
            hits[item_row_id] = [
                Hit(rule=str(h.get("rule")), reason=str(h.get("reason", ""))) for h in found
            ]
    return [task_out(row, hits.get(row.item_row_id, []), now) for row in rows]


def task_out(row: ReviewTask, hits: list[Hit], now: datetime) -> TaskOut:
    held = row.claimed_until is not None and aware(row.claimed_until) >= now
    status = (
        QueueStatus.DECIDED
        if row.status != "OPEN"
        else QueueStatus.CLAIMED
        if held
        else QueueStatus.OPEN
    )
    open_claim = held and row.status == "OPEN"
    arrival = aware(row.expected_arrival) if row.expected_arrival else None
    return TaskOut(
        id=str(row.id),
        item_id=row.item_id,
        sender_operator=row.sender_operator,
        origin=row.origin,
        score=row.score,
        action=row.action,
        security_action=row.security_action,
        hits=hits,
        received_at=aware(row.received_at).isoformat() if row.received_at else None,
        expected_arrival=arrival.isoformat() if arrival else None,
        seconds_to_arrival=int((arrival - now).total_seconds()) if arrival else None,
        status=status,
        claimed_by=row.claimed_by if open_claim else None,
        claimed_until=aware(row.claimed_until).isoformat()
        if open_claim and row.claimed_until
        else None,
        decision=row.decision,
        decided_by=row.decided_by,
        version=row.version or 1,
    )


def parse_task_id(task_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(task_id)
    except ValueError:
        raise NotFound(f"task {task_id!r}") from None


async def claim_task(
    session: AsyncSession, task_id: uuid.UUID, caller: Staff, ttl: timedelta
) -> TaskOut:
    """Take a task: nobody else can work it until the claim lapses (or it is decided).

    One conditional UPDATE, the transaction's first statement: on SQLite it takes the
    write lock at once (no read snapshot to upgrade), on PostgreSQL the row lock.
    """
    now = datetime.now(UTC)
    claimed = await session.execute(
        update(ReviewTask)
        .where(
            ReviewTask.id == task_id,
            ReviewTask.status == "OPEN",
            or_(
                ReviewTask.claimed_until.is_(None),
                ReviewTask.claimed_until < now,
                ReviewTask.claimed_by == caller.username,
            ),
        )
        .values(claimed_by=caller.username, claimed_until=now + ttl)
        .returning(ReviewTask.id)
    )
    if claimed.first() is None:
        task = await session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"task {task_id}")
        raise refusal_for(task, now)
    audit(session, caller.username, "task.claim", str(task_id))
    return await _claimed(session, task_id, now)


def refusal_for(task: ReviewTask, now: datetime) -> AedexError:
    """Why `task` cannot be taken by the caller now (decided, or held by someone else)."""
    if task.status != "OPEN":
        return AedexError(
            "TASK_DECIDED",
            f"task {task.id} is decided already ({task.decision} by {task.decided_by})",
            409,
        )
    until = aware(task.claimed_until).isoformat() if task.claimed_until else "?"
    return AedexError(
        "TASK_CLAIMED", f"task {task.id} is held by {task.claimed_by} until {until}", 409
    )


async def claim_next_task(session: AsyncSession, caller: Staff, ttl: timedelta) -> TaskOut:
    """Claim the highest-priority task nobody holds (security first, then score), atomically:
    one UPDATE whose target is chosen by a sub-select (PostgreSQL skips rows other
    transactions have locked; SQLite has one writer at a time)."""
    now = datetime.now(UTC)
    pick = (
        select(ReviewTask.id)
        .where(_claimable(now))
        .order_by(*_order(Sort.PRIORITY))
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = (
        await session.execute(
            update(ReviewTask)
            .where(ReviewTask.id == pick, _claimable(now))
            .values(claimed_by=caller.username, claimed_until=now + ttl)
            .returning(ReviewTask.id)
        )
    ).first()
    if claimed is None:
        raise NotFound("an unclaimed task")
    audit(session, caller.username, "task.claim", str(claimed.id), via="next")
    return await _claimed(session, claimed.id, now)


async def _claimed(session: AsyncSession, task_id: uuid.UUID, now: datetime) -> TaskOut:
    task = await session.get(ReviewTask, task_id, populate_existing=True)
    assert task is not None
    [out] = await _with_hits(session, [task], now)
    return out
