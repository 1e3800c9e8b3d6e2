"""Validate stage: `aed.inbound` → item rows with findings → `aed.validated` / `aed.rejected`.

A record from the relay names its inbox row (`inbox-id` header). A record an
external producer put straight on `aed.inbound` has none: it is checked at
message level like an API upload, then stored in the inbox as source KAFKA,
so everything downstream treats both alike. What cannot be read as a message
at all goes to `aed.deadletter`.

Idempotent: an inbox row already PROCESSED is not validated again; its stored
items are re-emitted, so a crash between the commit and the produce loses
nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from aiokafka import ConsumerRecord
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.express.locations import relocate
from adapters.post.itmatt import Envelope
from messages.canonical import Item, item_key
from messages.check import MessageCheck, check_message
from messages.errors import MessageRejected
from messages.findings import Code, Finding
from messages.jsoncodec import encode_item_json
from messages.models import MessageFunction
from messages.xml import XmlLimits, parse_untrusted
from risk.parties import address_block, address_block_of
from service.db.base import aware
from service.db.chunks import chunks
from service.db.ids import new_id
from service.db.models import InboxMessage, InboxStatus, ItemRecord, ItemStatus
from service.errors import AedexError
from service.intake import accept, read_envelope
from service.settings import Settings
from service.stages import versions
from service.stages.runner import Outgoing, Stage, deadletter, header


class ValidateStage(Stage):
    name = "validate"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.limits = XmlLimits(max_bytes=settings.max_message_bytes)

    async def dead_lettered(
        self, session: AsyncSession, record: ConsumerRecord[bytes, bytes], error: str
    ) -> None:
        """A message that could not be validated is REFUSED and settled: the relay stops re-sending it."""
        inbox_id = header(record, "inbox-id")
        if inbox_id is None:
            return
        try:
            row = await session.get(InboxMessage, uuid.UUID(inbox_id))
        except ValueError:
            return
        if row is not None and row.status in (InboxStatus.RECEIVED, InboxStatus.PUBLISHED):
            row.status = InboxStatus.REFUSED
            row.processed_at = row.settled_at = datetime.now(UTC)
            row.error = {"stage": self.name, "error": error[:1000]}

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[Outgoing]:
        # Reads and checks first, writes last. The checking is the slow part, and SQLite
        # has one write lock for every process: a batch that wrote as it went held it
        # through its own reads and row building, and the API's inserts waited.
        now = datetime.now(UTC)
        stored = await self._stored_rows(session, records)
        jobs: list[_Job | None] = []
        for record in records:
            row = stored.get(header(record, "inbox-id") or "")
            if row is not None and row.status in (InboxStatus.PROCESSED, InboxStatus.REFUSED):
                jobs.append(None)
            elif row is not None:
                jobs.append(_Job(row.raw, aware(row.received_at), direct=False))
            else:
                jobs.append(_Job(record.value or b"", now, direct=True))
        # Off the event loop: a slice of big messages takes seconds to check, and the
        # consumer's heartbeats and fetches must go on meanwhile.
        await asyncio.to_thread(self._check_all, jobs)
        checks = [None if job is None else job.check for job in jobs]
        # Messages whose items no other message of the batch names are independent: their
        # versions can all be looked up before anything is written.
        ahead = await self._versions_ahead(session, records, stored, checks)
        writes = _Writes()
        validated: set[uuid.UUID] = set()
        outgoing: list[Outgoing] = []
        for record, job, check in zip(records, jobs, checks, strict=True):
            row = stored.get(header(record, "inbox-id") or "")
            if row is None:
                assert job is not None  # only a stored row can be done before
                found = await self._accept_direct(session, record, now, job.envelope)
                if isinstance(found, Outgoing):
                    outgoing.append(found)
                    continue
                inbox = found
            else:
                inbox = _Inbox.of_row(row)
            if inbox.id in validated or inbox.status in (
                InboxStatus.PROCESSED,
                InboxStatus.REFUSED,
            ):
                await writes.run(session)  # an earlier record of the batch may be this one
                outgoing += await self._replay(session, inbox.id)  # done before
                continue
            validated.add(inbox.id)
            # Phase 1 skipped only rows already processed, and a processed row stays so.
            assert check is not None
            if ahead is None:
                known, live = await self._versions(session, inbox, check)
            else:
                known, live = ahead
            outgoing += self._validate(inbox, check, known, live, writes)
            if ahead is None:
                await writes.run(session)  # the next message may amend these very items
        await writes.run(session)
        return outgoing

    def _check_all(self, jobs: list[_Job | None]) -> None:
        for job in jobs:
            if job is not None:
                job.run(self.limits)

    async def _stored_rows(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> dict[str, InboxMessage]:
        """The inbox rows the batch's records name (relay and API records carry `inbox-id`)."""
        ids: dict[str, uuid.UUID] = {}
        for record in records:
            named = header(record, "inbox-id")
            if named is not None:
                try:
                    ids[named] = uuid.UUID(named)
                except ValueError:
                    continue
        if not ids:
            return {}
        rows = await session.scalars(select(InboxMessage).where(InboxMessage.id.in_(ids.values())))
        return {str(row.id): row for row in rows}

    async def _versions_ahead(
        self,
        session: AsyncSession,
        records: list[ConsumerRecord[bytes, bytes]],
        stored: dict[str, InboxMessage],
        checks: list[MessageCheck | None],
    ) -> tuple[set[str], dict[str, str]] | None:
        """Every message's known and live versions, looked up before any write; None when
        a message of the batch depends on another (the same message twice, or an item id
        two messages name: a replacement right behind its original), which are then
        looked up message by message, each after the writes of the one before."""
        messages: set[tuple[str, str]] = set()
        named: dict[str, set[str]] = {}
        amended: dict[str, set[str]] = {}
        originals: dict[str, set[str]] = {}
        received: dict[str, datetime] = {}
        for record, check in zip(records, checks, strict=True):
            row = stored.get(header(record, "inbox-id") or "")
            if check is None or check.message is None:
                if row is None:
                    return None  # unreadable straight from Kafka: the slow path decides
                continue
            # As `_validate` will key them: the inbox row's operator (the envelope's,
            # trimmed as the decoder trims it, for a record straight from Kafka).
            header_sender = check.message.header.sender_operator or ""
            sender = row.sender_operator if row is not None else header_sender
            message = (sender, check.message.header.message_id or "")
            if message in messages:
                return None
            messages.add(message)
            # Every item the message names, refused ones too: a refused original is still
            # known (its replacement is the correction).
            seen = named.setdefault(sender, set())
            mine = {key for c in check.items if (key := item_key(c.declared.item_id))}
            if mine & seen:
                return None
            seen |= mine
            for item_check in check.items:
                item = item_check.item
                if item is not None:
                    group = amended if _amends(item) else originals
                    group.setdefault(sender, set()).add(item.item_id)
            # The earliest of the sender's messages: a year before it bounds "live" (the
            # batch's messages were received within seconds of each other).
            received[sender] = min(
                received.get(sender, datetime.max.replace(tzinfo=UTC)),
                aware(row.received_at) if row is not None else datetime.now(UTC),
            )
        known: set[str] = set()
        live: dict[str, str] = {}
        for sender, item_ids in amended.items():
            known |= {
                _version_key(sender, i) for i in await versions.known(session, sender, item_ids)
            }
        for sender, item_ids in originals.items():
            found = await versions.live(session, sender, item_ids, received[sender])
            live.update({_version_key(sender, i): m for i, m in found.items()})
        return known, live

    async def _versions(
        self, session: AsyncSession, inbox: _Inbox, check: MessageCheck
    ) -> tuple[set[str], dict[str, str]]:
        """`_versions_ahead` for one message, keyed the same way (operator, item id)."""
        sender = inbox.sender_operator
        items = [c.item for c in check.items if c.item is not None]
        known = await versions.known(session, sender, [i.item_id for i in items if _amends(i)])
        live = (
            {}
            if check.refused
            else await versions.live(
                session, sender, [i.item_id for i in items if not _amends(i)], inbox.received_at
            )
        )
        return {_version_key(sender, i) for i in known}, {
            _version_key(sender, i): m for i, m in live.items()
        }

    async def _accept_direct(
        self,
        session: AsyncSession,
        record: ConsumerRecord[bytes, bytes],
        now: datetime,
        envelope: Envelope | AedexError | None,
    ) -> _Inbox | Outgoing:
        """A record produced straight to Kafka enters the inbox as an API upload would."""
        data = record.value or b""
        try:
            if isinstance(envelope, AedexError):
                raise envelope
            if envelope is None:
                envelope = read_envelope(data, self.limits)
            accepted = await accept(
                session, data=data, envelope=envelope, source="KAFKA", received_at=now
            )
        except AedexError as error:
            return deadletter(self.settings, self.name, record, f"{error.code}: {error.detail}")
        if not accepted.duplicate:  # just inserted: nothing to read back
            return _Inbox(
                accepted.inbox_id, accepted.sender_operator, accepted.message_id,
                aware(accepted.received_at), None, InboxStatus.RECEIVED,
            )  # fmt: skip
        found = await session.get(InboxMessage, accepted.inbox_id)
        assert found is not None
        return _Inbox.of_row(found)

    def _validate(
        self,
        inbox: _Inbox,
        check: MessageCheck,
        known: set[str],
        live: dict[str, str],
        writes: _Writes,
    ) -> list[Outgoing]:
        """The message's item rows and records; the rows go to `writes`, nothing is written."""
        header_function = _message_function(check)
        sender = inbox.sender_operator
        items: list[dict[str, Any]] = []
        outgoing: list[Outgoing] = []
        for item_check in check.items:
            findings = (
                [*check.findings, *item_check.findings] if check.refused else item_check.findings
            )
            item = item_check.item
            function = item.message_function if item is not None else header_function
            # Stored as the canonical item is keyed (trimmed, upper case), so versions of
            # "1234abc" and "1234ABC" are one item in `known`, `live` and `supersede`.
            item_id = item_key(item_check.declared.item_id) or f"?{item_check.index}"
            # A version refused below keeps its place among the item's versions (event time).
            version = item.version if item is not None else 0
            versions_key = _version_key(sender, item.item_id) if item is not None else ""
            if item is not None and _amends(item):
                if versions_key not in known:
                    findings = [*findings, _cancel_unknown(item_check.index, function)]
                    item = None
            elif item is not None and not check.refused:
                if versions_key in live:
                    findings = [*findings, _item_id_reused(item_check.index, live[versions_key])]
                    item = None
            rejected = item is None or check.refused
            # Encoded once: the stored column and the record carry these very bytes.
            encoded = None if rejected or item is None else encode_item_json(item)
            fields: dict[str, Any] = {
                "id": new_id(),
                "inbox_id": inbox.id,
                "position": item_check.index,
                "item_id": item_id[:35],
                "sender_operator": sender,
                "message_id": inbox.message_id,
                "message_function": int(function),
                "version": version,
                "status": ItemStatus.REJECTED
                if rejected
                else ItemStatus.CANCELLED
                if function == MessageFunction.CANCEL
                else ItemStatus.ACCEPTED,
                "canonical": None if encoded is None else orjson.Fragment(encoded),
                # A converted manifest's findings name its own places, not the CUSITM's.
                "findings": relocate(inbox.locations, [f.as_dict() for f in findings]),
                "received_at": inbox.received_at,
                "sender_key": item.sender_key[:200] if item is not None else None,
                "addressee_key": item.addressee_key[:200] if item is not None else None,
            }
            items.append(fields)
            if encoded is not None and item is not None:
                outgoing.append(self._emit(fields, encoded, _door(item, fields["item_id"])))
            else:
                outgoing.append(self._emit(fields))
        processed_at = datetime.now(UTC)
        writes.items += items
        writes.superseding.setdefault(sender, []).extend(
            i for i in items if i["status"] != ItemStatus.REJECTED
        )
        writes.inbox.append(
            {
                "b_id": inbox.id,
                "b_status": InboxStatus.REFUSED if check.refused else InboxStatus.PROCESSED,
                "b_processed_at": processed_at,
                "b_settled_at": None if items else processed_at,  # nothing to answer
                "b_error": {
                    "findings": relocate(inbox.locations, [f.as_dict() for f in check.findings])
                }
                if check.refused
                else None,
            }
        )
        return outgoing

    async def _replay(self, session: AsyncSession, inbox_id: uuid.UUID) -> list[Outgoing]:
        columns = [_ITEMS.c[name] for name in _EMITTED]
        rows = await session.execute(
            select(*columns).where(_ITEMS.c.inbox_id == inbox_id).order_by(_ITEMS.c.position)
        )
        return [self._emit(dict(item._mapping)) for item in rows]

    def _emit(
        self, item: dict[str, Any], encoded: bytes | None = None, key: bytes | None = None
    ) -> Outgoing:
        """The item's record: to `aed.validated` with what the assess stage needs in its
        headers (so it reads no row), or to `aed.rejected` with the findings."""
        topics = self.settings.topics
        headers = [
            ("item-row-id", str(item["id"]).encode()),
            ("message-function", str(item["message_function"]).encode()),
        ]
        canonical = item["canonical"]
        if item["status"] == ItemStatus.REJECTED or canonical is None:
            body: dict[str, Any] = {
                "item_row_id": str(item["id"]),
                "item_id": item["item_id"],
                "sender_operator": item["sender_operator"],
                "message_id": item["message_id"],
                "findings": item["findings"],
            }
            return Outgoing(topics.rejected, item["item_id"].encode(), orjson.dumps(body), headers)
        headers += [
            ("inbox-id", str(item["inbox_id"]).encode()),
            ("item-id", item["item_id"].encode()),
            ("sender-operator", item["sender_operator"].encode()),
            ("message-id", item["message_id"].encode()),
        ]
        if encoded is None:  # re-emitted from the stored row
            encoded, key = orjson.dumps(canonical), _partition_key(canonical, item["item_id"])
        return Outgoing(topics.validated, key, encoded, headers)


