"""Review tasks stored as the stages store them, for the officers' UI and browser tests.

Items of one sender→addressee pair (a splitting window) and one to the same
addressee from each of two other shops; descriptions and hit reasons carry
hostile markup, which every page must show as text.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Assessment, InboxMessage, ItemRecord, ReviewTask

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
PAIR = ("shop:acme", "addressee:jan-novak")

#: (item id, operator, sender key, addressee key, hours ago, rule, tags, score, action)
ITEMS = [
    ("RR200000001CN", "CNA", *PAIR, 1, "SPLIT_CONSIGNMENT", ["splitting"], 55, "HOLD"),
    ("RR200000002CN", "CNA", *PAIR, 5, "SPLIT_CONSIGNMENT", ["splitting"], 50, "HOLD"),
    ("RR200000003CN", "CNA", *PAIR, 20, "SPLIT_CONSIGNMENT", ["splitting"], 45, "HOLD"),
    ("RR200000004TR", "TRA", "shop:ist", PAIR[1], 30, "UNDERVALUATION", [], 40, "INSPECT"),
    ("RR200000005CN", "CNA", "shop:other", PAIR[1], 48, "COUNTERFEIT", [], 80, "HOLD"),
]


def canonical(item_id: str, description: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "currency": "EUR",
        "total_value": "60.00",
        "total_value_eur": "60.00",
        "total_gross_weight_kg": "0.800",
        "category": "SALE_OF_GOODS",
        "sender": {"name": "Acme Shop", "country": "CN", "address_lines": ["1 Factory Rd"]},
        "addressee": {"name": "Jan Novak", "country": "DE", "address_lines": ["Hauptstr. 5"]},
        "lines": [
            {"description": description, "quantity": 1, "hs_code": "640399", "value": "60.00",
             "origin": "CN", "net_weight_kg": "0.700"}
        ],
    }  # fmt: skip


#: Plain wording per rule, for the screenshots (what demo traffic's hits read like).
PLAIN = {
    "SPLIT_CONSIGNMENT": ("Running shoes, mesh upper", "3 items from this sender to this "
                          "addressee within 24 h, together 180.00 EUR"),
    "UNDERVALUATION": ("Wireless earbuds with charging case", "declared 4.10 EUR per unit; "
                       "the reference for 851830 from TR is 38.00 EUR"),
    "COUNTERFEIT": ("Designer handbag, leather", "brand 'Louis Vuitton' declared at 12.00 EUR "
                    "per unit"),
}  # fmt: skip


async def store_review_items(url: str, *, hostile: bool = True) -> None:
    """Store ITEMS with their inbox message, assessment and open review task; `hostile`
    puts markup into descriptions and reasons, else they read as real traffic does."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        for n, (
            item_id,
            operator,
            sender,
            addressee,
            hours,
            rule,
            tags,
            score,
            action,
        ) in enumerate(ITEMS):
            at = now - timedelta(hours=hours)
            raw = f"<ITMATT><ItemId>{item_id}</ItemId><Description>{HOSTILE}</Description></ITMATT>"
            inbox = InboxMessage(
                id=uuid.uuid4(), sender_operator=operator, message_id=f"MSG-{n}", kind="ITMATT",
                source="API", sha256=hashlib.sha256(raw.encode()).hexdigest(), raw=raw.encode(),
                item_count=1, status="PROCESSED", received_at=at,
            )  # fmt: skip
            item = ItemRecord(
                id=uuid.uuid4(), inbox_id=inbox.id, position=1, item_id=item_id,
                sender_operator=operator, message_id=f"MSG-{n}", message_function=9, version=1,
                status="ASSESSED",
                canonical=canonical(item_id, f"sneakers {HOSTILE}" if hostile else PLAIN[rule][0]),
                findings=[], received_at=at, sender_key=sender, addressee_key=addressee,
            )  # fmt: skip
            session.add_all([inbox, item])
            await session.flush()
            hit = {"rule": rule, "title": rule.title(), "score": score, "axis": "FISCAL",
                   "reason": f"{rule.lower()} seen {HOSTILE}" if hostile else PLAIN[rule][1],
                   "tags": tags}  # fmt: skip
            session.add_all(
                [
                    Assessment(
                        item_row_id=item.id, item_id=item_id, ruleset="default",
                        ruleset_version="7", score=score, action=action, hits=[hit],
                    ),
                    ReviewTask(
                        item_row_id=item.id, item_id=item_id, sender_operator=operator,
                        score=score, action=action, origin=item_id[-2:], rules=[rule],
                        received_at=at, expected_arrival=now + timedelta(hours=30 - n),
                        created_at=at,
                    ),
                ]
            )  # fmt: skip
    await engine.dispose()
