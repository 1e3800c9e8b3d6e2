"""Database access for webhooks: registration, the delivery queue and its log.

The queue is `webhook_deliveries`, one row per response and webhook. A
webhook's cursor (`last_response_id`) moves forward in the same transaction
that inserts the rows up to it, and only if no other worker moved it first, so
a response is queued once. Response ids are in commit order
(service.db.ordering), so the cursor never passes a response that commits
later. Callers own the transaction: these functions only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    String,
    Uuid,
    and_,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import DeliveryStatus, Response, Webhook, WebhookDelivery
from service.errors import AedexError, NotFound

#: Written out rather than bound, so PostgreSQL can use the partial index on pending rows.
PENDING_ROWS = WebhookDelivery.status == literal_column("'PENDING'")


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


# --- the API's side --------------------------------------------------------------------------


async def create_webhook(
    session: AsyncSession,
    *,
    operator: str,
    url: str,
    secret: str,
    after: int | None,
    most: int,
) -> Webhook:
    """A new webhook for `operator`, pushing responses after `after` (default: from now on);
    refused (409) when the operator already has `most` webhooks."""
    active = await session.scalar(
        select(func.count())
        .select_from(Webhook)
        .where(Webhook.operator == operator, Webhook.deleted_at.is_(None))
    )
    if (active or 0) >= most:
        raise AedexError(
            "WEBHOOK_LIMIT", f"an operator may have {most} webhooks; delete one first", 409
        )
    if after is None:
        after = await session.scalar(select(func.max(Response.id))) or 0
    webhook = Webhook(operator=operator, url=url, secret=secret, last_response_id=after)
    session.add(webhook)
    await session.flush()
    return webhook


async def list_webhooks(session: AsyncSession, *, operator: str) -> Sequence[Webhook]:
    return (
        await session.scalars(
            select(Webhook)
            .where(Webhook.operator == operator, Webhook.deleted_at.is_(None))
            .order_by(Webhook.created_at, Webhook.id)
        )
    ).all()


async def get_webhook(session: AsyncSession, *, operator: str, webhook_id: uuid.UUID) -> Webhook:
    """The caller's live webhook; another operator's (or a deleted one) is not found."""
    webhook = await session.scalar(
        select(Webhook).where(
            Webhook.id == webhook_id, Webhook.operator == operator, Webhook.deleted_at.is_(None)
        )
    )
    if webhook is None:
        raise NotFound(f"webhook {webhook_id}")
    return webhook


async def delete_webhook(
    session: AsyncSession, *, operator: str, webhook_id: uuid.UUID, now: datetime
) -> None:
    """No more deliveries; the rows stay, so what was sent remains on record. Pending ones
    become FAILED, so the worker's queue (the pending rows) holds only live webhooks'."""
    webhook = await get_webhook(session, operator=operator, webhook_id=webhook_id)
    webhook.deleted_at = now
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id, PENDING_ROWS)
        .values(status=DeliveryStatus.FAILED.value, last_error="webhook deleted")
    )
    await session.flush()


@dataclass(frozen=True, slots=True)
class LogEntry:
    delivery: WebhookDelivery
    item_id: str
    decision: str


async def list_deliveries(
    session: AsyncSession,
    *,
    webhook_id: uuid.UUID,
    after: int,
    limit: int,
    status: DeliveryStatus | None,
) -> list[LogEntry]:
    """The delivery log, oldest first, paged by delivery id."""
    statement = (
        select(WebhookDelivery, Response.item_id, Response.decision)
        .join(Response, Response.id == WebhookDelivery.response_id)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id > after)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status.value)
    rows = (await session.execute(statement)).all()
    return [LogEntry(delivery, item_id, decision) for delivery, item_id, decision in rows]


async def replay_delivery(
    session: AsyncSession, *, webhook: Webhook, delivery_id: int, now: datetime
) -> LogEntry:
    """Queue one FAILED delivery again, at once (409 for one that is not FAILED)."""
    row = (
        await session.execute(
            select(WebhookDelivery, Response.item_id, Response.decision)
            .join(Response, Response.id == WebhookDelivery.response_id)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"delivery {delivery_id} of webhook {webhook.id}")
    delivery, item_id, decision = row
    if delivery.status != DeliveryStatus.FAILED:
        raise AedexError(
            "DELIVERY_NOT_FAILED",
            f"delivery {delivery_id} is {delivery.status}; only a FAILED delivery is replayed",
            409,
        )
    _requeue(delivery, now)
    webhook.paused_until = None
    await session.flush()
    return LogEntry(delivery, item_id, decision)


async def replay_failed(session: AsyncSession, *, webhook: Webhook, now: datetime) -> int:
    """Queue every FAILED delivery of `webhook` again, at once; returns how many."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.webhook_id == webhook.id,
            WebhookDelivery.status == DeliveryStatus.FAILED.value,
        )
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            replays=WebhookDelivery.replays + 1,
            next_attempt_at=now,
        )
    )
    webhook.paused_until = None
    await session.flush()
    return _rowcount(result)


