"""The item lifecycle through the API, each transition ending in its CUSRSP (DESIGN.md §3-§4).

| from | message | to | answer |
|---|---|---|---|
| (none) | ORIGINAL (9) | ACCEPTED → ASSESSED | fiscal decision |
| (none) | ORIGINAL with a data error | REJECTED | REJECTED with the findings |
| REJECTED | REPLACE (5) | the new version ASSESSED | fiscal decision |
| ASSESSED | REPLACE (5) | old SUPERSEDED, new ASSESSED | a new fiscal decision |
| ASSESSED | CANCEL (1), the ItemId alone suffices | old SUPERSEDED, cancellation CANCELLED | CANCELLED |
| ASSESSED | a second ORIGINAL | the second REJECTED (ITEM_ID_REUSED), the first stays | REJECTED |
| (none) | REPLACE or CANCEL | REJECTED (CANCEL_UNKNOWN) | REJECTED |
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from messages import s10
from messages.codec import decode_cusrsp, encode_itmatt
from messages.models import ContentPiece, CusrspMessage, DeclaredItem, MessageFunction
from service.accounts import create_user, issue_token
from service.db.models import ItemRecord
from tests import builders
from tests.e2e.pipeline import Pipeline, start_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

OPERATOR = "CNA"


@pytest.fixture
async def pipeline(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Pipeline]:
    async for running in start_pipeline(database_url, kafka_bootstrap):
        yield running


class Sender:
    """A postal operator sending versions of one item, each in a message of its own."""

    def __init__(self, pipeline: Pipeline, serial: int) -> None:
        self.pipeline = pipeline
        self.item_id = s10.make("RR", 30_000_000 + serial, "CN")
        self.sent = 0

    async def send(
        self,
        function: MessageFunction,
        *,
        hs_code: str = "610910",
        description: str = "Men's cotton T-shirt",
        identity_only: bool = False,
    ) -> dict[str, Any]:
        """Post the item as `function`; each message is prepared a minute after the last.

        `identity_only` sends `<Item><ItemId>…</ItemId></Item>` and nothing else, as a
        cancellation may."""
        self.sent += 1
        piece: ContentPiece = builders.piece(hs_code=hs_code, description=description)
        declared = (
            DeclaredItem(item_id=self.item_id)
            if identity_only
            else builders.item(item_id=self.item_id, contents=[piece])
        )
        message = builders.itmatt(
            declared,
            message_id=f"CNA-LIFE-{self.item_id}-{self.sent}",
            message_function=function,
            prepared_at=builders.PREPARED + timedelta(minutes=self.sent),
        )
        answer = await self.pipeline.post(OPERATOR, encode_itmatt(message))
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    async def item(self) -> dict[str, Any] | None:
        """GET /v1/items/ID; None until the validate stage has stored the item."""
        key = await self.pipeline.key(OPERATOR)
        answer = await self.pipeline.client.get(
            f"/v1/items/{self.item_id}", headers={"Authorization": f"Bearer {key}"}
        )
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def cusrsp(self) -> list[CusrspMessage]:
        """Every CUSRSP sent to the operator for this item, oldest first."""
        key = await self.pipeline.key(OPERATOR)
        answer = await self.pipeline.client.get(
            "/v1/responses", params={"limit": 1000}, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200, answer.text
        return [
            decode_cusrsp(r["cusrsp"].encode())
            for r in answer.json()["responses"]
            if r["item_id"] == self.item_id
        ]

    async def answered(self, decisions: int, timeout: float = 60) -> dict[str, Any]:
        """The item once `decisions` answers were sent for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.item()
            if found is not None and len(found["decisions"]) >= decisions:
                return found
            assert time.monotonic() < deadline, f"after {timeout:.0f} s: {found}"
            await asyncio.sleep(0.2)


def _statuses(item: dict[str, Any]) -> list[str]:
    return [v["status"] for v in item["versions"]]


def _codes(version: dict[str, Any]) -> set[str]:
    return {f["code"] for f in version["findings"]}


async def test_an_original_is_assessed_and_answered(pipeline: Pipeline) -> None:
    sender = Sender(pipeline, 1)
    await sender.send(MessageFunction.ORIGINAL)
    item = await sender.answered(1)
    assert _statuses(item) == ["ASSESSED"]
    assert item["decisions"][0]["axis"] == "FISCAL"


async def test_a_rejected_item_is_corrected_by_a_replacement(pipeline: Pipeline) -> None:
    sender = Sender(pipeline, 2)
    await sender.send(MessageFunction.ORIGINAL, hs_code="999999")
    item = await sender.answered(1)
    assert _statuses(item) == ["REJECTED"]
    assert item["decisions"][0]["decision"] == "REJECTED"
    assert "HS_UNKNOWN" in _codes(item["versions"][0])
    [rejection] = (await sender.cusrsp())[0].responses
    assert {(e.code, e.severity) for e in rejection.errors} >= {("HS_UNKNOWN", "error")}

    # The CUSRSP said: resend as MessageFunction 5. That resend is the correction.
    await sender.send(MessageFunction.REPLACE)
    item = await sender.answered(2)
    assert _statuses(item) == ["REJECTED", "ASSESSED"]
    assert "CANCEL_UNKNOWN" not in _codes(item["versions"][1])
    assert item["decisions"][1]["axis"] == "FISCAL"


