"""Valid messages to start from: each test mutates one thing and checks one code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from messages import s10
from messages.awb import make_awb
from messages.models import (
    Address,
    ContentPiece,
    CusitmHeader,
    CusitmMessage,
    DeclaredItem,
    ItmattHeader,
    ItmattMessage,
    MessageFunction,
    Money,
    Party,
    TransportDocument,
)

CST = timezone(timedelta(hours=8))
PREPARED = datetime(2026, 11, 22, 10, 15, tzinfo=CST)
POSTED = datetime(2026, 11, 21, 9, 0, tzinfo=CST)


def sender(**overrides: Any) -> Party:
    fields: dict[str, Any] = {
        "name": "Li Wei",
        "business_name": "Shenzhen Bright Trading Co., Ltd.",
        "address": Address(
            street="Shennan Road", house_number="1001", postcode="518000", city="Shenzhen",
            region="Guangdong", country="CN",
        ),
        "phone": "+86 755 8888 1234",
        "email": "sales@bright.example",
    }  # fmt: skip
    fields.update(overrides)
    return Party(**fields)


def addressee(**overrides: Any) -> Party:
    fields: dict[str, Any] = {
        "name": "Anna Müller",
        "address": Address(
            street="Hauptstraße", house_number="5", postcode="10115", city="Berlin", country="DE"
        ),
        "phone": "+49 30 1234567",
        "email": "anna@example.de",
    }
    fields.update(overrides)
    return Party(**fields)


def piece(index: int = 1, **overrides: Any) -> ContentPiece:
    fields: dict[str, Any] = {
        "index": index,
        "description": "Men's cotton T-shirt",
        "quantity": 2,
        "net_weight": Decimal("0.300"),
        "value": Money(amount=Decimal("39.90"), currency="EUR"),
        "hs_code": "610910",
        "origin_country": "CN",
    }
    fields.update(overrides)
    return ContentPiece(**fields)


def item(**overrides: Any) -> DeclaredItem:
    fields: dict[str, Any] = {
        "item_id": s10.make("RR", 12345678, "CN"),
        "posting_datetime": POSTED,
        "mail_class": "C",
        "mail_category": "A",
        "declaration_form": "CN23",
        "category": "SALE_OF_GOODS",
        "total_value": Money(amount=Decimal("39.90"), currency="EUR"),
        "total_gross_weight": Decimal("0.450"),
        "postal_charges": Money(amount=Decimal("4.50"), currency="EUR"),
        "sender": sender(),
        "addressee": addressee(),
        "contents": [piece()],
    }
    fields.update(overrides)
    return DeclaredItem(**fields)


def itmatt(*items: DeclaredItem, version: str = "1.2", **header: Any) -> ItmattMessage:
    fields: dict[str, Any] = {
        "message_id": "CNA-20261122-000001",
        "message_function": MessageFunction.ORIGINAL,
        "sender_operator": "CNA",
        "recipient_operator": "DEA",
        "prepared_at": PREPARED,
    }
    fields.update(header)
    return ItmattMessage(
        version=version,  # type: ignore[arg-type]
        header=ItmattHeader(**fields),
        items=list(items) or [item()],
    )


def cusitm(*items: DeclaredItem, **header: Any) -> CusitmMessage:
    fields: dict[str, Any] = {
        "message_id": "DHLX-M-0001",
        "message_function": MessageFunction.ORIGINAL,
        "sender_operator": "DHLX",
        "customs_office": "DE004853",
        "prepared_at": PREPARED,
        "expected_arrival": PREPARED + timedelta(hours=20),
        "transport_document": TransportDocument(type="AWB", value=make_awb(615, 1234567)),
    }
    fields.update(header)
    return CusitmMessage(header=CusitmHeader(**fields), items=list(items) or [item()])


UTC_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
