"""Intake: make a received message durable in the inbox, or refuse it with a reason.

Only message-level facts are checked here (safe, well-formed XML of a known
kind, a header that keys it, the caller's own operator code, a MessageId not
reused for other content). Every item-level check is the validate stage's, so
the API stays fast and a message with item errors is still accepted and
answered item by item.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

from lxml import etree
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from adapters.errors import AdapterError
from adapters.post.itmatt import Envelope, envelope_of_tree, inspect_envelope
from messages.errors import MessageRejected
from messages.findings import Code
from messages.models import MessageFunction
from messages.xml import XmlLimits
from service.db.ids import new_id
from service.db.models import InboxMessage, InboxStatus
from service.errors import AedexError

#: HTTP status per message-level refusal.
_STATUS = {
    Code.XML_MALFORMED: 400,
    Code.XML_FORBIDDEN: 400,
    Code.XML_TOO_LARGE: 413,
}


@dataclass(frozen=True, slots=True)
class Accepted:
    inbox_id: uuid.UUID
    message_id: str
    sender_operator: str
    kind: str
    items: int
    #: True when the same message (same bytes) was already accepted: nothing new is done.
    duplicate: bool
    received_at: datetime
    #: Named in the answer when one upload made several messages (a manifest).
    message_function: MessageFunction | None = None

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "message_id": self.message_id,
            "inbox_id": str(self.inbox_id),
            "items": self.items,
            "status": "DUPLICATE_MESSAGE" if self.duplicate else "ACCEPTED",
        }
        return body


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message of an upload to store: its bytes and envelope; for a converted manifest
    also the location map its findings are relocated with (`adapters.express.locations`)."""

    data: bytes
    envelope: Envelope
    locations: dict[str, Any] | None = None
    message_function: MessageFunction | None = None


def answer(accepted: Sequence[Accepted]) -> dict[str, object]:
    """The 202 body of an upload: the first message's ids, the upload's items and status
    (DUPLICATE_MESSAGE only when every message was), and each message when there are several."""
    first, *rest = accepted
    if not rest:
        return first.as_dict()
    return {
        **first.as_dict(),
        "items": sum(one.items for one in accepted),
        "status": "DUPLICATE_MESSAGE" if all(one.duplicate for one in accepted) else "ACCEPTED",
        "messages": [one.as_dict() | _function(one.message_function) for one in accepted],
    }


def _function(function: MessageFunction | None) -> dict[str, object]:
    return {} if function is None else {"message_function": function.name.lower()}


def read_envelope(
    data: bytes, limits: XmlLimits, *, tree: etree._Element | None = None
) -> Envelope:
    """The message's envelope, or the message-level refusal as an AedexError; from `tree`
    when the caller has parsed `data` already (`parse_untrusted`, depth checked)."""
    if len(data) > limits.max_bytes:
        raise AedexError(
            Code.XML_TOO_LARGE.value,
            f"message is {len(data):,} bytes; the limit is {limits.max_bytes:,}",
            413,
        )
    try:
        envelope = inspect_envelope(data, limits) if tree is None else envelope_of_tree(tree)
    except MessageRejected as rejected:
        raise AedexError(
            rejected.code.value, rejected.message, _STATUS.get(rejected.code, 400)
        ) from None
    except AdapterError as error:
        raise AedexError(Code.XML_MALFORMED.value, error.message, 400) from None
    if envelope.item_count > limits.max_items:
        raise AedexError(
            Code.XML_TOO_LARGE.value,
            f"{envelope.item_count:,} items; the limit is {limits.max_items:,} per message",
            413,
        )
    missing = [
        name
        for name, value in (
            ("MessageId", envelope.message_id),
            ("SenderOperator", envelope.sender_operator),
        )
        if value is None
    ]
    if missing:
        raise AedexError(
            Code.MANDATORY_MISSING.value,
            f"Header/{' and Header/'.join(missing)} missing: the message cannot be identified",
            422,
        )
    return envelope


def check_sender(envelope: Envelope, operator: str) -> None:
    if envelope.sender_operator != operator:
        raise AedexError(
            Code.UNKNOWN_OPERATOR.value,
            f"SenderOperator {envelope.sender_operator!r} is not the operator of this key",
            403,
        )


