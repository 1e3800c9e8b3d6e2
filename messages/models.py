"""Declared messages: ITMATT, CUSITM and CUSRSP as the sender wrote them.

These models mirror the XML of DESIGN.md §3 one to one so that the codecs are
symmetric (`decode(encode(m)) == m`). Leaf data elements are optional here, as
in the XSDs: a missing value is a *finding* (MANDATORY_MISSING, HS_MISSING, …)
reported by the rulebook, not a parse failure. The canonical, normalised view
that risk and the pipeline use is `messages.canonical.Item`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IdType = Literal["S10", "HAWB", "OTHER"]
Axis = Literal["FISCAL", "SECURITY"]
TransportDocumentType = Literal["AWB", "RECEPTACLE", "DISPATCH"]

MAIL_CLASSES = ("U", "C", "E")
MAIL_CATEGORIES = ("A", "B", "C", "D")
DECLARATION_FORMS = ("CN22", "CN23")
CATEGORIES = (
    "SALE_OF_GOODS",
    "GIFT",
    "COMMERCIAL_SAMPLE",
    "DOCUMENTS",
    "RETURNED_GOODS",
    "MIXED_CONTENTS",
    "OTHER",
)
#: Categories that make an item commercial: HS code and origin are mandatory
#: per line (UPU Regulations from 2025-09-01, standards.md §0.5).
COMMERCIAL_CATEGORIES = frozenset({"SALE_OF_GOODS", "COMMERCIAL_SAMPLE"})


class MessageFunction(IntEnum):
    """EDIFACT 1225 message function."""

    CANCEL = 1
    REPLACE = 5
    ORIGINAL = 9


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(_Model):
    """An amount with its ISO 4217 currency attribute, either may be missing."""

    amount: Decimal | None = None
    currency: str | None = None


class Address(_Model):
    """Structured (1.2) or legacy (1.1, `lines`) address; both map to one canonical party."""

    street: str | None = None
    house_number: str | None = None
    lines: list[str] = Field(default_factory=list)
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None


class Party(_Model):
    name: str | None = None
    business_name: str | None = None
    address: Address | None = None
    phone: str | None = None
    email: str | None = None
    tax_id: str | None = None


class ContentPiece(_Model):
    index: int | None = None
    description: str | None = None
    quantity: int | None = None
    net_weight: Decimal | None = None
    value: Money | None = None
    hs_code: str | None = None
    origin_country: str | None = None


class DeclaredItem(_Model):
    """One postal item (the electronic CN 22 / CN 23) as declared."""

    item_id: str | None = None
    id_type: IdType = "S10"
    posting_datetime: datetime | None = None
    mail_class: str | None = None
    mail_category: str | None = None
    declaration_form: str | None = None
    category: str | None = None
    category_explanation: str | None = None
    total_value: Money | None = None
    total_gross_weight: Decimal | None = None
    postal_charges: Money | None = None
    insured_value: Money | None = None
    invoice_number: str | None = None
    licence_numbers: list[str] = Field(default_factory=list)
    certificate_numbers: list[str] = Field(default_factory=list)
    comments: str | None = None
    sender: Party | None = None
    addressee: Party | None = None
    contents: list[ContentPiece] = Field(default_factory=list)


class ItmattHeader(_Model):
    message_id: str | None = None
    message_function: MessageFunction | None = None
    sender_operator: str | None = None
    recipient_operator: str | None = None
    prepared_at: datetime | None = None


class TransportDocument(_Model):
    type: TransportDocumentType
    value: str


class CusitmHeader(_Model):
    message_id: str | None = None
    message_function: MessageFunction | None = None
    sender_operator: str | None = None
    customs_office: str | None = None
    prepared_at: datetime | None = None
    expected_arrival: datetime | None = None
    transport_document: TransportDocument | None = None


class ItmattMessage(_Model):
    kind: Literal["ITMATT"] = "ITMATT"
    version: Literal["1.1", "1.2"] = "1.2"
    header: ItmattHeader
    items: list[DeclaredItem]


class CusitmMessage(_Model):
    kind: Literal["CUSITM"] = "CUSITM"
    version: Literal["1"] = "1"
    header: CusitmHeader
    items: list[DeclaredItem]


ItemMessage = ItmattMessage | CusitmMessage


class ResponseError(_Model):
    code: str
    path: str
    text: str
    #: "error" rejects the item; "warning" is kept (DESIGN.md §4).
    severity: Literal["error", "warning"] = "error"


class CusrspHeader(_Model):
    message_id: str
    sender_authority: str
    recipient_operator: str
    prepared_at: datetime


class Response(_Model):
    """Customs' answer on one item, on one axis (DESIGN.md §3 decision table)."""

    item_id: str
    in_reply_to: str
    decision: str
    axis: Axis | None = None
    processing_indicator: int | None = None
    decided_at: datetime
    reasons: list[str] = Field(default_factory=list)
    errors: list[ResponseError] = Field(default_factory=list)


class CusrspMessage(_Model):
    kind: Literal["CUSRSP"] = "CUSRSP"
    version: Literal["1"] = "1"
    header: CusrspHeader
    responses: list[Response]