_ITEMS = cast(Table, ItemRecord.__table__)
_INBOX = cast(Table, InboxMessage.__table__)
#: One cached statement for every message's new status (executemany). A settled time
#: or an error already there is kept.
_SET_STATUS = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        processed_at=bindparam("b_processed_at", type_=_INBOX.c.processed_at.type),
        settled_at=func.coalesce(
            bindparam("b_settled_at", type_=_INBOX.c.settled_at.type), _INBOX.c.settled_at
        ),
        error=func.coalesce(bindparam("b_error", type_=_INBOX.c.error.type), _INBOX.c.error),
    )
)
#: The columns `_emit` reads, for re-emitting a processed message's items.
_EMITTED = (
    "id", "inbox_id", "item_id", "sender_operator", "message_id", "message_function",
    "status", "canonical", "findings",
)  # fmt: skip


def _version_key(sender: str, item_id: str) -> str:
    """How `known` and `live` are keyed across the operators of a batch."""
    return f"{sender}\0{item_id}"


def _amends(item: Item) -> bool:
    """A replacement or cancellation: it needs an earlier version to amend."""
    return item.message_function in (MessageFunction.CANCEL, MessageFunction.REPLACE)


def _door(item: Item, item_id: str) -> bytes:
    """`_partition_key` of the canonical item itself (the same key, no JSON to read)."""
    block = address_block(item.addressee)
    if block is not None:
        return block.encode()
    return (item.addressee_key or item_id).encode()


