"""The officers' work queue over HTTP: list, claim one, claim the next (service.review.queue)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.api.deps import Runtime, RuntimeDep, SessionDep
from service.api.schemas import KEYED, refusals
from service.api.staff import OfficerDep
from service.review.queue import (
    QueuePage,
    QueueQuery,
    QueueStatus,
    Sort,
    TaskOut,
    claim_next_task,
    claim_task,
    find_tasks,
    parse_task_id,
)

router = APIRouter(prefix="/v1/review", tags=["officers"])

MAX_PAGE = 200
RuleId = Annotated[str | None, Query(pattern=r"^[A-Z0-9_]{1,64}$")]
Code = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2,6}$")]


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
    return await find_tasks(
        session,
        QueueQuery(
            status=status,
            action=action,
            security_only=security_only,
            score_min=score_min,
            score_max=score_max,
            rule=rule,
            operator=operator,
            origin=origin,
            received_since=received_since,
            received_until=received_until,
            sort=sort,
            after=after,
            limit=limit,
        ),
    )


TaskId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{32,36}$")]
CLAIM_REFUSALS = refusals(403, 404, 409, *KEYED)


@router.post("/tasks/{task_id}/claim", response_model=TaskOut, responses=CLAIM_REFUSALS)
async def claim(
    task_id: TaskId, caller: OfficerDep, session: SessionDep, rt: RuntimeDep
) -> TaskOut:
    """Take a task: nobody else can work it until the claim lapses (or it is decided)."""
    return await claim_task(session, parse_task_id(task_id), caller, claim_ttl(rt))


@router.post("/next", response_model=TaskOut, responses=CLAIM_REFUSALS)
async def claim_next(caller: OfficerDep, session: SessionDep, rt: RuntimeDep) -> TaskOut:
    """Claim the highest-priority task nobody holds (security first, then score), atomically."""
    return await claim_next_task(session, caller, claim_ttl(rt))


def claim_ttl(rt: Runtime) -> timedelta:
    return timedelta(seconds=rt.settings.review_claim_s)
