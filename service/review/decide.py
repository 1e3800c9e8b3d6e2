"""Officers' decisions and supervisors' amendments: stored, audited, and sent as a CUSRSP.

A decision is one transaction: a conditional UPDATE of the task (open, at the
version the officer saw, not held by someone else), a `review_decisions` row
(the outcome the feedback loop reads), the CUSRSP in `responses` (so
`GET /v1/responses` has it the moment the API answers) and a `response_outbox`
row the relay publishes to `aed.responses`. A broker that is down when the
officer decides delays the topic, never the decision, and loses nothing.

The UPDATE is the transaction's first statement, as for claims: on SQLite it
takes the write lock at once, on PostgreSQL the row lock, so two officers
deciding one item at the same moment get one decision and one 409.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from service.accounts import Staff, audit
from service.db.models import (
    ItemRecord,
    Response,
    ResponseOutbox,
    ReviewDecision,
    ReviewTask,
)
from service.db.ordering import lock_response_order
from service.errors import AedexError, NotFound
from service.review.queue import refusal_for
from service.stages.respond import answer, cusrsp_row


class OfficerDecision(enum.StrEnum):
    RELEASE = "RELEASE"
    DOCUMENTS_REQUIRED = "DOCUMENTS_REQUIRED"
    INSPECT = "INSPECT"
    HOLD = "HOLD"
    SEIZE = "SEIZE"
    RETURN = "RETURN"


#: What the operator is told: what happens to the item and what to do, never why it was
#: selected (the rule, the score and the officer's note stay inside Customs).
OPERATOR_GUIDANCE = {
    OfficerDecision.RELEASE: "Released by Customs after review: deliver the item.",
    OfficerDecision.DOCUMENTS_REQUIRED: (
        "Customs needs the invoice or other proof of the declared value and contents "
        "before the item can be released."
    ),
    OfficerDecision.INSPECT: "Present the item to Customs for examination on arrival.",
    OfficerDecision.HOLD: "Keep the item on arrival until Customs releases it.",
    OfficerDecision.SEIZE: (
        "The item is seized by Customs: do not deliver it; the addressee will be informed."
    ),
    OfficerDecision.RETURN: "Return the item to the sender: it will not be released.",
}

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class Outcome(BaseModel):
    """What the officer found: the outcome that rule statistics are measured against."""

    model_config = ConfigDict(extra="forbid")

    infringement: bool
    kind: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    revenue_corrected_eur: (
        Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None
    ) = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: OfficerDecision
    outcome: Outcome
    note: Text = ""
    version: int = Field(ge=1, le=2**31 - 1, description="the task version the officer saw")


class AmendmentIn(DecisionIn):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class GroupMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=35)]
    version: int = Field(ge=1, le=2**31 - 1)


class GroupDecisionIn(BaseModel):
    """Items decided together (one splitting window, a selection in the queue)."""

    model_config = ConfigDict(extra="forbid")

    items: list[GroupMember] = Field(min_length=1, max_length=200)
    decision: OfficerDecision
    outcome: Outcome
    note: Text = ""


class DecisionOut(BaseModel):
    item_id: str
    task_id: str
    decision: str
    version: int = Field(description="the task's version after this decision")
    decision_id: int
    response_id: int
    amends: int | None = None
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Change:
    decision: OfficerDecision
    outcome: Outcome
    note: str
    reason: str | None = None


async def decide(
    session: AsyncSession,
    caller: Staff,
    item_id: str,
    body: DecisionIn,
    *,
    customs_office: str,
    group_id: uuid.UUID | None = None,
) -> DecisionOut:
    """Decide the item's open task at `body.version`; 409 when it moved on or is held."""
    item_id = item_id.strip().upper()
    now = datetime.now(UTC)
    open_task = _latest_task(item_id, "OPEN")
    change = _Change(body.decision, body.outcome, body.note)
    decided = (
        await session.execute(
            update(ReviewTask)
            .where(
                ReviewTask.id == open_task,
                ReviewTask.version == body.version,
                (ReviewTask.claimed_until.is_(None))
                | (ReviewTask.claimed_until < now)
                | (ReviewTask.claimed_by == caller.username),
            )
            .values(
                status="DECIDED",
                claimed_by=None,
                claimed_until=None,
                version=ReviewTask.version + 1,
                **_task_values(change, caller, now),
            )
            .returning(ReviewTask.id)
        )
    ).first()
    if decided is None:
        raise await _why_not(session, item_id, body.version, now, amending=False)
    task = await _reloaded(session, decided.id)
    return await _record(
        session, caller, task, change, now, customs_office=customs_office, group_id=group_id
    )


async def amend(
    session: AsyncSession,
    caller: Staff,
    item_id: str,
    body: AmendmentIn,
    *,
    customs_office: str,
) -> DecisionOut:
    """A supervisor replaces the latest decision (with a reason); a further CUSRSP goes out."""
    item_id = item_id.strip().upper()
    now = datetime.now(UTC)
    decided_task = _latest_task(item_id, "DECIDED")
    change = _Change(body.decision, body.outcome, body.note, body.reason)
    amended = (
        await session.execute(
            update(ReviewTask)
            .where(ReviewTask.id == decided_task, ReviewTask.version == body.version)
            .values(version=ReviewTask.version + 1, **_task_values(change, caller, now))
            .returning(ReviewTask.id)
        )
    ).first()
    if amended is None:
        raise await _why_not(session, item_id, body.version, now, amending=True)
    task = await _reloaded(session, amended.id)
    return await _record(session, caller, task, change, now, customs_office=customs_office)


