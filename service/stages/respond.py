"""Respond stage: assessments, rejections and cancellations → CUSRSP rows → `aed.responses`.

Per item (DESIGN.md §3, §6): REJECTED with every finding (each with its
severity); otherwise the fiscal decision (RELEASE under the first band, else
that band's action, which also opens a review task for an officer), in the
same CUSRSP after the SECURITY response when a security rule hit; a
cancellation is acknowledged as CANCELLED. Each response has
a unique `dedupe_key`, so a redelivered record re-sends the stored CUSRSP and
never stores a second one.

Operators never see risk scores or rule hits: a response's reasons say what
the operator must do, not why the item was selected.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from aiokafka import ConsumerRecord
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from messages.codec import encode_cusrsp
from messages.codelists import DECISIONS
from messages.models import CusrspHeader, CusrspMessage, ResponseError
from messages.models import Response as CusrspResponse
from service.db.chunks import chunks
from service.db.models import Response, ReviewTask
from service.db.ordering import lock_response_order
from service.stages.runner import Outgoing, Stage
from service.stages.settlement import is_answer, settle_answered

#: What the operator is told per decision (never the rule that fired).
GUIDANCE = {
    "RELEASE": None,
    "DOCUMENTS_REQUIRED": "Send the invoice or other proof of the declared value and contents.",
    "INSPECT": "The item will be examined on arrival.",
    "HOLD": "The item is detained on arrival pending review by Customs.",
    "SCREEN": "High-risk screening is required before the item is loaded.",
    "DO_NOT_LOAD": "The item must not be loaded.",
    "CANCELLED": "Cancellation acknowledged: the item is withdrawn.",
    "REJECTED": "Correct the errors and resend the item with MessageFunction 5.",
}


_RESPONSES = cast(Table, Response.__table__)
_TASKS = cast(Table, ReviewTask.__table__)
#: Built once, run with many parameter sets (an executemany per chunk).
_ADD_RESPONSES = insert(_RESPONSES)
_ADD_TASKS = insert(_TASKS)
#: What a re-sent CUSRSP needs of its stored row, and what settling needs.
_SENT = (
    _RESPONSES.c.dedupe_key,
    _RESPONSES.c.item_row_id,
    _RESPONSES.c.item_id,
    _RESPONSES.c.recipient_operator,
    _RESPONSES.c.decision,
    _RESPONSES.c.security_decision,
    _RESPONSES.c.xml,
)
# Statements built once and run with parameters: built per batch, SQLAlchemy's
# construction and cache-key walk cost more than the query (most of a small batch).
_STORED = select(*_SENT).where(_RESPONSES.c.dedupe_key.in_(bindparam("keys", expanding=True)))
_OPEN_TASKS = select(_TASKS.c.item_row_id).where(
    _TASKS.c.item_row_id.in_(bindparam("rows", expanding=True))
)


@dataclass(frozen=True, slots=True)
class _Planned:
    """An answer to send, before its CUSRSP is built: built only if not stored already."""

    body: dict[str, Any]
    what: str
    decision: str
    findings: list[Any] | None = None
    security: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"{self.body['item_row_id']}:{self.what}"


class RespondStage(Stage):
    name = "respond"

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[Outgoing]:
        """Store each record's CUSRSP (and review task) unless stored, then (re-)send it.

        Rows are written through Core, one executemany per table: ORM objects cost
        more CPU than the CUSRSP itself, and the ORM inserts autoincrement rows one by one.
        """
        planned: dict[str, _Planned] = {}
        tasks: dict[uuid.UUID, dict[str, Any]] = {}
        keys: list[str] = []
        for record in records:
            body = orjson.loads(record.value or b"")
            one = self._plan(record.topic, body)
            keys.append(one.dedupe_key)
            planned[one.dedupe_key] = one
            if one.what == "fiscal" and (one.decision != "RELEASE" or one.security):
                task = _task(body)
                tasks[task["item_row_id"]] = task
        stored = await _stored(session, list(planned))
        fresh = {key: self._values(one) for key, one in planned.items() if key not in stored}
        if fresh:
            await lock_response_order(session)
            await _insert(session, _ADD_RESPONSES, list(fresh.values()))
        if tasks:
            await _insert_tasks(session, tasks)
        final = {**fresh, **stored}
        # Replays are checked too: two workers answering a message's last items
        # concurrently may each miss the other's answer; the re-publish heals it.
        await settle_answered(
            session,
            {r["item_row_id"] for k, r in final.items() if r["item_row_id"] and is_answer(k)},
        )
        return [self._emit(final[key]) for key in dict.fromkeys(keys)]

    def _plan(self, topic: str, body: dict[str, Any]) -> _Planned:
        if topic == self.settings.topics.rejected:
            return _Planned(body, "rejected", "REJECTED", findings=body["findings"])
        if body["kind"] == "cancellation":
            return _Planned(body, "cancelled", "CANCELLED")
        return _Planned(body, "fiscal", body["action"], security=body.get("security_action"))

    def _values(self, planned: _Planned) -> dict[str, Any]:
        """One CUSRSP for one answer; a security decision travels first in the same message
        (DESIGN.md §3), so a carrier reads "do not load" before it reads the fiscal outcome."""
        body, decision, security = planned.body, planned.decision, planned.security
        now = datetime.now(UTC)
        parts = [security, decision] if security else [decision]
        return cusrsp_values(
            dedupe_key=planned.dedupe_key,
            customs_office=self.settings.customs_office,
            recipient=body["sender_operator"],
            item_row_id=uuid.UUID(body["item_row_id"]),
            item_id=body["item_id"],
            in_reply_to=body["message_id"],
            decision=decision,
            security=security,
            now=now,
            answers=[
                answer(
                    body["item_id"],
                    body["message_id"],
                    code,
                    now,
                    findings=planned.findings if code == "REJECTED" else None,
                )
                for code in parts
            ],
        )

    def _emit(self, response: Mapping[str, Any]) -> Outgoing:
        """The CUSRSP record from a row's column values (stored or just inserted)."""
        return Outgoing(
            self.settings.topics.responses,
            response["item_id"].encode(),
            response["xml"].encode("utf-8"),
            cusrsp_headers(
                response["decision"], response["recipient_operator"], response["security_decision"]
            ),
        )


