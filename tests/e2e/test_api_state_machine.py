"""A sender's whole conversation with the pipeline, as a hypothesis state machine over the API.

One pipeline for the whole run (API, relay and the three stages on the real
broker and SQLite, `start_pipeline`), in a loop thread of its own; each rule
drives one HTTP exchange through it. Nothing is reset between examples:
each example is a new operator with its own key, MessageIds and item ids.

Asserted after every step: nothing answered 202 is missing from
`GET /v1/messages/{id}`; no response id comes twice when paging
`/v1/responses`; no item version has two answers; every answer is for an item
version we had accepted. At the end of each example: every accepted item
version gets exactly one answer (fiscal decision, rejection or cancellation
acknowledgement; a SECURITY response comes in addition), of the kind expected.

Only what DESIGN.md and the code agree on is expected. Where they disagree,
the rule accepts either outcome and says so (see `Kinds`):
- a cancellation is acknowledged as `CANCELLED` (DESIGN.md §3) but the respond
  stage sends `ACCEPTED`;
- a replacement of a REJECTED item is valid (DESIGN.md §4, CANCEL_UNKNOWN) but
  the validate stage rejects it with CANCEL_UNKNOWN (`_known` skips REJECTED rows);
- an ORIGINAL for a live item id is ITEM_ID_REUSED (DESIGN.md §4), which the
  validate stage does not check: no rule sends one.
Replacements and cancellations wait for the target's answer first, as a sender
would; `post_and_replace_at_once` does not, and only asks for one answer each:
sent at once, a replacement races its original (`aed.inbound` is keyed by
message, not item) and may be rejected with CANCEL_UNKNOWN.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from messages import s10
from messages.codec import encode_itmatt
from messages.models import DeclaredItem, MessageFunction, Money
from tests import builders
from tests.api_clients import LoopThread
from tests.e2e.pipeline import Pipeline, start_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

#: Bounds on waiting for the pipeline: a target's answer before replacing it, and all
#: of an example's answers at its end. Well above the ~1 s an answer takes here.
ANSWER_TIMEOUT_S = 60.0
PAGE = 7  # small, so every invariant check pages through several cursors
ORIGINAL, REPLACE, CANCEL = (
    int(MessageFunction.ORIGINAL),
    int(MessageFunction.REPLACE),
    int(MessageFunction.CANCEL),
)

_operators = itertools.count(1)
_serials = itertools.count(30_000_001)
_clock = itertools.count(1)
#: PreparedAt orders an item's versions; every message is a second later than the last.
_START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)


class Kinds:
    """The answer kinds an item version may get (a response's kind: see `kind_of`)."""

    FISCAL = frozenset({"fiscal"})
    REJECTED = frozenset({"rejected"})
    CANCELLED = frozenset({"cancelled"})
    #: DESIGN.md says a replacement of a REJECTED item is valid; the code rejects it.
    REPLACED_AFTER_REJECTION = frozenset({"fiscal", "rejected"})
    #: A replacement sent right after its original may be validated first: CANCEL_UNKNOWN.
    RACED = frozenset({"fiscal", "rejected"})


def kind_of(response: dict[str, Any]) -> str:
    """What a CUSRSP answers: its FISCAL decision, a rejection, a cancellation, or SECURITY."""
    if response["axis"] == "SECURITY":  # a separate security CUSRSP: no longer sent
        return "security"
    if response["decision"] == "REJECTED":
        return "rejected"
    if response["axis"] == "FISCAL":
        return "fiscal"
    if response["axis"] is None and response["decision"] == "CANCELLED":
        return "cancelled"
    return f"unexpected {response['decision']!r}"


@dataclass
class Version:
    """One accepted item of one accepted message: the unit that gets exactly one answer."""

    item_id: str
    message_id: str
    function: int
    expect: frozenset[str]


@dataclass
class Sent:
    message_id: str
    data: bytes
    inbox_id: str
    items: list[str]


@dataclass
class Item:
    item_id: str
    versions: list[Version] = field(default_factory=list)
    #: Its versions were sent without waiting: which one is live is up to the pipeline.
    raced: bool = False

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def live(self) -> bool:
        """Replaceable and cancellable for certain: its latest version is a valid one."""
        return (
            not self.raced and self.latest.function != CANCEL and self.latest.expect == Kinds.FISCAL
        )

    @property
    def only_rejected(self) -> bool:
        return not self.raced and all(v.expect == Kinds.REJECTED for v in self.versions)


@dataclass
class Harness:
    """The running pipeline, driven one coroutine at a time from the synchronous machine."""

    loop: LoopThread
    pipeline: Pipeline

    def key(self, operator: str) -> str:
        return self.loop.run(self.pipeline.key(operator))

    def post(self, operator: str, data: bytes) -> httpx.Response:
        return self.loop.run(self.pipeline.post(operator, data))

    def get(self, operator: str, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key(operator)}"}
        return self.loop.run(self.pipeline.client.get(path, headers=headers, params=params))


def _declared(item_id: str, *, defective: bool = False, value: str = "39.90") -> DeclaredItem:
    posted = _START - timedelta(hours=1)
    money = Money(amount=Decimal(value), currency="EUR")
    # An HS code that is no HS 2022 subheading: HS_UNKNOWN, an error, so REJECTED.
    piece = builders.piece(value=money, hs_code="999999" if defective else "610910")
    return builders.item(
        item_id=item_id, posting_datetime=posted, total_value=money, contents=[piece]
    )


def _message(operator: str, function: int, items: list[DeclaredItem]) -> tuple[str, bytes]:
    tick = next(_clock)
    message_id = f"{operator}-{tick:08d}"
    message = builders.itmatt(
        *items,
        message_id=message_id,
        message_function=MessageFunction(function),
        sender_operator=operator,
        prepared_at=_START + timedelta(seconds=tick),
    )
    return message_id, encode_itmatt(message)


class SenderConversation(RuleBasedStateMachine):
    """One operator's messages, replacements, cancellations and reads, checked step by step."""

    harness: Harness  # set by the test, shared by every example

    def __init__(self) -> None:
        super().__init__()
        number = next(_operators)
        assert number < 1000, "operator codes are SMA001..SMA999"
        self.operator = f"SMA{number:03d}"
        self.stranger = "SMZ"  # another operator: must see none of ours
        self.sent: dict[str, Sent] = {}
        self.items: dict[str, Item] = {}
        self.versions: dict[tuple[str, str], Version] = {}

    # --- helpers ------------------------------------------------------------------------------

    def _accept(self, function: int, items: list[tuple[DeclaredItem, frozenset[str]]]) -> Sent:
        message_id, data = _message(self.operator, function, [i for i, _ in items])
        answer = self.harness.post(self.operator, data)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "ACCEPTED", body
        assert body["message_id"] == message_id and body["items"] == len(items), body
        sent = Sent(message_id, data, body["inbox_id"], [i.item_id for i, _ in items])
        self.sent[message_id] = sent
        for declared, expect in items:
            version = Version(declared.item_id, message_id, function, expect)
            self.items.setdefault(declared.item_id, Item(declared.item_id)).versions.append(version)
            self.versions[(declared.item_id, message_id)] = version
        return sent

    def _responses(self) -> list[dict[str, Any]]:
        """Every CUSRSP for this operator, paged with the cursor until a page is empty."""
        after, seen = 0, []
        while True:
            answer = self.harness.get(self.operator, "/v1/responses", after=after, limit=PAGE)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            ids = [r["id"] for r in page["responses"]]
            assert ids == sorted(ids) and all(i > after for i in ids), (after, ids)
            if not ids:
                assert page["next"] == after, page
                return seen
            assert page["next"] == ids[-1], page
            seen += page["responses"]
            after = page["next"]

    def _answers(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The answers per item version, after checking them all."""
        responses = self._responses()
        ids = [r["id"] for r in responses]
        assert len(ids) == len(set(ids)), f"a response id came twice while paging: {ids}"
        answers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for response in responses:
            version = (response["item_id"], response["in_reply_to"])
            assert version in self.versions, f"an answer for nothing we had accepted: {response}"
            assert kind_of(response) != "security", (
                f"a separate SECURITY CUSRSP; DESIGN.md §3 puts it first in the answer: {response}"
            )
            answers.setdefault(version, []).append(response)
        for version, found in answers.items():
            kinds = [kind_of(r) for r in found]
            assert len(found) == 1, f"{version} answered {len(found)} times: {kinds}"
            assert kinds[0] in self.versions[version].expect, (
                f"{version} answered {kinds[0]} ({found[0]['decision']}), "
                f"expected {sorted(self.versions[version].expect)}"
            )
        return answers

    def _wait_answered(self, versions: list[Version]) -> dict[tuple[str, str], Any]:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            answers = self._answers()
            missing = [v for v in versions if (v.item_id, v.message_id) not in answers]
            if not missing:
                return answers
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"after {ANSWER_TIMEOUT_S:.0f} s, {len(missing)} accepted item versions have "
                    f"no answer (lost or hung): {[(v.item_id, v.message_id) for v in missing]}"
                )
            time.sleep(0.2)

    def _live(self) -> list[str]:
        return sorted(i.item_id for i in self.items.values() if i.live)

    def _rejected(self) -> list[str]:
        return sorted(i.item_id for i in self.items.values() if i.only_rejected)

    # --- rules --------------------------------------------------------------------------------

    @rule(defects=st.lists(st.sampled_from([False, False, False, True]), min_size=1, max_size=3))
    def post_original(self, defects: list[bool]) -> None:
        """An ORIGINAL (9) of 1-3 new items, some with a data error: 202, answered per item."""
        items = [
            (
                _declared(s10.make("RR", next(_serials), "CN"), defective=bad),
                Kinds.REJECTED if bad else Kinds.FISCAL,
            )
            for bad in defects
        ]
        self._accept(ORIGINAL, items)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def resend_identical(self, data: st.DataObject) -> None:
        """The same bytes again: DUPLICATE_MESSAGE, accepted idempotently, nothing new."""
        sent = self.sent[data.draw(st.sampled_from(sorted(self.sent)))]
        answer = self.harness.post(self.operator, sent.data)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "DUPLICATE_MESSAGE", body
        assert (body["inbox_id"], body["items"]) == (sent.inbox_id, len(sent.items)), body

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def reuse_message_id(self, data: st.DataObject) -> None:
        """The same MessageId for other content: 409 MESSAGE_ID_REUSED, nothing stored."""
        sent = self.sent[data.draw(st.sampled_from(sorted(self.sent)))]
        other = builders.itmatt(
            _declared(s10.make("RR", next(_serials), "CN")),
            message_id=sent.message_id,
            sender_operator=self.operator,
        )
        answer = self.harness.post(self.operator, encode_itmatt(other))
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"] == "MESSAGE_ID_REUSED", answer.text

    @precondition(lambda self: self._live())
    @rule(data=st.data(), value=st.sampled_from(["12.00", "39.90", "149.00"]))
    def replace_item(self, data: st.DataObject, value: str) -> None:
        """MessageFunction 5 (new MessageId) for an answered live item: a new version, answered."""
        item = self.items[data.draw(st.sampled_from(self._live()))]
        self._wait_answered([item.latest])
        self._accept(REPLACE, [(_declared(item.item_id, value=value), Kinds.FISCAL)])

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def cancel_item(self, data: st.DataObject) -> None:
        """MessageFunction 1 for an answered live item: acknowledged, the item withdrawn."""
        item = self.items[data.draw(st.sampled_from(self._live()))]
        self._wait_answered([item.latest])
        self._accept(CANCEL, [(_declared(item.item_id), Kinds.CANCELLED)])

    @rule()
    def post_and_replace_at_once(self) -> None:
        """An ORIGINAL and, without waiting, its replacement: each answered exactly once,
        whichever the validate stage sees first (today the replacement may lose the race)."""
        item_id = s10.make("RR", next(_serials), "CN")
        self._accept(ORIGINAL, [(_declared(item_id), Kinds.FISCAL)])
        self._accept(REPLACE, [(_declared(item_id, value="12.00"), Kinds.RACED)])
        self.items[item_id].raced = True

    @precondition(lambda self: self._rejected())
    @rule(data=st.data())
    def replace_rejected_item(self, data: st.DataObject) -> None:
        """A corrected resend (5) of a REJECTED item, as the REJECTED CUSRSP asks: answered once
        (fiscal per DESIGN.md, CANCEL_UNKNOWN rejection per the code today)."""
        item = self.items[data.draw(st.sampled_from(self._rejected()))]
        self._wait_answered(item.versions)
        self._accept(REPLACE, [(_declared(item.item_id), Kinds.REPLACED_AFTER_REJECTION)])

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def read_message(self, data: st.DataObject) -> None:
        """GET /v1/messages/{id}: the message as sent, its items once validated; 404 to others."""
        sent = self.sent[data.draw(st.sampled_from(sorted(self.sent)))]
        answer = self.harness.get(self.operator, f"/v1/messages/{sent.message_id}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["message_id"], body["inbox_id"]) == (sent.message_id, sent.inbox_id), body
        assert body["items_declared"] == len(sent.items), body
        listed = [i["item_id"] for i in body["items"]]
        assert listed in ([], sent.items), f"items {listed}, sent {sent.items}"
        hidden = self.harness.get(self.stranger, f"/v1/messages/{sent.message_id}")
        assert hidden.status_code == 404, hidden.text

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def read_item(self, data: st.DataObject) -> None:
        """GET /v1/items/{id}: only versions and decisions of messages we sent for it."""
        item = self.items[data.draw(st.sampled_from(sorted(self.items)))]
        answer = self.harness.get(self.operator, f"/v1/items/{item.item_id}")
        ours = [v.message_id for v in item.versions]
        if answer.status_code == 404:  # not validated yet: no version is stored
            return
        assert answer.status_code == 200, answer.text
        body = answer.json()
        listed = [v["message_id"] for v in body["versions"]]
        assert set(listed) <= set(ours) and len(listed) == len(set(listed)), (listed, ours)
        assert {d["in_reply_to"] for d in body["decisions"]} <= set(listed), body
        assert self.harness.get(self.stranger, f"/v1/items/{item.item_id}").status_code == 404

    @rule()
    def read_unknown_message(self) -> None:
        answer = self.harness.get(self.operator, f"/v1/messages/{self.operator}-NEVER-SENT")
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "NOT_FOUND", answer.text

    @rule(limit=st.integers(min_value=1, max_value=5))
    def page_from_a_cursor(self, limit: int) -> None:
        """Paging from any cursor returns only later responses, in order, each once."""
        everything = self._responses()
        ids = [r["id"] for r in everything]
        after = ids[len(ids) // 2] if ids else 0
        answer = self.harness.get(self.operator, "/v1/responses", after=after, limit=limit)
        assert answer.status_code == 200, answer.text
        page = [r["id"] for r in answer.json()["responses"]]
        # Responses may arrive meanwhile, with later ids: the page starts as `everything` did.
        expected = [i for i in ids if i > after][:limit]
        assert page[: len(expected)] == expected and len(page) <= limit, (after, page, ids)
        assert page == sorted(set(page)) and all(i > after for i in page), (after, page)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def nothing_accepted_is_lost(self) -> None:
        for message_id in self.sent:
            answer = self.harness.get(self.operator, f"/v1/messages/{message_id}")
            assert answer.status_code == 200, f"accepted {message_id}, now {answer.text}"

    @invariant()
    def no_answer_twice(self) -> None:
        self._answers()

    def teardown(self) -> None:
        """Every accepted item version answered exactly once, of the kind expected."""
        if not self.versions:
            return
        answers = self._wait_answered(list(self.versions.values()))
        assert set(answers) == set(self.versions)
        for item in self.items.values():
            self._check_history(item)

    def _check_history(self, item: Item) -> None:
        """GET /v1/items lists every version we sent, in order; later ones supersede earlier."""
        answer = self.harness.get(self.operator, f"/v1/items/{item.item_id}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        listed = [v["message_id"] for v in body["versions"]]
        sent = [v.message_id for v in item.versions]
        # Versions are listed by `version` (PreparedAt): a version rejected with
        # CANCEL_UNKNOWN has version 0, so a raced replacement may be listed first.
        if item.raced:
            assert sorted(listed) == sorted(sent), (listed, sent)
        else:
            assert listed == sent, (listed, sent)
        replied = {d["in_reply_to"] for d in body["decisions"]}
        assert replied == set(listed), f"decisions for {sorted(replied)}, versions {listed}"
        if len(item.versions) > 1 and item.versions[0].expect == Kinds.FISCAL and not item.raced:
            # DESIGN.md §3: later versions supersede earlier ones.
            assert [v["status"] for v in body["versions"][:-1]] == ["SUPERSEDED"] * (
                len(listed) - 1
            ), body["versions"]


@pytest.fixture(scope="module")
def harness(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[Harness]:
    """One pipeline for every example: its own SQLite copy, topics and groups."""
    path = tmp_path_factory.mktemp("state-machine") / "aedex.db"
    shutil.copyfile(_sqlite_template, path)
    with (
        LoopThread() as loop,
        loop.enter(
            start_pipeline(
                f"sqlite+aiosqlite:///{path}",
                kafka_bootstrap,
                # The machine sends as fast as it can; the rate limit is tested elsewhere
                # (tests/component/test_api_hostile.py) and must not decide this test's steps.
                rate_limit_per_s=100_000,
                rate_limit_burst=100_000,
            )
        ) as pipeline,
    ):
        yield Harness(loop, pipeline)


def test_a_senders_conversation_keeps_every_promise(harness: Harness) -> None:
    machine = type("Conversation", (SenderConversation,), {"harness": harness})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=10,
            stateful_step_count=20,
            derandomize=True,
            database=None,
            deadline=None,
            # Each step is real traffic through a real pipeline: shrinking would replay
            # dozens of conversations; the failing steps are printed as they ran.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
