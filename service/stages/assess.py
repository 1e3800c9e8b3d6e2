"""Assess stage: `aed.validated` → risk engine → assessment rows → `aed.assessed`.

One assessment per item row (unique): a redelivered item re-emits the stored
assessment instead of scoring again. The batch is scored with
`Engine.assess_many` message by message, so the parts of a split order in one
message see each other and a later message never changes an earlier one.
A cancellation is not scored; it is passed on for the respond stage to
acknowledge.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import structlog
from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages.jsoncodec import decode_item_json
from messages.models import MessageFunction
from risk import Engine, default_ruleset, load_ruleset
from risk.parties import address_block
from service.db.models import Assessment, ItemRecord, ItemStatus
from service.settings import Settings
from service.stages.runner import Outgoing, Stage, header
from service.stages.windows import PersistentWindows

log = structlog.get_logger(__name__)


def _body(row: ItemRecord, kind: str) -> dict[str, Any]:
    """What every `aed.assessed` record says about its item."""
    return {
        "kind": kind,
        "item_row_id": str(row.id),
        "item_id": row.item_id,
        "sender_operator": row.sender_operator,
        "message_id": row.message_id,
    }


class AssessStage(Stage):
    name = "assess"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        ruleset = (
            load_ruleset(settings.ruleset_path) if settings.ruleset_path else default_ruleset()
        )
        self.engine = Engine(ruleset)
        self.windows = PersistentWindows()

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
        row_ids = [uuid.UUID(header(r, "item-row-id") or "") for r in records]
        rows = {
            row.id: row
            for row in await session.scalars(select(ItemRecord).where(ItemRecord.id.in_(row_ids)))
        }
        done = {
            a.item_row_id: a
            for a in await session.scalars(
                select(Assessment).where(Assessment.item_row_id.in_(row_ids))
            )
        }
        outgoing: list[Outgoing] = []
        to_score: list[tuple[ItemRecord, Any]] = []
        in_batch: set[uuid.UUID] = set()
        for record, row_id in zip(records, row_ids, strict=True):
            row = rows.get(row_id)
            if row is None:
                raise LookupError(f"item row {row_id} not in the database")
            if row_id in in_batch:
                continue  # a re-sent message can put one item in a batch twice: score it once
            in_batch.add(row_id)
            if row_id in done:
                outgoing.append(self._emit(done[row_id], row))
            elif row.message_function == MessageFunction.CANCEL:
                outgoing.append(self._cancellation(row))
            else:
                to_score.append((row, decode_item_json(record.value or b"")))
        if to_score:
            try:
                outgoing += await self._score(session, to_score)
            except BaseException:
                self.windows.discard_pending()
                raise
        return outgoing

    async def _score(
        self, session: AsyncSession, batch: list[tuple[ItemRecord, Any]]
    ) -> list[Outgoing]:
        if self.engine.ruleset.stateful:
            await self._observe_siblings(session, batch)
        # Message by message, in arrival order, as `aedex assess` does: an item sees its
        # own message whole and the messages before it, never a later one that happens to
        # share the batch (the decision must not depend on how records were batched).
        results = []
        for run in _by_message(batch):
            results += self.engine.assess_many([item for _, item in run], self.windows)
        stored: list[tuple[Assessment, ItemRecord]] = []
        for (row, _), result in zip(batch, results, strict=True):
            assessment = Assessment(
                id=uuid.uuid4(),
                item_row_id=row.id,
                item_id=row.item_id,
                ruleset=result.ruleset,
                ruleset_version=result.ruleset_version,
                score=result.score,
                action=result.action,
                security_action=result.security_action,
                hits=[
                    {
                        **hit.as_dict(),
                        "action": hit.action,
                        "title": hit.title,
                        "tags": list(hit.tags),
                    }
                    for hit in result.hits
                ],
                skipped=list(result.skipped),
            )
            session.add(assessment)
            stored.append((assessment, row))
        await session.execute(
            update(ItemRecord)
            .where(ItemRecord.id.in_([row.id for row, _ in batch]))
            .where(ItemRecord.status == ItemStatus.ACCEPTED)
            .values(status=ItemStatus.ASSESSED)
        )
        await self.windows.flush(session)
        await session.flush()
        return [self._emit(assessment, row) for assessment, row in stored]

    async def _observe_siblings(
        self, session: AsyncSession, batch: list[tuple[ItemRecord, Any]]
    ) -> None:
        """Observe the not yet assessed items of the batch's messages that share a window
        with an item of the batch: the same addressee (key, or door: risk.parties), or,
        for gifts, the same sender. A batch can end inside a message (a backlog longer
        than `batch_max_records`); the parts of a split order must still see each other,
        as they do offline (`aedex assess` observes a whole message first). Observing is
        idempotent per item, so they are observed again when they come."""
        in_batch = {row.id for row, _ in batch}
        inboxes = {row.inbox_id for row, _ in batch}
        keys = {item.addressee_key for _, item in batch}
        doors = {block for _, item in batch if (block := address_block(item.addressee))}
        postcodes = {item.addressee.postcode for _, item in batch if item.addressee.postcode}
        gift_senders = {item.sender_key for _, item in batch if item.category == "GIFT"}
        addressee = ItemRecord.canonical["addressee_key"].as_string()
        postcode = ItemRecord.canonical["addressee"]["postcode"].as_string()
        siblings = await session.execute(
            select(ItemRecord.inbox_id, addressee, ItemRecord.canonical).where(
                ItemRecord.inbox_id.in_(inboxes),
                ItemRecord.id.not_in(in_batch),
                ItemRecord.status == ItemStatus.ACCEPTED,
                ItemRecord.message_function != MessageFunction.CANCEL,
                or_(
                    addressee.in_(keys),
                    postcode.in_(postcodes),
                    ItemRecord.sender_key.in_(gift_senders),
                ),
            )
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

    def _emit(self, assessment: Assessment, row: ItemRecord) -> Outgoing:
        return self._record(
            row,
            {
                **_body(row, "assessment"),
                "ruleset": f"{assessment.ruleset} {assessment.ruleset_version}",
                "score": assessment.score,
                "action": assessment.action,
                "security_action": assessment.security_action,
                "hits": assessment.hits,
                # What the review queue filters and sorts by (service.stages.respond).
                "origin": ((row.canonical or {}).get("sender") or {}).get("country"),
                "received_at": (row.canonical or {}).get("received_at"),
                "expected_arrival": (row.canonical or {}).get("expected_arrival"),
            },
        )

    def _cancellation(self, row: ItemRecord) -> Outgoing:
        return self._record(row, _body(row, "cancellation"))

    def _record(self, row: ItemRecord, body: dict[str, Any]) -> Outgoing:
        return Outgoing(
            self.settings.topics.assessed,
            row.item_id.encode(),
            orjson.dumps(body),
            [("item-row-id", str(row.id).encode())],
        )


def _by_message(batch: list[tuple[ItemRecord, Any]]) -> list[list[tuple[ItemRecord, Any]]]:
    """Consecutive runs of the batch's items that came in one message (inbox row)."""
    runs: list[list[tuple[ItemRecord, Any]]] = []
    for entry in batch:
        if runs and runs[-1][0][0].inbox_id == entry[0].inbox_id:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return runs
