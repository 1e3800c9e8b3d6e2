"""The officer's case view of one item: what was declared, what the rules said, what came before.

An officer decides from this page alone, so it carries everything: the latest
declared data and the raw message as received, validation findings, each rule
hit with its rendered reason and the ruleset version, the task and every
decision on it, the CUSRSPs sent, the same addressee's and the same sender's
items over the last 90 days (by the spelling-tolerant party keys), and for a
splitting hit the other items of the sender→addressee window with their task
versions, so the window can be decided as a group.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.base import aware
from service.db.models import (
    Assessment,
    InboxMessage,
    ItemRecord,
    Response,
    ReviewDecision,
    ReviewTask,
)
from service.errors import NotFound
from service.review.queue import Hit, task_out

HISTORY_DAYS = 90
HISTORY_ROWS = 100
#: Either side of the item: wider than the splitting rules' windows (24 h pair, 72 h addressee).
WINDOW = timedelta(hours=72)
#: Raw messages are shown up to this size (a 10,000-item CUSITM is for download, not a page).
RAW_SHOWN = 512 * 1024


async def load_case(session: AsyncSession, item_id: str) -> dict[str, Any]:
    item_id = item_id.strip().upper()
    versions = (
        await session.scalars(
            select(ItemRecord)
            .where(ItemRecord.item_id == item_id)
            .order_by(ItemRecord.version, ItemRecord.received_at)
        )
    ).all()
    if not versions:
        raise NotFound(f"item {item_id!r}")
    latest = versions[-1]
    declared = next((v for v in reversed(versions) if v.canonical), None)
    inbox = await session.get(InboxMessage, latest.inbox_id)
    assessment = await session.scalar(
        select(Assessment).where(Assessment.item_row_id == (declared or latest).id)
    )
    task = await session.scalar(
        select(ReviewTask)
        .where(ReviewTask.item_id == item_id)
        .order_by((ReviewTask.status == "OPEN").desc(), ReviewTask.created_at.desc())
        .limit(1)
    )
    hits = list(assessment.hits) if assessment else []
    now = datetime.now(UTC)
    anchor = declared or latest
    return {
        "item_id": item_id,
        "sender_operator": latest.sender_operator,
        "status": latest.status,
        "message_id": latest.message_id,
        "message_function": latest.message_function,
        "received_at": aware(latest.received_at).isoformat(),
        "declared": declared.canonical if declared else None,
        "raw": _raw(inbox),
        "findings": latest.findings,
        "versions": [
            {
                "message_id": v.message_id,
                "message_function": v.message_function,
                "version": v.version,
                "status": v.status,
                "received_at": aware(v.received_at).isoformat(),
                "findings": v.findings,
            }
            for v in versions
        ],
        "assessment": None
        if assessment is None
        else {
            "score": assessment.score,
            "action": assessment.action,
            "security_action": assessment.security_action,
            "ruleset": assessment.ruleset,
            "ruleset_version": assessment.ruleset_version,
            "assessed_at": aware(assessment.assessed_at).isoformat(),
            "hits": hits,
        },
        "task": None
        if task is None
        else task_out(
            task, [Hit(rule=str(h.get("rule")), reason=str(h.get("reason", ""))) for h in hits], now
        ).model_dump(),
        "decisions": await _decisions(session, item_id),
        "responses": await _responses(session, item_id),
        "history": {
            "days": HISTORY_DAYS,
            "addressee": await _history(session, ItemRecord.addressee_key, anchor, now),
            "sender": await _history(session, ItemRecord.sender_key, anchor, now),
        },
        "window": await _window(session, anchor)
        if any("splitting" in (h.get("tags") or []) for h in hits)
        else None,
    }


def _raw(inbox: InboxMessage | None) -> dict[str, Any] | None:
    if inbox is None:
        return None
    shown = inbox.raw[:RAW_SHOWN].decode("utf-8", errors="replace")
    return {
        "kind": inbox.kind,
        "bytes": len(inbox.raw),
        "truncated": len(inbox.raw) > RAW_SHOWN,
        "text": shown,
    }


async def _decisions(session: AsyncSession, item_id: str) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(ReviewDecision).where(ReviewDecision.item_id == item_id).order_by(ReviewDecision.id)
    )
    return [
        {
            "id": d.id,
            "decision": d.decision,
            "infringement": d.infringement,
            "kind": d.outcome,
            "revenue_corrected_eur": str(d.revenue_corrected_eur)
            if d.revenue_corrected_eur is not None
            else None,
            "note": d.note,
            "decided_by": d.decided_by,
            "decided_at": aware(d.decided_at).isoformat(),
            "amends": d.amends,
            "amend_reason": d.amend_reason,
            "group_id": str(d.group_id) if d.group_id else None,
            "response_id": d.response_id,
        }
        for d in rows
    ]


async def _responses(session: AsyncSession, item_id: str) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Response).where(Response.item_id == item_id).order_by(Response.id)
    )
    return [
        {
            "id": r.id,
            "decision": r.decision,
            "security_decision": r.security_decision,
            "created_at": aware(r.created_at).isoformat(),
        }
        for r in rows
    ]


async def _history(
    session: AsyncSession, key_column: Any, anchor: ItemRecord, now: datetime
) -> list[dict[str, Any]]:
    """Other items of the same party in the last 90 days, newest first, with their outcome."""
    key = getattr(anchor, key_column.key)
    if not key:
        return []
    return await _items_where(
        session,
        key_column == key,
        ItemRecord.received_at >= now - timedelta(days=HISTORY_DAYS),
        ItemRecord.item_id != anchor.item_id,
        newest_first=True,
    )


async def _window(session: AsyncSession, anchor: ItemRecord) -> list[dict[str, Any]]:
    """The same sender→addressee pair's items within 72 h either side, oldest first."""
    if not anchor.sender_key or not anchor.addressee_key:
        return []
    at = aware(anchor.received_at)
    return await _items_where(
        session,
        ItemRecord.sender_key == anchor.sender_key,
        ItemRecord.addressee_key == anchor.addressee_key,
        ItemRecord.received_at >= at - WINDOW,
        ItemRecord.received_at <= at + WINDOW,
        newest_first=False,
    )


async def _items_where(
    session: AsyncSession, *where: Any, newest_first: bool
) -> list[dict[str, Any]]:
    order = ItemRecord.received_at.desc() if newest_first else ItemRecord.received_at
    rows = await session.execute(
        select(ItemRecord, Assessment, ReviewTask)
        .outerjoin(Assessment, Assessment.item_row_id == ItemRecord.id)
        .outerjoin(ReviewTask, ReviewTask.item_row_id == ItemRecord.id)
        .where(ItemRecord.status != "REJECTED", *where)
        .order_by(order)
        .limit(HISTORY_ROWS)
    )
    return [
        {
            "item_id": item.item_id,
            "sender_operator": item.sender_operator,
            "received_at": aware(item.received_at).isoformat(),
            "status": item.status,
            "total_value_eur": (item.canonical or {}).get("total_value_eur"),
            "description": _description(item.canonical),
            "score": assessment.score if assessment else None,
            "action": assessment.action if assessment else None,
            "security_action": assessment.security_action if assessment else None,
            "task_status": task.status if task else None,
            "task_version": task.version if task else None,
            "decision": task.decision if task else None,
        }
        for item, assessment, task in rows
    ]


def _description(canonical: dict[str, Any] | None) -> str | None:
    lines = (canonical or {}).get("lines") or []
    return "; ".join(str(line.get("description", "")) for line in lines)[:200] or None
