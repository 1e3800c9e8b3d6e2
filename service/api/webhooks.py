"""Operators' webhooks: register, list, delete, read the delivery log, replay what failed.

Every route is scoped to the caller's operator: another operator's webhook is
"not found" (404), as for messages and items. The secret is taken once and
never shown again. Delivery itself is service.webhooks.worker's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi import Response as HttpResponse
from pydantic import ValidationError

from service.api.deps import BodyDep, OperatorDep, RuntimeDep, SessionDep, media_type
from service.api.schemas import KEYED, UPLOAD, Problem, body, refusals
from service.db.base import aware
from service.db.models import DeliveryStatus, Webhook
from service.errors import AedexError
from service.webhooks import repository
from service.webhooks.repository import LogEntry
from service.webhooks.schemas import (
    MAX_ID,
    DeliveryOut,
    DeliveryPage,
    Replayed,
    WebhookCreate,
    WebhookList,
    WebhookOut,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

#: A registration is a URL and a secret: anything bigger is not one.
MAX_BODY_BYTES = 8 * 1024
MAX_PAGE = 1000

WebhookId = Annotated[uuid.UUID, Path(description="the id POST /v1/webhooks answered")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="a delivery id of the log")]

_LIMIT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "WEBHOOK_LIMIT: the operator has as many webhooks as allowed",
    }
}
_NOT_FAILED: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "DELIVERY_NOT_FAILED: only a FAILED delivery is replayed",
    }
}


def _webhook(webhook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        created_at=aware(webhook.created_at),
        last_response_id=webhook.last_response_id,
        paused_until=aware(webhook.paused_until) if webhook.paused_until else None,
    )


def _delivery(entry: LogEntry) -> DeliveryOut:
    d = entry.delivery
    pending = d.status == DeliveryStatus.PENDING
    return DeliveryOut(
        id=d.id,
        response_id=d.response_id,
        item_id=entry.item_id,
        decision=entry.decision,
        status=DeliveryStatus(d.status).value,
        attempts=d.attempts,
        replays=d.replays,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=aware(d.created_at),
        last_attempt_at=aware(d.last_attempt_at) if d.last_attempt_at else None,
        next_attempt_at=aware(d.next_attempt_at) if pending else None,
        delivered_at=aware(d.delivered_at) if d.delivered_at else None,
    )


def _registration(request: Request, data: bytes) -> WebhookCreate:
    kind = media_type(request)
    if kind != "application/json":
        raise AedexError(
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Type {kind or 'missing'!r}; a webhook is registered with application/json",
            415,
        )
    if len(data) > MAX_BODY_BYTES:
        raise AedexError(
            "BODY_TOO_LARGE", f"a registration is at most {MAX_BODY_BYTES:,} bytes", 413
        )
    try:
        return WebhookCreate.model_validate_json(data)
    except ValidationError as error:
        # The input is not echoed: it may hold the secret.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise AedexError("REQUEST_INVALID", problems, 422) from None


@router.post(
    "",
    status_code=201,
    responses={**refusals(*UPLOAD), **_LIMIT},
    openapi_extra=body(
        {"application/json": {"schema": WebhookCreate.model_json_schema()}},
        description="the URL to push each CUSRSP to, and the secret that signs the pushes",
    ),
)
async def create_webhook(
    request: Request, rt: RuntimeDep, caller: OperatorDep, session: SessionDep, data: BodyDep
) -> WebhookOut:
    """Register a webhook: each new CUSRSP for the caller is POSTed to it, signed."""
    spec = _registration(request, data)
    webhook = await repository.create_webhook(
        session,
        operator=caller,
        url=str(spec.url),
        secret=spec.secret,
        after=spec.after,
        most=rt.settings.webhooks_per_operator,
    )
    return _webhook(webhook)


@router.get("", responses=refusals(*KEYED))
async def list_webhooks(caller: OperatorDep, session: SessionDep) -> WebhookList:
    """The caller's webhooks, oldest first."""
    found = await repository.list_webhooks(session, operator=caller)
    return WebhookList(webhooks=[_webhook(w) for w in found])


@router.get("/{webhook_id}", responses=refusals(404, *KEYED))
async def get_webhook(
    webhook_id: WebhookId, caller: OperatorDep, session: SessionDep
) -> WebhookOut:
    return _webhook(await repository.get_webhook(session, operator=caller, webhook_id=webhook_id))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    response_class=HttpResponse,
    responses=refusals(404, *KEYED),
)
async def delete_webhook(webhook_id: WebhookId, caller: OperatorDep, session: SessionDep) -> None:
    """Stop pushing to this webhook; deliveries in the queue are not sent."""
    await repository.delete_webhook(
        session, operator=caller, webhook_id=webhook_id, now=datetime.now(UTC)
    )


@router.get("/{webhook_id}/deliveries", responses=refusals(404, *KEYED))
async def list_deliveries(
    webhook_id: WebhookId,
    caller: OperatorDep,
    session: SessionDep,
    after: int = Query(0, ge=0, le=MAX_ID, description="the `next` of the previous page"),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    status: Annotated[
        DeliveryStatus | None, Query(description="only deliveries in this status")
    ] = None,
) -> DeliveryPage:
    """The delivery log, oldest first: each response, its status, attempts and last answer."""
    webhook = await repository.get_webhook(session, operator=caller, webhook_id=webhook_id)
    entries = await repository.list_deliveries(
        session, webhook_id=webhook.id, after=after, limit=limit, status=status
    )
    return DeliveryPage(
        deliveries=[_delivery(e) for e in entries],
        next=entries[-1].delivery.id if entries else after,
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    responses={**refusals(404, *KEYED), **_NOT_FAILED},
)
async def replay_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, caller: OperatorDep, session: SessionDep
) -> DeliveryOut:
    """Send a FAILED delivery again (its attempts start from zero)."""
    webhook = await repository.get_webhook(session, operator=caller, webhook_id=webhook_id)
    entry = await repository.replay_delivery(
        session, webhook=webhook, delivery_id=delivery_id, now=datetime.now(UTC)
    )
    return _delivery(entry)


@router.post("/{webhook_id}/replay", responses=refusals(404, *KEYED))
async def replay_failed(
    webhook_id: WebhookId, caller: OperatorDep, session: SessionDep
) -> Replayed:
    """Send every FAILED delivery of this webhook again."""
    webhook = await repository.get_webhook(session, operator=caller, webhook_id=webhook_id)
    count = await repository.replay_failed(session, webhook=webhook, now=datetime.now(UTC))
    return Replayed(replayed=count)
