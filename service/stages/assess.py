"""Assess stage: `aed.validated` → risk engine → assessment rows → `aed.assessed`.

One assessment per item row (unique): a redelivered item re-emits the stored
assessment instead of scoring again. The batch is scored with
`Engine.assess_many` message by message, so the parts of a split order in one
message see each other and a later message never changes an earlier one.
A cancellation is not scored; it is passed on for the respond stage to
acknowledge.

The active ruleset comes from the database and is switched at a batch
boundary (service.governance.live). Each hit is also stored as a row
(`assessment_hits`) for per-rule statistics. A shadow version, when one
runs, scores the same items with the same windows; its decisions go to
`shadow_assessments` only and never onto `aed.assessed`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import structlog
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import TypeAdapter
from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages.canonical import Item
from messages.jsoncodec import decode_item_json
from messages.models import MessageFunction
from risk import Assessment as Scored
from risk.parties import address_block
from service.db.chunks import chunks
from service.db.ids import new_id
from service.db.models import Assessment, AssessmentHit, ItemRecord, ItemStatus, ShadowAssessment
from service.governance.live import Live, LiveRulesets
from service.settings import Settings
from service.stages.runner import Outgoing, Stage, header
from service.stages.windows import PersistentWindows

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ItemRef:
    """What the stage needs of an item row; the validate stage sends it in the record's
    headers, so the row is not read again (older records without them are read)."""

    id: uuid.UUID
    inbox_id: uuid.UUID
    item_id: str
    sender_operator: str
    message_id: str
    message_function: int

    @classmethod
    def of_row(cls, row: ItemRecord) -> ItemRef:
        return cls(
            row.id, row.inbox_id, row.item_id, row.sender_operator, row.message_id,
            row.message_function,
        )  # fmt: skip

    @classmethod
    def of_headers(cls, record: ConsumerRecord[bytes, bytes]) -> ItemRef | None:
        found = {name: value for name, value in record.headers if name in _REF_HEADERS}
        if len(found) < len(_REF_HEADERS):
            return None
        return cls(
            uuid.UUID(found["item-row-id"].decode()),
            uuid.UUID(found["inbox-id"].decode()),
            found["item-id"].decode(),
            found["sender-operator"].decode(),
            found["message-id"].decode(),
            int(found["message-function"]),
        )


_REF_HEADERS = frozenset(
    {"item-row-id", "inbox-id", "item-id", "sender-operator", "message-id", "message-function"}
)
_ASSESSMENTS = cast(Table, Assessment.__table__)


def _body(ref: ItemRef, kind: str) -> dict[str, Any]:
    """What every `aed.assessed` record says about its item."""
    return {
        "kind": kind,
        "item_row_id": str(ref.id),
        "item_id": ref.item_id,
        "sender_operator": ref.sender_operator,
        "message_id": ref.message_id,
    }


class AssessStage(Stage):
    name = "assess"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.rulesets = LiveRulesets(settings)
        self.windows = PersistentWindows()

    @property
    def ruleset_label(self) -> str | None:
        """What the worker scores with now ("default 2026.12.2"), for its heartbeat."""
        live = self.rulesets.current
        if live is None:
            return None
        return live.label + (f"; shadow {live.shadow_label}" if live.shadow else "")

    async def start(self, bootstrap: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.rulesets.start_listening(bootstrap, sessions)

    async def close(self) -> None:
        await self.rulesets.close()

    async def on_assigned(
        self, sessions: async_sessionmaker[AsyncSession], partitions: set[TopicPartition]
    ) -> None:
        windows = PersistentWindows()
        async with sessions() as session:
            loaded = await windows.load(session)
        self.windows = windows
        log.info("windows loaded", rows=loaded, partitions=len(partitions))

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[Outgoing]:
        # A batch boundary: the one place the ruleset may change (whole, never half).
        live = await self.rulesets.refresh(session)
        refs = await self._refs(session, records)
        done = await self._stored(session, [ref.id for ref in refs])
        outgoing: list[Outgoing] = []
        to_score: list[tuple[ItemRef, Any, dict[str, Any]]] = []
        in_batch: set[uuid.UUID] = set()
        for record, ref in zip(records, refs, strict=True):
            if ref.id in in_batch:
                continue  # a re-sent message can put one item in a batch twice: score it once
            in_batch.add(ref.id)
            if ref.message_function == MessageFunction.CANCEL and ref.id not in done:
                outgoing.append(self._cancellation(ref))
                continue
            item = decode_item_json(record.value or b"")
            if ref.id in done:
                outgoing.append(self._emit(done[ref.id], ref, _queue_fields(item)))
            else:
                to_score.append((ref, item, _queue_fields(item)))
        if to_score:
            try:
                outgoing += await self._score(session, to_score, live)
            except BaseException:
                self.windows.discard_pending()
                raise
        return outgoing

    async def _refs(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[ItemRef]:
        """Each record's item, from its headers, or from its row when it has none."""
        refs = [ItemRef.of_headers(record) for record in records]
        missing = [
            uuid.UUID(header(record, "item-row-id") or "")
            for record, ref in zip(records, refs, strict=True)
            if ref is None
        ]
        if not missing:
            return [ref for ref in refs if ref is not None]
        rows = {
            row.id: ItemRef.of_row(row)
            for part in chunks(missing)
            for row in await session.scalars(select(ItemRecord).where(ItemRecord.id.in_(part)))
        }
        found: list[ItemRef] = []
        for record, ref in zip(records, refs, strict=True):
            if ref is None:
                row_id = uuid.UUID(header(record, "item-row-id") or "")
                if row_id not in rows:
                    raise LookupError(f"item row {row_id} not in the database")
                ref = rows[row_id]
            found.append(ref)
        return found

    async def _stored(
        self, session: AsyncSession, row_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """Assessments already stored for these rows (a redelivery re-emits them)."""
        stored: dict[uuid.UUID, dict[str, Any]] = {}
        for part in chunks(sorted(set(row_ids))):
            rows = await session.execute(_STORED, {"row_ids": list(part)})
            stored.update({row.item_row_id: dict(row._mapping) for row in rows})
        return stored

    async def _score(
        self, session: AsyncSession, batch: list[tuple[ItemRef, Any, dict[str, Any]]], live: Live
    ) -> list[Outgoing]:
        engines = [live.active] + ([live.shadow] if live.shadow is not None else [])
        if any(engine.ruleset.stateful for engine in engines):
            await self._observe_siblings(session, batch)
        # Message by message, in arrival order, as `aedex assess` does: an item sees its
        # own message whole and the messages before it, never a later one that happens to
        # share the batch (the decision must not depend on how records were batched).
        # The shadow scores each message right after the active version, against the same
        # windows (observing is idempotent and nothing is learned), so it sees what it saw.
        results: list[Scored] = []
        shadowed: list[Scored] = []
        for run in _by_message(batch):
            items = [item for _, item, _ in run]
            results += live.active.assess_many(items, self.windows)
            if live.shadow is not None:
                shadowed += live.shadow.assess_many(items, self.windows)
        now = datetime.now(UTC)
        stored = [
            {**_decision_row(ref, result, now), "skipped": list(result.skipped)}
            for (ref, _, _), result in zip(batch, results, strict=True)
        ]
        for part in chunks(stored):
            await session.execute(insert(_ASSESSMENTS), list(part))
        hits = _hit_rows(batch, results, now, shadow=False)
        if shadowed:
            hits += _hit_rows(batch, shadowed, now, shadow=True)
            await _store_shadow(session, batch, shadowed, now)
        for part in chunks(hits):
            await session.execute(insert(_HITS), list(part))
        for ids in chunks([ref.id for ref, _, _ in batch]):
            await session.execute(
                update(_ITEMS)
                .where(_ITEMS.c.id.in_(ids), _ITEMS.c.status == ItemStatus.ACCEPTED)
                .values(status=ItemStatus.ASSESSED)
            )
        await self.windows.flush(session)
        return [
            self._emit(assessment, ref, queue)
            for assessment, (ref, _, queue) in zip(stored, batch, strict=True)
        ]

    async def _observe_siblings(self, session: AsyncSession, batch: list[_Scored]) -> None:
        """Observe the not yet assessed items of the batch's messages that share a window
        with an item of the batch: the same addressee (key, or door: risk.parties), or,
        for gifts, the same sender. A batch can end inside a message (a backlog longer
        than `batch_max_records`); the parts of a split order must still see each other,
        as they do offline (`aedex assess` observes a whole message first). Observing is
        idempotent per item, so they are observed again when they come."""
        in_batch = {ref.id for ref, _, _ in batch}
        inboxes = {ref.inbox_id for ref, _, _ in batch}
        keys = {item.addressee_key for _, item, _ in batch}
        doors = {block for _, item, _ in batch if (block := address_block(item.addressee))}
        postcodes = {item.addressee.postcode for _, item, _ in batch if item.addressee.postcode}
        gift_senders = {item.sender_key for _, item, _ in batch if item.category == "GIFT"}
        siblings = await session.execute(
            _SIBLINGS,
            {
                "inboxes": list(inboxes),
                "in_batch": list(in_batch),
                "keys": list(keys),
                "postcodes": list(postcodes),
                "gift_senders": list(gift_senders),
            },
        )
        for _, key, canonical in siblings:
            if canonical is None:
                continue
            item = decode_item_json(orjson.dumps(canonical))
            if (
                key in keys
                or address_block(item.addressee) in doors
                or (item.category == "GIFT" and item.sender_key in gift_senders)
            ):
                self.windows.observe(item)

    def _emit(self, assessment: dict[str, Any], ref: ItemRef, queue: dict[str, Any]) -> Outgoing:
        return self._record(
            ref,
            {
                **_body(ref, "assessment"),
                "ruleset": f"{assessment['ruleset']} {assessment['ruleset_version']}",
                "score": assessment["score"],
                "action": assessment["action"],
                "security_action": assessment["security_action"],
                "hits": assessment["hits"],
                **queue,
            },
        )

    def _cancellation(self, ref: ItemRef) -> Outgoing:
        return self._record(ref, _body(ref, "cancellation"))

    def _record(self, ref: ItemRef, body: dict[str, Any]) -> Outgoing:
        return Outgoing(
            self.settings.topics.assessed,
            ref.item_id.encode(),
            orjson.dumps(body),
            [("item-row-id", str(ref.id).encode())],
        )


_Scored = tuple[ItemRef, Any, dict[str, Any]]
#: Times as the canonical JSON writes them (pydantic's form), for the queue's fields.
_TIME = TypeAdapter(datetime | None)


def _queue_fields(item: Item) -> dict[str, Any]:
    """What the review queue filters and sorts by (service.stages.respond), read from the
    decoded item: the record is not parsed a second time for three values."""
    return {
        "origin": item.sender.country,
        "received_at": _TIME.dump_python(item.received_at, mode="json"),
        "expected_arrival": _TIME.dump_python(item.expected_arrival, mode="json"),
    }


_ITEMS = cast(Table, ItemRecord.__table__)
_HITS = cast(Table, AssessmentHit.__table__)
_SHADOW = cast(Table, ShadowAssessment.__table__)


def _decision_row(ref: ItemRef, result: Scored, at: datetime) -> dict[str, Any]:
    """What an assessment row (or a shadow one) stores of a decision, with every hit."""
    return {
        "id": new_id(),
        "item_row_id": ref.id,
        "item_id": ref.item_id,
        "ruleset": result.ruleset,
        "ruleset_version": result.ruleset_version,
        "score": result.score,
        "action": result.action,
        "security_action": result.security_action,
        "hits": [
            {**hit.as_dict(), "action": hit.action, "title": hit.title, "tags": list(hit.tags)}
            for hit in result.hits
        ],
        "assessed_at": at,
    }


def _hit_rows(
    batch: list[_Scored], results: list[Scored], at: datetime, *, shadow: bool
) -> list[dict[str, Any]]:
    """One row per hit: what per-rule statistics count."""
    return [
        {
            "item_row_id": ref.id,
            "item_id": ref.item_id,
            "ruleset": result.ruleset,
            "ruleset_version": result.ruleset_version,
            "rule": hit.rule,
            "axis": hit.axis,
            "score": hit.score,
            "action": hit.action,
            "shadow": shadow,
            "assessed_at": at,
        }
        for (ref, _, _), result in zip(batch, results, strict=True)
        for hit in result.hits
    ]


async def _store_shadow(
    session: AsyncSession, batch: list[_Scored], results: list[Scored], at: datetime
) -> None:
    """The shadow's decisions, apart: nothing here reaches a topic, a queue or an operator."""
    rows = [
        _decision_row(ref, result, at) for (ref, _, _), result in zip(batch, results, strict=True)
    ]
    for part in chunks(rows):
        await session.execute(insert(_SHADOW), list(part))


#: The columns `_emit` reads of a stored assessment.
_EMITTED = (
    "item_row_id",
    "ruleset",
    "ruleset_version",
    "score",
    "action",
    "security_action",
    "hits",
)


def _by_message(batch: list[_Scored]) -> list[list[_Scored]]:
    """Consecutive runs of the batch's items that came in one message (inbox row)."""
    runs: list[list[_Scored]] = []
    for entry in batch:
        if runs and runs[-1][0][0].inbox_id == entry[0].inbox_id:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return runs


# Built once: a statement built per batch cost more in SQLAlchemy's construction and
# cache-key walk than in the database (a few ms per batch, most of a small batch's time).
_ADDRESSEE = ItemRecord.canonical["addressee_key"].as_string()
_POSTCODE = ItemRecord.canonical["addressee"]["postcode"].as_string()
#: The not yet assessed items of the batch's messages that may share a window with it.
_SIBLINGS = select(ItemRecord.inbox_id, _ADDRESSEE, ItemRecord.canonical).where(
    ItemRecord.inbox_id.in_(bindparam("inboxes", expanding=True)),
    ItemRecord.id.not_in(bindparam("in_batch", expanding=True)),
    ItemRecord.status == ItemStatus.ACCEPTED,
    ItemRecord.message_function != MessageFunction.CANCEL,
    or_(
        _ADDRESSEE.in_(bindparam("keys", expanding=True)),
        _POSTCODE.in_(bindparam("postcodes", expanding=True)),
        ItemRecord.sender_key.in_(bindparam("gift_senders", expanding=True)),
    ),
)
#: The assessments already stored for some item rows.
_STORED = select(*(_ASSESSMENTS.c[name] for name in _EMITTED)).where(
    _ASSESSMENTS.c.item_row_id.in_(bindparam("row_ids", expanding=True))
)