async def decide_group(
    session: AsyncSession, caller: Staff, body: GroupDecisionIn, *, customs_office: str
) -> list[DecisionOut]:
    """Every item decided, each with its own CUSRSP and audit entry, or none (one 409)."""
    seen: set[str] = set()
    group_id = uuid.uuid4()
    decided: list[DecisionOut] = []
    for member in body.items:
        key = member.item_id.upper()
        if key in seen:
            raise AedexError("REQUEST_INVALID", f"item {key} is in the group twice", 422)
        seen.add(key)
        single = DecisionIn(
            decision=body.decision, outcome=body.outcome, note=body.note, version=member.version
        )
        decided.append(
            await decide(
                session, caller, key, single, customs_office=customs_office, group_id=group_id
            )
        )
    return decided


def _latest_task(item_id: str, status: str) -> ScalarSelect[uuid.UUID]:
    """The id of the item's newest task in `status`, as the sub-select of one UPDATE."""
    return (
        select(ReviewTask.id)
        .where(ReviewTask.item_id == item_id, ReviewTask.status == status)
        .order_by(ReviewTask.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def _task_values(change: _Change, caller: Staff, now: datetime) -> dict[str, Any]:
    return {
        "decision": change.decision.value,
        "decided_by": caller.username,
        "decided_at": now,
        "infringement": change.outcome.infringement,
        "outcome": change.outcome.kind,
        "revenue_corrected_eur": change.outcome.revenue_corrected_eur,
        "note": change.note,
    }


async def _reloaded(session: AsyncSession, task_id: uuid.UUID) -> ReviewTask:
    task = await session.get(ReviewTask, task_id, populate_existing=True)
    assert task is not None
    return task


async def _why_not(
    session: AsyncSession, item_id: str, version: int, now: datetime, *, amending: bool
) -> AedexError:
    """The 404 or 409 for a decision that changed nothing, said so the officer can act."""
    latest = await session.scalar(
        select(ReviewTask)
        .where(ReviewTask.item_id == item_id)
        .order_by((ReviewTask.status == "OPEN").desc(), ReviewTask.created_at.desc())
        .limit(1)
    )
    if latest is None:
        return NotFound(f"a review task for item {item_id!r}")
    if amending and latest.status == "OPEN":
        return AedexError(
            "TASK_NOT_DECIDED", f"item {item_id} has no decision to amend yet; decide it", 409
        )
    if latest.version != version:
        return AedexError(
            "VERSION_CONFLICT",
            f"item {item_id} is at version {latest.version}, not {version}: someone changed "
            "it meanwhile; reload the case and decide again",
            409,
        )
    return refusal_for(latest, now)


async def _record(
    session: AsyncSession,
    caller: Staff,
    task: ReviewTask,
    change: _Change,
    now: datetime,
    *,
    customs_office: str,
    group_id: uuid.UUID | None = None,
) -> DecisionOut:
    """The decision row, its CUSRSP, the outbox row and the audit entry."""
    item = await session.get(ItemRecord, task.item_row_id)
    assert item is not None
    previous = await session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.task_id == task.id)
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )
    await lock_response_order(session)
    response = _cusrsp(task, item, change.decision, now, customs_office)
    session.add(response)
    await session.flush()
    row = ReviewDecision(
        task_id=task.id,
        item_row_id=task.item_row_id,
        item_id=task.item_id,
        decision=change.decision.value,
        infringement=change.outcome.infringement,
        outcome=change.outcome.kind,
        revenue_corrected_eur=change.outcome.revenue_corrected_eur,
        note=change.note,
        decided_by=caller.username,
        decided_at=now,
        amends=previous.id if change.reason is not None and previous else None,
        amend_reason=change.reason,
        group_id=group_id,
        response_id=response.id,
    )
    session.add_all([row, ResponseOutbox(response_id=response.id, created_at=now)])
    await session.flush()
    before = (
        {"decision": previous.decision, "infringement": previous.infringement}
        if previous
        else {"action": task.action, "security_action": task.security_action}
    )
    audit(
        session,
        caller.username,
        "decision.amend" if change.reason is not None else "decision",
        task.item_id,
        task=str(task.id),
        before=before,
        after={
            "decision": change.decision.value,
            "infringement": change.outcome.infringement,
            "kind": change.outcome.kind,
            "revenue_corrected_eur": str(change.outcome.revenue_corrected_eur)
            if change.outcome.revenue_corrected_eur is not None
            else None,
        },
        reason=change.reason,
        group=str(group_id) if group_id else None,
        response=response.id,
    )
    return DecisionOut(
        item_id=task.item_id,
        task_id=str(task.id),
        decision=change.decision.value,
        version=task.version,
        decision_id=row.id,
        response_id=response.id,
        amends=row.amends,
        group_id=str(group_id) if group_id else None,
    )


def _cusrsp(
    task: ReviewTask,
    item: ItemRecord,
    decision: OfficerDecision,
    now: datetime,
    customs_office: str,
) -> Response:
    """The officer's decision as a CUSRSP for the item's sender (same item id, its message)."""
    return cusrsp_row(
        dedupe_key=f"{task.item_row_id}:officer:{task.version}",
        customs_office=customs_office,
        recipient=task.sender_operator,
        item_row_id=task.item_row_id,
        item_id=task.item_id,
        in_reply_to=item.message_id,
        decision=decision.value,
        now=now,
        answers=[
            answer(
                task.item_id,
                item.message_id,
                decision.value,
                now,
                reasons=[OPERATOR_GUIDANCE[decision]],
            )
        ],
    )
