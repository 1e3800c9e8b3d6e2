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
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.codec import encode_cusrsp
from messages.codelists import DECISIONS
from messages.models import CusrspHeader, CusrspMessage, ResponseError
from messages.models import Response as CusrspResponse
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


class RespondStage(Stage):
    name = "respond"

    async def handle(
        self, session: AsyncSession, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[Outgoing]:
        planned: list[Response] = []
        tasks: list[ReviewTask] = []
        for record in records:
            body = orjson.loads(record.value or b"")
            if record.topic == self.settings.topics.rejected:
                planned.append(
                    self._response(body, "rejected", "REJECTED", findings=body["findings"])
                )
            elif body["kind"] == "cancellation":
                planned.append(self._response(body, "cancelled", "CANCELLED"))
            else:
                planned.append(
                    self._response(
                        body, "fiscal", body["action"], security=body.get("security_action")
                    )
                )
                if body["action"] != "RELEASE" or body.get("security_action"):
                    tasks.append(_task(body))
        keys = [r.dedupe_key for r in planned]
        stored = {
            r.dedupe_key: r
            for r in await session.scalars(select(Response).where(Response.dedupe_key.in_(keys)))
        }
        unique_fresh = {r.dedupe_key: r for r in planned if r.dedupe_key not in stored}
        if unique_fresh:
            await lock_response_order(session)
        session.add_all(unique_fresh.values())
        if tasks:
            open_rows = set(
                await session.scalars(
                    select(ReviewTask.item_row_id).where(
                        ReviewTask.item_row_id.in_([t.item_row_id for t in tasks])
                    )
                )
            )
            session.add_all(
                {t.item_row_id: t for t in tasks if t.item_row_id not in open_rows}.values()
            )
        await session.flush()
        final = {**unique_fresh, **stored}
        # Replays are checked too: two workers answering a message's last items
        # concurrently may each miss the other's answer; the re-publish heals it.
        await settle_answered(
            session,
            {r.item_row_id for r in final.values() if r.item_row_id and is_answer(r.dedupe_key)},
        )
        return [self._emit(final[key]) for key in dict.fromkeys(keys)]

    def _response(
        self,
        body: dict[str, Any],
        what: str,
        decision: str,
        *,
        findings: list[Any] | None = None,
        security: str | None = None,
    ) -> Response:
        """One CUSRSP for one answer; a security decision travels first in the same message
        (DESIGN.md §3), so a carrier reads "do not load" before it reads the fiscal outcome."""
        now = datetime.now(UTC)
        parts = [security, decision] if security else [decision]
        return cusrsp_row(
            dedupe_key=f"{body['item_row_id']}:{what}",
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
                    findings=findings if code == "REJECTED" else None,
                )
                for code in parts
            ],
        )

    def _emit(self, response: Response) -> Outgoing:
        return Outgoing(
            self.settings.topics.responses,
            response.item_id.encode(),
            response.xml.encode("utf-8"),
            response_headers(response),
        )


def response_headers(response: Response) -> list[tuple[str, bytes]]:
    """The Kafka headers of a CUSRSP record (stage answers and officers' decisions alike)."""
    headers = [
        ("decision", response.decision.encode()),
        ("recipient", response.recipient_operator.encode()),
    ]
    if response.security_decision:
        headers.append(("security-decision", response.security_decision.encode()))
    return headers


def _task(body: dict[str, Any]) -> ReviewTask:
    """A review task for a held item or a security hit (DESIGN.md §6)."""
    return ReviewTask(
        item_row_id=uuid.UUID(body["item_row_id"]),
        item_id=body["item_id"],
        sender_operator=body["sender_operator"],
        score=body["score"],
        action=body["action"],
        security_action=body.get("security_action"),
        origin=body.get("origin"),
        rules=sorted({hit["rule"] for hit in body.get("hits") or [] if "rule" in hit}),
        received_at=_when(body.get("received_at")),
        expected_arrival=_when(body.get("expected_arrival")),
    )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def cusrsp_row(
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
) -> Response:
    """One CUSRSP message for one item as a `responses` row: the stages' answers and the
    officers' decisions alike; its MessageId derives from `dedupe_key`, so a re-send is
    the same message."""
    message = CusrspMessage(
        header=CusrspHeader(
            message_id="R" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:30],
            sender_authority=customs_office,
            recipient_operator=recipient,
            prepared_at=now,
        ),
        responses=answers,
    )
    return Response(
        dedupe_key=dedupe_key,
        recipient_operator=recipient,
        item_row_id=item_row_id,
        item_id=item_id,
        in_reply_to=in_reply_to,
        axis=DECISIONS[decision].axis,
        decision=decision,
        security_decision=security,
        xml=encode_cusrsp(message).decode("utf-8"),
        created_at=now,
    )


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
