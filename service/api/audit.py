"""The audit log, read-only over HTTP (supervisor and above): no route changes or deletes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from service.api.deps import SessionDep
from service.api.schemas import KEYED, refusals
from service.api.staff import OfficerDep, SupervisorDep
from service.db.base import aware
from service.db.models import AuditEntry
from service.errors import AedexError

router = APIRouter(prefix="/v1", tags=["officers"])

MAX_PAGE = 1000
MAX_CURSOR = 2**63 - 1
Text = Annotated[str | None, Query(max_length=200)]


class Me(BaseModel):
    username: str
    role: str = Field(description="officer, supervisor or admin")


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str = Field(description="e.g. user.create, user.disable, login.failed, decision")
    subject: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditOut]
    next: int = Field(description="the cursor for the next page (`after`)")


STAFF_REFUSALS = refusals(403, *KEYED)


@router.get("/me", response_model=Me, responses=STAFF_REFUSALS)
async def me(caller: OfficerDep) -> Me:
    """The staff member the token belongs to, and their role."""
    return Me(username=caller.username, role=caller.role.value)


@router.get("/audit", response_model=AuditPage, responses=STAFF_REFUSALS)
async def read_audit(
    _caller: SupervisorDep,
    session: SessionDep,
    actor: Text = None,
    action: Text = None,
    subject: Text = None,
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    after: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditPage:
    """Audit entries, oldest first, filtered; follow `next` until `entries` is empty."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise AedexError("REQUEST_INVALID", f"{name} needs a UTC offset, e.g. Z", 422)
    query = select(AuditEntry).where(AuditEntry.id > after)
    for column, value in (
        (AuditEntry.actor, actor),
        (AuditEntry.action, action),
        (AuditEntry.subject, subject),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    rows = (await session.scalars(query.order_by(AuditEntry.id).limit(limit))).all()
    return AuditPage(
        entries=[
            AuditOut(
                id=row.id,
                at=aware(row.at).isoformat(),
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                detail=row.detail,
            )
            for row in rows
        ],
        next=rows[-1].id if rows else after,
    )