def _partition_key(canonical: dict[str, Any], item_id: str) -> bytes:
    """The addressee's door (risk.parties.address_block), else its key: every spelling of
    one addressee lands on one assess partition, so its party windows are whole."""
    addressee = canonical.get("addressee")
    if isinstance(addressee, dict):
        block = address_block_of(addressee)
        if block is not None:
            return block.encode()
    return str(canonical.get("addressee_key") or item_id).encode()


def _message_function(check: MessageCheck) -> MessageFunction:
    if check.message is not None and check.message.header.message_function is not None:
        return check.message.header.message_function
    return MessageFunction.ORIGINAL


def _cancel_unknown(index: int, function: MessageFunction) -> Finding:
    what = "cancellation" if function == MessageFunction.CANCEL else "replacement"
    return Finding.of(
        Code.CANCEL_UNKNOWN,
        f"Item[{index}]/ItemId",
        f"{what} of an item never received from this operator",
    )


def _item_id_reused(index: int, live_message_id: str) -> Finding:
    return Finding.of(
        Code.ITEM_ID_REUSED,
        f"Item[{index}]/ItemId",
        f"an ORIGINAL (MessageFunction 9) for an item this operator already has live, from "
        f"message {live_message_id}: send a replacement (MessageFunction 5) or cancel it first",
    )


