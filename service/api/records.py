"""What an operator may read back: its messages, its items, and the CUSRSP answers for it.

Every query is filtered by the caller's operator code; another operator's
message or item is "not found" (404), so not even its existence leaks. Risk
scores and hits are never shown to operators (DESIGN.md §6).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select

from service.accounts import Staff
from service.api.deps import OperatorDep, RuntimeDep, SessionDep
from service.api.schemas import (
    KEYED,
    NEXT_PAGE_LINK,
    READ_ITEM_LINK,
    ItemHistory,
    MessageStatus,
    refusals,
)
from service.api.staff import ItemReaderDep
from service.db.base import aware
from service.db.models import InboxMessage, ItemRecord, Response
from service.errors import NotFound
from service.review.case import load_case

router = APIRouter(prefix="/v1", tags=["records"])

MAX_PAGE = 1000
#: Response ids are 64-bit signed integers in every database we run on.
MAX_CURSOR = 2**63 - 1

#: DESIGN.md §3: MessageId is an..35; item ids (S10, HAWB, other) are no longer.
MessageId = Annotated[str, Path(min_length=1, max_length=35)]
ItemId = Annotated[str, Path(min_length=1, max_length=35)]


@router.get(
    "/messages/{message_id}",
    response_model=MessageStatus,
    responses={200: {"links": READ_ITEM_LINK}, **refusals(404, *KEYED)},
)
async def get_message(
    message_id: MessageId, caller: OperatorDep, session: SessionDep
) -> dict[str, Any]:
    """Status of one of the caller's messages, and each item's status and findings."""
    message = await session.scalar(
        select(InboxMessage).where(
            InboxMessage.sender_operator == caller, InboxMessage.message_id == message_id
        )
    )
    if message is None:
        raise NotFound(f"message {message_id!r}")
    items = (
        await session.scalars(
            select(ItemRecord)
            .where(ItemRecord.inbox_id == message.id)
            .order_by(ItemRecord.position)
        )
    ).all()
    return {
        "message_id": message.message_id,
        "inbox_id": str(message.id),
        "kind": message.kind,
        "status": message.status,
        "received_at": aware(message.received_at).isoformat(),
        "items_declared": message.item_count,
        "error": message.error,
        "items": [
            {
                "position": item.position,
                "item_id": item.item_id,
                "status": item.status,
                "findings": item.findings,
            }
            for item in items
        ],
    }


@router.get(
    "/items/{item_id}",
    response_model=ItemHistory,
    responses={
        200: {"description": "an operator's view; an officer's token gets the case view"},
        **refusals(403, 404, *KEYED),
    },
)
async def get_item(
    item_id: ItemId, reader: ItemReaderDep, session: SessionDep
) -> dict[str, Any] | JSONResponse:
    """Every version of one of the caller's items: status, findings and the decisions sent.

    With an officer's token, the case view instead (service.review.case): declared data,
    raw message, rule hits, ruleset version, the task, history and the splitting window.
    """
    if isinstance(reader, Staff):
        return JSONResponse(jsonable_encoder(await load_case(session, item_id)))
    caller = reader
    item_id = item_id.strip().upper()  # items are keyed as the canonical model keys them
    versions = (
        await session.scalars(
            select(ItemRecord)
            .where(ItemRecord.item_id == item_id, ItemRecord.sender_operator == caller)
            .order_by(ItemRecord.version, ItemRecord.received_at)
        )
    ).all()
    if not versions:
        raise NotFound(f"item {item_id!r}")
    decisions = (
        await session.scalars(
            select(Response)
            .where(Response.item_id == item_id, Response.recipient_operator == caller)
            .order_by(Response.id)
        )
    ).all()
    latest = versions[-1]
    return {
        "item_id": item_id,
        "status": latest.status,
        "versions": [
            {
                "message_id": v.message_id,
                "message_function": v.message_function,
                "version": v.version,
                "status": v.status,
                "findings": v.findings,
            }
            for v in versions
        ],
        "decisions": [
            {
                "response_id": r.id,
                "in_reply_to": r.in_reply_to,
                "axis": r.axis,
                "decision": r.decision,
                "security_decision": r.security_decision,
                "created_at": aware(r.created_at).isoformat(),
            }
            for r in decisions
        ],
    }


@router.get("/responses", responses={200: {"links": NEXT_PAGE_LINK}, **refusals(*KEYED)})
async def get_responses(
    request: Request,
    caller: OperatorDep,
    rt: RuntimeDep,
    after: int = Query(
        0, ge=0, le=MAX_CURSOR, description="the `next` cursor of the previous page; 0 = start"
    ),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    wait: float = Query(
        0,
        ge=0,
        le=30,
        description="long poll: when the page would be empty, wait up to this many seconds "
        "for a response (answered as soon as one is stored)",
    ),
) -> dict[str, Any]:
    """CUSRSP messages for the caller, oldest first; follow `next` until `responses` is empty."""
    statement = (
        select(Response)
        .where(Response.recipient_operator == caller, Response.id > after)
        .order_by(Response.id)
        .limit(limit)
    )
    # The database is asked again every interval (any API process may see the new row first);
    # each read has a session of its own, so a waiting client holds no pooled connection.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(wait, rt.settings.long_poll_max_s)
    while True:
        async with rt.sessions() as session:
            rows = (await session.scalars(statement)).all()
        left = deadline - loop.time()
        if rows or left <= 0 or await request.is_disconnected():
            break
        await asyncio.sleep(min(rt.settings.long_poll_interval_s, left))
    return {
        "responses": [
            {
                "id": r.id,
                "item_id": r.item_id,
                "in_reply_to": r.in_reply_to,
                "axis": r.axis,
                "decision": r.decision,
                "security_decision": r.security_decision,
                "cusrsp": r.xml,
            }
            for r in rows
        ],
        "next": rows[-1].id if rows else after,
    }