def _requeue(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.replays += 1
    delivery.next_attempt_at = now


# --- the delivery worker's side --------------------------------------------------------------


async def enqueue_new(session: AsyncSession, *, now: datetime, batch: int) -> int:
    """Queue a delivery of every response after each live webhook's cursor (at most
    `batch` per webhook per call); returns how many were queued."""
    top = await session.scalar(select(func.max(Response.id)))
    if top is None:
        return 0
    hooks = (
        await session.execute(
            select(Webhook.id, Webhook.operator, Webhook.last_response_id).where(
                Webhook.deleted_at.is_(None), Webhook.last_response_id < top
            )
        )
    ).all()
    queued = 0
    for hook_id, operator, cursor in hooks:
        # The batch-th response of the operator after the cursor bounds one transaction's work;
        # without one, every response up to `top` is queued (none of them may be the operator's).
        nth = await session.scalar(
            select(Response.id)
            .where(Response.recipient_operator == operator, Response.id > cursor)
            .order_by(Response.id)
            .offset(batch - 1)
            .limit(1)
        )
        upper = top if nth is None else min(top, nth)
        moved = await session.execute(
            update(Webhook)
            .where(Webhook.id == hook_id, Webhook.last_response_id == cursor)
            .values(last_response_id=upper)
        )
        if _rowcount(moved) != 1:
            continue  # another worker moved this cursor first and queued these
        responses = select(
            literal(hook_id, Uuid()),
            Response.id,
            literal(DeliveryStatus.PENDING.value, String()),
            literal(0, Integer()),
            literal(0, Integer()),
            literal(now, DateTime(timezone=True)),
            literal(now, DateTime(timezone=True)),
        ).where(Response.recipient_operator == operator, Response.id > cursor, Response.id <= upper)
        inserted = await session.execute(
            insert(WebhookDelivery).from_select(
                [
                    "webhook_id",
                    "response_id",
                    "status",
                    "attempts",
                    "replays",
                    "next_attempt_at",
                    "created_at",
                ],
                responses,
            )
        )
        queued += max(_rowcount(inserted), 0)
    return queued


def _free(now: datetime) -> ColumnElement[bool]:
    """Not held by a worker and not paused after a failure."""
    return and_(
        or_(Webhook.leased_until.is_(None), Webhook.leased_until <= now),
        or_(Webhook.paused_until.is_(None), Webhook.paused_until <= now),
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A webhook this worker holds until its lease ends."""

    id: uuid.UUID
    operator: str
    url: str
    secret: str


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[Claimed]:
    """Hold up to `limit` free webhooks that have deliveries due, longest-waiting first."""
    due = (
        await session.scalars(
            select(WebhookDelivery.webhook_id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                PENDING_ROWS,
                WebhookDelivery.next_attempt_at <= now,
                Webhook.deleted_at.is_(None),
                _free(now),
            )
            .group_by(WebhookDelivery.webhook_id)
            .order_by(func.min(WebhookDelivery.next_attempt_at))
            .limit(limit)
        )
    ).all()
    claimed: list[Claimed] = []
    for hook_id in due:
        # Conditional: of two workers, the second finds the lease taken and updates nothing.
        taken = await session.execute(
            update(Webhook)
            .where(Webhook.id == hook_id, Webhook.deleted_at.is_(None), _free(now))
            .values(leased_until=lease_until)
        )
        if _rowcount(taken) == 1:
            row = (
                await session.execute(
                    select(Webhook.operator, Webhook.url, Webhook.secret).where(
                        Webhook.id == hook_id
                    )
                )
            ).one()
            claimed.append(Claimed(hook_id, row.operator, row.url, row.secret))
    return claimed


@dataclass(frozen=True, slots=True)
class Due:
    """One delivery to attempt now, with what it sends."""

    id: int
    response_id: int
    attempts: int
    item_id: str
    xml: str


async def due_deliveries(
    session: AsyncSession, *, webhook_id: uuid.UUID, now: datetime, limit: int
) -> list[Due]:
    """The webhook's due deliveries in response-id order."""
    rows = (
        await session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.response_id,
                WebhookDelivery.attempts,
                Response.item_id,
                Response.xml,
            )
            .join(Response, Response.id == WebhookDelivery.response_id)
            .where(
                WebhookDelivery.webhook_id == webhook_id,
                PENDING_ROWS,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.response_id)
            .limit(limit)
        )
    ).all()
    return [Due(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Attempted:
    """What one attempt gave: the outcome, and when to try again if it failed."""

    due: Due
    delivered: bool
    status_code: int | None
    error: str | None
    #: When the next attempt is due (ignored when delivered); None: no attempt left (FAILED).
    retry_at: datetime | None


async def record_attempts(
    session: AsyncSession,
    *,
    webhook_id: uuid.UUID,
    attempted: Sequence[Attempted],
    now: datetime,
    pause_until: datetime | None,
    lease_until: datetime | None,
) -> None:
    """Write each attempt's outcome; then pause the webhook until `pause_until` (after a
    failure) and keep it held until `lease_until` (None releases it)."""
    for attempt in attempted:
        values: dict[str, Any] = {
            "attempts": attempt.due.attempts + 1,
            "last_attempt_at": now,
            "last_status_code": attempt.status_code,
            "last_error": attempt.error,
        }
        if attempt.delivered:
            values |= {"status": DeliveryStatus.DELIVERED.value, "delivered_at": now}
        elif attempt.retry_at is None:
            values["status"] = DeliveryStatus.FAILED.value
        else:
            values["next_attempt_at"] = attempt.retry_at
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == attempt.due.id, PENDING_ROWS)
            .values(**values)
        )
    hook: dict[str, Any] = {"leased_until": lease_until}
    if pause_until is not None:
        hook["paused_until"] = pause_until
    await session.execute(update(Webhook).where(Webhook.id == webhook_id).values(**hook))


async def release(session: AsyncSession, *, webhook_id: uuid.UUID) -> None:
    await session.execute(update(Webhook).where(Webhook.id == webhook_id).values(leased_until=None))
