"""The officers' work queue: open review tasks, filtered and sorted, and claims on them.

A claim is a conditional UPDATE (the task is open and unclaimed, or its claim
has lapsed), so two officers never hold one task, on SQLite (one writer at a
time) and on PostgreSQL (the second UPDATE re-reads the row after the first
commits, and `next` skips rows another transaction has locked).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import String, and_, case, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.accounts import Staff, audit
from service.api.deps import Runtime, RuntimeDep, SessionDep
from service.api.schemas import KEYED, refusals
from service.api.staff import OfficerDep
from service.db.base import aware
from service.db.models import Assessment, ReviewTask
from service.errors import AedexError, NotFound

router = APIRouter(prefix="/v1/review", tags=["officers"])

MAX_PAGE = 200
RuleId = Annotated[str | None, Query(pattern=r"^[A-Z0-9_]{1,64}$")]
Code = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2,6}$")]


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


class QueuePage(BaseModel):
    tasks: list[TaskOut]
    total: int = Field(description="tasks matching the filters, on every page")
    next: int | None = Field(description="`after` for the next page; null on the last")


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


@router.get("/queue", response_model=QueuePage, responses=refusals(403, *KEYED))
async def queue(
    _caller: OfficerDep,
    session: SessionDep,
    status: QueueStatus = QueueStatus.OPEN,
    action: Annotated[str | None, Query(pattern=r"^[A-Z_]{1,20}$")] = None,
    security_only: bool = False,
    score_min: Annotated[int | None, Query(ge=0, le=100)] = None,
    score_max: Annotated[int | None, Query(ge=0, le=100)] = None,
    rule: RuleId = None,
    operator: Code = None,
    origin: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    received_since: datetime | None = None,
    received_until: datetime | None = None,
    sort: Sort = Sort.PRIORITY,
    after: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> QueuePage:
    """Review tasks for officers, security hits first by default; `total` counts them all."""
    now = datetime.now(UTC)
    for name, moment in (("received_since", received_since), ("received_until", received_until)):
        if moment is not None and moment.tzinfo is None:
            raise AedexError("REQUEST_INVALID", f"{name} needs a UTC offset, e.g. Z", 422)
    filters: list[ColumnElement[bool]] = [_status_filter(status, now)]
    if action is not None:
        filters.append(or_(ReviewTask.action == action, ReviewTask.security_action == action))
    if security_only:
        filters.append(ReviewTask.security_action.is_not(None))
    if score_min is not None:
        filters.append(ReviewTask.score >= score_min)
    if score_max is not None:
        filters.append(ReviewTask.score <= score_max)
    if rule is not None:
        # The rule ids are a JSON list; its text holds each id quoted (ids are [A-Z0-9_]).
        filters.append(cast(ReviewTask.rules, String).like(f'%"{rule}"%'))
    if operator is not None:
        filters.append(ReviewTask.sender_operator == operator)
    if origin is not None:
        filters.append(ReviewTask.origin == origin)
    if received_since is not None:
        filters.append(ReviewTask.received_at >= received_since)
    if received_until is not None:
        filters.append(ReviewTask.received_at < received_until)
    total = await session.scalar(select(func.count()).select_from(ReviewTask).where(*filters))
    rows = (
        await session.scalars(
            select(ReviewTask).where(*filters).order_by(*_order(sort)).offset(after).limit(limit)
        )
    ).all()
    tasks = await _with_hits(session, list(rows), now)
    more = after + len(rows) < (total or 0)
    return QueuePage(tasks=tasks, total=total or 0, next=after + len(rows) if more else None)


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
    return [_out(row, hits.get(row.item_row_id, []), now) for row in rows]


def _out(row: ReviewTask, hits: list[Hit], now: datetime) -> TaskOut:
    held = row.claimed_until is not None and aware(row.claimed_until) >= now
    status = (
        QueueStatus.DECIDED
        if row.status != "OPEN"
        else QueueStatus.CLAIMED
        if held
        else QueueStatus.OPEN
    )
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
        claimed_by=row.claimed_by if held else None,
        claimed_until=aware(row.claimed_until).isoformat() if held and row.claimed_until else None,
    )


TaskId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{32,36}$")]
CLAIM_REFUSALS = refusals(403, 404, 409, *KEYED)


async def _claim(
    session: AsyncSession, task_id: uuid.UUID, caller: Staff, now: datetime, ttl: timedelta
) -> bool:
    """One conditional UPDATE, the transaction's first statement: on SQLite it takes the
    write lock at once (no read snapshot to upgrade), on PostgreSQL the row lock."""
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
    return claimed.first() is not None


@router.post("/tasks/{task_id}/claim", response_model=TaskOut, responses=CLAIM_REFUSALS)
async def claim(
    task_id: TaskId, caller: OfficerDep, session: SessionDep, rt: RuntimeDep
) -> TaskOut:
    """Take a task: nobody else can work it until the claim lapses (or it is decided)."""
    try:
        wanted = uuid.UUID(task_id)
    except ValueError:
        raise NotFound(f"task {task_id!r}") from None
    now = datetime.now(UTC)
    if not await _claim(session, wanted, caller, now, _ttl(rt)):
        task = await session.get(ReviewTask, wanted)
        if task is None:
            raise NotFound(f"task {task_id!r}")
        if task.status != "OPEN":
            raise AedexError("TASK_DECIDED", f"task {task_id} is decided already", 409)
        until = aware(task.claimed_until).isoformat() if task.claimed_until else "?"
        raise AedexError(
            "TASK_CLAIMED", f"task {task_id} is held by {task.claimed_by} until {until}", 409
        )
    audit(session, caller.username, "task.claim", str(wanted))
    return await _claimed(session, wanted, now)


@router.post("/next", response_model=TaskOut, responses=CLAIM_REFUSALS)
async def claim_next(caller: OfficerDep, session: SessionDep, rt: RuntimeDep) -> TaskOut:
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
            .values(claimed_by=caller.username, claimed_until=now + _ttl(rt))
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


def _ttl(rt: Runtime) -> timedelta:
    return timedelta(seconds=rt.settings.review_claim_s)