async def test_a_replacement_after_release_supersedes_the_first_version(
    pipeline: Pipeline,
) -> None:
    sender = Sender(pipeline, 3)
    await sender.send(MessageFunction.ORIGINAL)
    await sender.answered(1)
    await sender.send(MessageFunction.REPLACE)
    item = await sender.answered(2)
    assert _statuses(item) == ["SUPERSEDED", "ASSESSED"]
    assert [d["axis"] for d in item["decisions"]] == ["FISCAL", "FISCAL"]


async def test_a_cancellation_withdraws_the_item(pipeline: Pipeline) -> None:
    sender = Sender(pipeline, 4)
    await sender.send(MessageFunction.ORIGINAL)
    await sender.answered(1)
    await sender.send(MessageFunction.CANCEL)
    item = await sender.answered(2)
    assert _statuses(item) == ["SUPERSEDED", "CANCELLED"]
    assert item["status"] == "CANCELLED"
    assert item["decisions"][1]["decision"] == "CANCELLED"
    assert (await sender.cusrsp())[1].responses[0].processing_indicator is None


async def test_a_cancellation_needs_only_the_item_id(pipeline: Pipeline) -> None:
    sender = Sender(pipeline, 11)
    await sender.send(MessageFunction.ORIGINAL)
    await sender.answered(1)
    await sender.send(MessageFunction.CANCEL, identity_only=True)
    item = await sender.answered(2)
    assert _statuses(item) == ["SUPERSEDED", "CANCELLED"]
    assert item["versions"][1]["findings"] == []
    assert item["decisions"][1]["decision"] == "CANCELLED"


async def test_a_security_decision_comes_first_in_one_cusrsp(pipeline: Pipeline) -> None:
    sender = Sender(pipeline, 12)
    await sender.send(MessageFunction.ORIGINAL, hs_code="850760", description="Power bank")
    item = await sender.answered(1)
    assert len(item["decisions"]) == 1, "one CUSRSP for both axes"
    [cusrsp] = await sender.cusrsp()
    axes = [(r.axis, r.decision) for r in cusrsp.responses]
    assert [axis for axis, _ in axes] == ["SECURITY", "FISCAL"], axes
    assert item["decisions"][0]["security_decision"] == axes[0][1]


async def test_a_second_original_of_a_live_item_is_item_id_reused(pipeline: Pipeline) -> None:
    sender = Sender(pipeline, 5)
    await sender.send(MessageFunction.ORIGINAL)
    await sender.answered(1)
    await sender.send(MessageFunction.ORIGINAL)
    item = await sender.answered(2)
    assert _statuses(item) == ["ASSESSED", "REJECTED"], "the first stays live, scored once"
    assert "ITEM_ID_REUSED" in _codes(item["versions"][1])
    assert item["decisions"][1]["decision"] == "REJECTED"


@pytest.mark.parametrize("function", [MessageFunction.REPLACE, MessageFunction.CANCEL])
async def test_a_replacement_or_cancellation_of_an_item_never_sent_is_cancel_unknown(
    pipeline: Pipeline, function: MessageFunction
) -> None:
    sender = Sender(pipeline, 6 + int(function))
    await sender.send(function)
    item = await sender.answered(1)
    assert _statuses(item) == ["REJECTED"]
    assert "CANCEL_UNKNOWN" in _codes(item["versions"][0])


async def test_a_security_hit_becomes_an_officers_decision_sent_back_as_a_cusrsp(
    pipeline: Pipeline,
) -> None:
    """The whole loop: a declared pepper spray is DO_NOT_LOAD, opens a review task with the
    item's party keys and rule tags stored, an officer sees the case and returns it, and the
    operator gets a further CUSRSP with the officer's decision (never the rule)."""
    sender = Sender(pipeline, 90)
    await sender.send(MessageFunction.ORIGINAL, hs_code="330790", description="Pepper spray 50 ml")
    await sender.answered(1)
    async with pipeline.sessions() as session, session.begin():
        await create_user(session, "olga", "officer", "correct horse battery staple", actor="t")
        token = await issue_token(session, "olga", actor="t")
    officer = {"Authorization": f"Bearer {token}"}
    queue = await pipeline.client.get("/v1/review/queue", params={"security_only": "true"},
                                      headers=officer)  # fmt: skip
    [task] = [t for t in queue.json()["tasks"] if t["item_id"] == sender.item_id]
    assert task["security_action"] == "DO_NOT_LOAD"
    case = (await pipeline.client.get(f"/v1/items/{sender.item_id}", headers=officer)).json()
    assert "WEAPONS" in {h["rule"] for h in case["assessment"]["hits"]}
    assert (
        "prohibited"
        in next(h for h in case["assessment"]["hits"] if h["rule"] == "WEAPONS")["tags"]
    )
    assert case["declared"]["lines"][0]["description"] == "Pepper spray 50 ml"
    decided = await pipeline.client.post(
        f"/v1/items/{sender.item_id}/decision",
        json={"decision": "RETURN", "outcome": {"infringement": True, "kind": "prohibited"},
              "note": "pepper spray", "version": task["version"]},
        headers=officer,
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    answers = await sender.cusrsp()
    assert [r.decision for a in answers for r in a.responses][-1] == "RETURN"
    assert "WEAPONS" not in answers[-1].responses[0].reasons[0]
    async with pipeline.sessions() as session:
        keys = (
            await session.execute(
                select(ItemRecord.sender_key, ItemRecord.addressee_key).where(
                    ItemRecord.item_id == sender.item_id
                )
            )
        ).one()
    assert all(keys)