@dataclass(frozen=True, slots=True)
class _Inbox:
    """What validating a message needs of its inbox row (read, or just inserted)."""

    id: uuid.UUID
    sender_operator: str
    message_id: str
    received_at: datetime
    locations: dict[str, Any] | None
    status: str

    @classmethod
    def of_row(cls, row: InboxMessage) -> _Inbox:
        return cls(
            row.id, row.sender_operator, row.message_id, aware(row.received_at),
            row.locations, row.status,
        )  # fmt: skip


@dataclass(slots=True)
class _Writes:
    """The rows a batch has built and not yet written: written together, in a few
    statements, so the write lock is held for the writing only."""

    items: list[dict[str, Any]] = field(default_factory=list)
    superseding: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    inbox: list[dict[str, Any]] = field(default_factory=list)

    async def run(self, session: AsyncSession) -> None:
        for part in chunks(self.items):
            await session.execute(insert(_ITEMS), list(part))
        for sender, rows in self.superseding.items():
            await versions.supersede(session, sender, rows)
        for part in chunks(self.inbox):
            await session.execute(_SET_STATUS, list(part))
        self.items, self.superseding, self.inbox = [], {}, []


@dataclass(slots=True)
class _Job:
    """One message to check off the event loop. A record straight from Kafka needs its
    envelope too (to enter the inbox): both come from one parse."""

    data: bytes
    received_at: datetime
    direct: bool
    check: MessageCheck | None = None
    #: The envelope of a direct record, or its refusal; None when it was not read here.
    envelope: Envelope | AedexError | None = None

    def run(self, limits: XmlLimits) -> None:
        tree = None
        if self.direct:
            try:
                tree = parse_untrusted(self.data, limits)
                self.envelope = read_envelope(self.data, limits, tree=tree)
            except MessageRejected:
                tree = None  # refused at parse: `check_message` and the envelope say why
            except AedexError as refused:
                self.envelope = refused
        self.check = check_message(
            self.data, received_at=self.received_at, limits=limits, tree=tree
        )
