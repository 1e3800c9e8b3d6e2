"""Stored items with known outcomes, for backtests and rule statistics.

Each item is stored as the pipeline stores it (inbox message, item row with
its canonical JSON, assessment, and a review task with the officer's outcome
when one was decided), so the governance code reads what production reads.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from risk.goldens import build_item
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Assessment, AssessmentHit, InboxMessage, ItemRecord, ReviewTask
from service.governance.versions import packaged_text

NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Stored:
    """One item to store: what it declares, and what an officer found (None: no task)."""

    item_id: str
    given: dict[str, Any]
    infringement: bool | None = None
    revenue: str | None = None
    decision: str = "RELEASE"
    #: The rules that hit when it was scored (rows in assessment_hits), and its action.
    hits: tuple[str, ...] = ()
    action: str = "RELEASE"
    version: str = "2026.12.2"
    hours_ago: float = 1.0


def rolex(n: int, infringement: bool | None, **extra: Any) -> Stored:
    return Stored(
        f"RX{n:09d}CN",
        {
            "addressee": {"name": f"Person Number{n}", "street": f"Lindenweg {n}"},
            "lines": [{"description": "Rolex Submariner watch", "hs_code": "910211",
                       "quantity": 1, "value_eur": 15, "value": 15}],
            "total_value_eur": 15, "total_value": 15,
        },
        infringement, **extra,
    )  # fmt: skip


def tshirt(n: int, infringement: bool | None, **extra: Any) -> Stored:
    return Stored(
        f"TS{n:09d}CN",
        {"addressee": {"name": f"Other Person{n}", "street": f"Birkenallee {n}"}},
        infringement,
        **extra,
    )


async def store(url: str, items: list[Stored]) -> dict[str, uuid.UUID]:
    """Store the items, one message each, in order; their row ids by item id."""
    engine = create_engine(url)
    ids: dict[str, uuid.UUID] = {}
    async with create_sessionmaker(engine)() as session, session.begin():
        for n, stored in enumerate(items):
            at = NOW - timedelta(hours=stored.hours_ago) + timedelta(seconds=n)
            item = build_item(stored.given, item_id=stored.item_id)
            raw = f"<ITMATT><ItemId>{stored.item_id}</ItemId></ITMATT>".encode()
            inbox = InboxMessage(
                id=uuid.uuid4(), sender_operator="CNA", message_id=f"GOV-{n}", kind="ITMATT",
                source="API", sha256=hashlib.sha256(raw).hexdigest(), raw=raw, item_count=1,
                status="PROCESSED", received_at=at,
            )  # fmt: skip
            row = ItemRecord(
                id=uuid.uuid4(), inbox_id=inbox.id, position=1, item_id=stored.item_id,
                sender_operator="CNA", message_id=f"GOV-{n}", message_function=9, version=1,
                status="ASSESSED", canonical=item.model_dump(mode="json"), findings=[],
                received_at=at, sender_key=item.sender_key, addressee_key=item.addressee_key,
            )  # fmt: skip
            session.add_all([inbox, row])
            await session.flush()
            ids[stored.item_id] = row.id
            session.add(
                Assessment(
                    item_row_id=row.id, item_id=stored.item_id, ruleset="default",
                    ruleset_version=stored.version, score=60 if stored.hits else 0,
                    action=stored.action, security_action=None,
                    hits=[{"rule": r, "score": 30, "reason": r} for r in stored.hits],
                    assessed_at=at,
                )
            )  # fmt: skip
            for rule in stored.hits:
                session.add(
                    AssessmentHit(
                        item_row_id=row.id, item_id=stored.item_id, ruleset="default",
                        ruleset_version=stored.version, rule=rule, axis="FISCAL", score=30,
                        action=None, shadow=False, assessed_at=at,
                    )
                )  # fmt: skip
            if stored.infringement is not None:
                session.add(
                    ReviewTask(
                        item_row_id=row.id, item_id=stored.item_id, sender_operator="CNA",
                        score=60, action=stored.action, origin="CN", rules=list(stored.hits),
                        received_at=at, created_at=at, status="DECIDED", decided_at=at,
                        decided_by="olga", decision=stored.decision,
                        infringement=stored.infringement,
                        revenue_corrected_eur=Decimal(stored.revenue) if stored.revenue else None,
                    )
                )  # fmt: skip
    await engine.dispose()
    return ids


#: A rule the packaged ruleset lacks: every T-shirt (HS 6109) to DOCUMENTS_REQUIRED.
TSHIRT_RULE = """  - id: TSHIRT_SHOWCASE
    title: T-shirts, for a governance test
    tags: [vague_description]
    when: any(hs_in(l.hs_code, "6109") for l in item.lines)
    score: 30
    reason: "a T-shirt"
    tests:
      - {given: {}, expect: hit}
      - {given: {lines: [{hs_code: "620342"}]}, expect: miss}
"""


def with_rules(version: str, *rules: str) -> str:
    """The packaged ruleset as a new version, with `rules` first among its rules."""
    text = re.sub(r'(?m)^version: ".*"$', f'version: "{version}"', packaged_text(), count=1)
    return text.replace("\nrules:\n", "\nrules:\n" + "".join(rules), 1)
