"""Which versions of an item an operator already has: known, live, superseded.

Asked once per message for all of its items (one statement per question, in
chunks under PostgreSQL's bind-parameter limit), not once per item: a message
can hold 10,000 items. Statements run on the `items` table through Core, so
nothing is synchronised against ORM objects in the session (that cost grew
with the square of the batch).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from messages.models import MessageFunction
from service.db.base import aware
from service.db.chunks import chunks
from service.db.models import ItemRecord, ItemStatus

#: DESIGN.md §4: an item id counts as live for this long after it was received.
LIVE_FOR = timedelta(days=365)

_ITEMS = cast(Table, ItemRecord.__table__)
_LIVE_STATUSES = (ItemStatus.ACCEPTED, ItemStatus.ASSESSED)

# Built once and run with parameters: built per message, SQLAlchemy's construction and
# cache-key walk cost more than the lookups themselves.
_SENDER = bindparam("sender", type_=_ITEMS.c.sender_operator.type)
_ITEM_IDS = bindparam("item_ids", expanding=True, type_=_ITEMS.c.item_id.type)
#: The items this operator has ever sent, of `:item_ids` (see `known`).
_KNOWN = (
    select(_ITEMS.c.item_id)
    .where(
        _ITEMS.c.sender_operator == _SENDER,
        _ITEMS.c.item_id.in_(_ITEM_IDS),
        or_(
            _ITEMS.c.message_function == int(MessageFunction.ORIGINAL),
            _ITEMS.c.status != ItemStatus.REJECTED,
        ),
    )
    .distinct()
)
#: The live versions of `:item_ids` received since `:since` (see `live`).
_LIVE = select(_ITEMS.c.item_id, _ITEMS.c.message_id).where(
    _ITEMS.c.sender_operator == _SENDER,
    _ITEMS.c.item_id.in_(_ITEM_IDS),
    _ITEMS.c.status.in_(_LIVE_STATUSES),
    _ITEMS.c.received_at >= bindparam("since", type_=_ITEMS.c.received_at.type),
)


async def known(session: AsyncSession, sender: str, item_ids: Collection[str]) -> set[str]:
    """The items this operator has ever sent. An original counts even when it was
    REJECTED (its replacement is the correction); a replacement or cancellation that was
    itself refused as unknown does not make the item known."""
    found: set[str] = set()
    for part in chunks(sorted(set(item_ids))):
        found.update(await session.scalars(_KNOWN, {"sender": sender, "item_ids": list(part)}))
    return found


async def live(
    session: AsyncSession, sender: str, item_ids: Collection[str], received_at: datetime
) -> dict[str, str]:
    """Item id → the message of this operator's live version of it (accepted or assessed,
    not rejected, cancelled or superseded, received within `LIVE_FOR`)."""
    since = aware(received_at).astimezone(UTC) - LIVE_FOR
    found: dict[str, str] = {}
    for part in chunks(sorted(set(item_ids))):
        rows = await session.execute(
            _LIVE, {"sender": sender, "item_ids": list(part), "since": since}
        )
        for item_id, message_id in rows:
            found.setdefault(item_id, message_id)
    return found


#: One cached statement, run with a parameter set per replacing item (executemany).
_SUPERSEDE = (
    update(_ITEMS)
    .where(
        _ITEMS.c.sender_operator == bindparam("b_sender"),
        _ITEMS.c.item_id == bindparam("b_item_id"),
        _ITEMS.c.id != bindparam("b_row_id"),
        _ITEMS.c.version <= bindparam("b_version"),
        _ITEMS.c.status.in_(_LIVE_STATUSES),
    )
    .values(status=ItemStatus.SUPERSEDED)
)


async def supersede(session: AsyncSession, sender: str, rows: Sequence[dict[str, Any]]) -> None:
    """Earlier versions of the items these rows replace or cancel are superseded."""
    parameters = [
        {
            "b_sender": sender,
            "b_item_id": row["item_id"],
            "b_row_id": row["id"],
            "b_version": row["version"],
        }
        for row in rows
        if row["message_function"] != MessageFunction.ORIGINAL
    ]
    for part in chunks(parameters):
        await session.execute(_SUPERSEDE, list(part))