async def _stored(session: AsyncSession, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The responses already stored under these keys: what re-sending them needs."""
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(keys):
        rows = await session.execute(_STORED, {"keys": list(part)})
        found.update((row.dedupe_key, dict(row._mapping)) for row in rows)
    return found


async def _insert(session: AsyncSession, add: Insert, rows: Sequence[dict[str, Any]]) -> None:
    """Rows as one executemany per chunk, in order (response ids follow it)."""
    for part in chunks(rows):
        await session.execute(add, list(part))


async def _insert_tasks(session: AsyncSession, tasks: dict[uuid.UUID, dict[str, Any]]) -> None:
    """Open the review tasks of items that have none yet (one per item, ever)."""
    open_rows: set[uuid.UUID] = set()
    for part in chunks(list(tasks)):
        open_rows.update(await session.scalars(_OPEN_TASKS, {"rows": list(part)}))
    await _insert(session, _ADD_TASKS, [t for row, t in tasks.items() if row not in open_rows])


def response_headers(response: Response) -> list[tuple[str, bytes]]:
    """The Kafka headers of a CUSRSP record (stage answers and officers' decisions alike)."""
    return cusrsp_headers(
        response.decision, response.recipient_operator, response.security_decision
    )


def cusrsp_headers(decision: str, recipient: str, security: str | None) -> list[tuple[str, bytes]]:
    """The Kafka headers of a CUSRSP record, from its row's column values."""
    headers = [("decision", decision.encode()), ("recipient", recipient.encode())]
    if security:
        headers.append(("security-decision", security.encode()))
    return headers


def _task(body: dict[str, Any]) -> dict[str, Any]:
    """A review task's column values for a held item or a security hit (DESIGN.md §6); the
    model's defaults (id, status, version, created_at) fill the rest on insert."""
    return {
        "item_row_id": uuid.UUID(body["item_row_id"]),
        "item_id": body["item_id"],
        "sender_operator": body["sender_operator"],
        "score": body["score"],
        "action": body["action"],
        "security_action": body.get("security_action"),
        "origin": body.get("origin"),
        "rules": sorted({hit["rule"] for hit in body.get("hits") or [] if "rule" in hit}),
        "received_at": _when(body.get("received_at")),
        "expected_arrival": _when(body.get("expected_arrival")),
    }


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def cusrsp_row(**fields: Any) -> Response:
    """`cusrsp_values` (same keyword arguments) as an ORM row, for callers that add it to
    a session (officers' decisions)."""
    return Response(**cusrsp_values(**fields))


def cusrsp_values(
    *,
    dedupe_key: str,
    customs_office: str,
    recipient: str,
    item_row_id: uuid.UUID,
    item_id: str,
    in_reply_to: str,
    decision: str,
    now: datetime,
    answers: list[CusrspResponse],
    security: str | None = None,
) -> dict[str, Any]:
    """One CUSRSP message for one item as a `responses` row's column values: the stages'
    answers and the officers' decisions alike; its MessageId derives from `dedupe_key`, so
    a re-send is the same message."""
    message = CusrspMessage(
        header=CusrspHeader(
            message_id="R" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:30],
            sender_authority=customs_office,
            recipient_operator=recipient,
            prepared_at=now,
        ),
        responses=answers,
    )
    return {
        "dedupe_key": dedupe_key,
        "recipient_operator": recipient,
        "item_row_id": item_row_id,
        "item_id": item_id,
        "in_reply_to": in_reply_to,
        "axis": DECISIONS[decision].axis,
        "decision": decision,
        "security_decision": security,
        "xml": encode_cusrsp(message).decode("utf-8"),
        "created_at": now,
    }


def answer(
    item_id: str,
    in_reply_to: str,
    decision: str,
    now: datetime,
    *,
    findings: list[Any] | None = None,
    reasons: list[str] | None = None,
) -> CusrspResponse:
    """One item's answer on one axis; `reasons` default to the decision's GUIDANCE."""
    meaning = DECISIONS[decision]
    guidance = GUIDANCE.get(decision)
    return CusrspResponse(
        item_id=item_id,
        in_reply_to=in_reply_to,
        decision=decision,
        axis=meaning.axis,
        processing_indicator=meaning.processing_indicator,
        decided_at=now,
        reasons=reasons if reasons is not None else [guidance] if guidance else [],
        errors=[
            ResponseError(
                code=f["code"],
                path=f["path"],
                text=f["message"],
                severity="warning" if f.get("severity") == "warning" else "error",
            )
            for f in findings or []
        ],
    )