async def accept_all(
    session: AsyncSession,
    *,
    messages: Sequence[Incoming],
    source: str,
    fingerprint: bytes | None = None,
) -> list[Accepted]:
    """Every message of one upload, in the caller's transaction: all are stored or none
    (a refusal of one rolls back the others), with one receipt time."""
    received_at = datetime.now(UTC)
    return [
        replace(
            await accept(
                session,
                data=message.data,
                envelope=message.envelope,
                source=source,
                received_at=received_at,
                fingerprint=fingerprint,
                locations=message.locations,
            ),
            message_function=message.message_function,
        )
        for message in messages
    ]


async def accept(
    session: AsyncSession,
    *,
    data: bytes,
    envelope: Envelope,
    source: str,
    received_at: datetime | None = None,
    fingerprint: bytes | None = None,
    locations: dict[str, Any] | None = None,
) -> Accepted:
    """Store the message in the inbox (the caller commits), or find it already there.

    Same sender and MessageId with the same bytes is a duplicate, accepted
    idempotently; with other bytes it is refused (MESSAGE_ID_REUSED, 409).
    `fingerprint` is what "the same message" means when `data` was converted
    from an upload (a manifest): the upload's bytes, not the conversion's.
    """
    assert envelope.sender_operator is not None and envelope.message_id is not None
    sha256 = hashlib.sha256(data if fingerprint is None else fingerprint).hexdigest()
    values = {
        "id": new_id(),
        "sender_operator": envelope.sender_operator,
        "message_id": envelope.message_id,
        "kind": envelope.message_type,
        "source": source,
        "sha256": sha256,
        "raw": data,
        "item_count": envelope.item_count,
        "status": InboxStatus.RECEIVED,
        "received_at": received_at or datetime.now(UTC),
        "publish_count": 0,
        "locations": locations,
    }
    existing = await _insert_or_find(session, values)
    if existing is None:
        return _accepted_new(values)
    if existing.sha256 != sha256:
        raise AedexError(
            Code.MESSAGE_ID_REUSED.value,
            f"MessageId {envelope.message_id!r} was already used by {envelope.sender_operator} "
            "for a different message; send a new MessageId (MessageFunction 5 to replace items)",
            409,
        )
    return _accepted(existing, duplicate=True)


async def _insert_or_find(session: AsyncSession, values: dict[str, Any]) -> InboxMessage | None:
    """Insert the row, or return the one stored under its sender and MessageId.

    One statement in the usual case: ON CONFLICT DO NOTHING needs neither a look-up
    first nor a savepoint to survive a duplicate (a race with a concurrent upload of
    the same message included). Retried once should the conflicting row vanish.
    """
    statement = _insert_new(session.get_bind().dialect.name)
    for _ in range(2):
        if await session.scalar(statement, values) is not None:
            return None
        existing = await _find(session, values["sender_operator"], values["message_id"])
        if existing is not None:
            return existing
    raise RuntimeError(f"inbox row {values['message_id']!r} neither inserted nor found")


@functools.cache
def _insert_new(dialect: str) -> ReturningInsert[uuid.UUID]:
    """The inbox insert of `dialect`, built once (its compiled form is cached)."""
    table = cast(Table, InboxMessage.__table__)
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        make(table)
        .on_conflict_do_nothing(index_elements=["sender_operator", "message_id"])
        .returning(table.c.id)
    )


async def _find(session: AsyncSession, sender: str, message_id: str) -> InboxMessage | None:
    found: InboxMessage | None = await session.scalar(
        select(InboxMessage).where(
            InboxMessage.sender_operator == sender, InboxMessage.message_id == message_id
        )
    )
    return found


def _accepted_new(values: dict[str, Any]) -> Accepted:
    """The receipt of a row just inserted, from its values (nothing is read back)."""
    return Accepted(
        inbox_id=values["id"],
        message_id=values["message_id"],
        sender_operator=values["sender_operator"],
        kind=values["kind"],
        items=values["item_count"],
        duplicate=False,
        received_at=values["received_at"],
    )


def _accepted(row: InboxMessage, *, duplicate: bool) -> Accepted:
    return Accepted(
        inbox_id=row.id,
        message_id=row.message_id,
        sender_operator=row.sender_operator,
        kind=row.kind,
        items=row.item_count,
        duplicate=duplicate,
        received_at=row.received_at,
    )
