"""The canonical item: one normalised record per postal or express item.

This is what travels on `aed.validated` and what the risk engine reads. It is
flat where rules need it flat (`item.lines`, `item.total_value_eur`), carries
values in the declared currency *and* in EUR (dated rates), and the derived
keys that link consignments to the same addressee or sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from messages.models import (
    ContentPiece,
    CusitmMessage,
    DeclaredItem,
    IdType,
    ItmattMessage,
    MessageFunction,
    Party,
)
from messages.prebuilt import Blueprint
from messages.rates import RateTable
from messages.text import clean, party_key

Source = Literal["ITMATT", "CUSITM", "EXPRESS"]


class _Canonical(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyRecord(_Canonical):
    name: str | None = None
    business_name: str | None = None
    street: str | None = None
    house_number: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None
    tax_id: str | None = None


class Line(_Canonical):
    """One content piece; `value` is the line total, not the unit price."""

    index: int
    description: str | None = None
    quantity: int | None = None
    net_weight_kg: Decimal | None = None
    value: Decimal | None = None
    currency: str | None = None
    value_eur: Decimal | None = None
    hs_code: str | None = None
    origin: str | None = None


class Item(_Canonical):
    item_id: str
    id_type: IdType = "S10"
    source: Source
    message_id: str
    message_function: MessageFunction = MessageFunction.ORIGINAL
    #: Ordering key among versions of one item: later `version` supersedes earlier.
    version: int
    sender_operator: str
    recipient: str | None = None
    prepared_at: datetime
    received_at: datetime
    posting_at: datetime | None = None
    expected_arrival: datetime | None = None
    transport_document: str | None = None
    mail_class: str | None = None
    mail_category: str | None = None
    declaration_form: str | None = None
    category: str | None = None
    category_explanation: str | None = None
    currency: str | None = None
    total_value: Decimal | None = None
    total_value_eur: Decimal | None = None
    total_gross_weight_kg: Decimal | None = None
    postal_charges: Decimal | None = None
    postal_charges_currency: str | None = None
    postal_charges_eur: Decimal | None = None
    insured_value: Decimal | None = None
    insured_currency: str | None = None
    insured_value_eur: Decimal | None = None
    invoice_number: str | None = None
    licence_numbers: list[str] = Field(default_factory=list)
    certificate_numbers: list[str] = Field(default_factory=list)
    comments: str | None = None
    sender: PartyRecord
    addressee: PartyRecord
    lines: list[Line]
    sender_key: str
    addressee_key: str
    #: Codes of the warning findings kept with the item and fed to risk.
    warnings: list[str] = Field(default_factory=list)


def version_of(prepared_at: datetime) -> int:
    """Microseconds since the epoch of the message's PreparedAt: event time orders versions."""
    return int(prepared_at.timestamp() * 1_000_000)


def supersedes(candidate: Item, current: Item) -> bool:
    """True when `candidate` is a later version of the same item than `current`."""
    if candidate.item_id != current.item_id:
        return False
    return (candidate.version, candidate.message_id) > (current.version, current.message_id)


_PARTY_RECORD = Blueprint(PartyRecord)
_LINE = Blueprint(Line)
_ITEM = Blueprint(Item)


def _party(party: Party | None) -> tuple[PartyRecord, str]:
    """The canonical party and its key (`_key` of the same fields)."""
    if party is None:
        return _PARTY_RECORD.make({}), _key({})
    fields: dict[str, Any] = {
        "name": clean(party.name),
        "business_name": clean(party.business_name),
        "phone": clean(party.phone),
        "email": clean(party.email),
        "tax_id": _code(party.tax_id),
    }
    address = party.address
    if address is not None:
        fields.update(
            street=clean(address.street),
            house_number=clean(address.house_number),
            address_lines=[c for line in address.lines if (c := clean(line))],
            postcode=clean(address.postcode),
            city=clean(address.city),
            region=clean(address.region),
            country=_code(address.country),
        )
    return _PARTY_RECORD.make(fields), _key(fields)


def _code(value: str | None) -> str | None:
    value = clean(value)
    return value.upper() if value else None


def _key(party: PartyRecord | dict[str, Any]) -> str:
    p = party if isinstance(party, dict) else party.model_dump()
    lines = p.get("address_lines") or [x for x in (p.get("street"), p.get("house_number")) if x]
    return party_key(
        p.get("name") or p.get("business_name"), p.get("postcode"), p.get("country"), lines
    )


def item_key(item_id: str | None) -> str | None:
    """An item id as items are keyed (as `to_canonical` does): trimmed, upper case."""
    return item_id.strip().upper() if item_id and item_id.strip() else None


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What every canonical item of one message shares, worked out once per message."""

    message_id: str
    sender_operator: str
    prepared_at: datetime
    message_function: MessageFunction
    version: int
    cusitm: bool
    recipient: str | None
    expected_arrival: datetime | None
    transport_document: str | None


def message_facts(message: ItmattMessage | CusitmMessage) -> MessageFacts:
    """The header's share of each canonical item; ValueError if the header is incomplete."""
    header = message.header
    if header.message_id is None or header.sender_operator is None or header.prepared_at is None:
        raise ValueError("header must be complete before an item can be made canonical")
    if isinstance(message, CusitmMessage):
        document = message.header.transport_document
        recipient = message.header.customs_office
        expected = message.header.expected_arrival
        transport = f"{document.type}:{document.value}" if document else None
    else:
        recipient, expected, transport = message.header.recipient_operator, None, None
    return MessageFacts(
        message_id=header.message_id,
        sender_operator=header.sender_operator,
        prepared_at=header.prepared_at,
        message_function=header.message_function or MessageFunction.ORIGINAL,
        version=version_of(header.prepared_at),
        cusitm=isinstance(message, CusitmMessage),
        recipient=recipient,
        expected_arrival=expected,
        transport_document=transport,
    )


def to_canonical(
    declared: DeclaredItem,
    message: ItmattMessage | CusitmMessage,
    *,
    received_at: datetime,
    rates: RateTable,
    warnings: list[str] | None = None,
) -> Item:
    """Normalise one declared item that passed validation (no error findings)."""
    return canonical_item(
        declared, message_facts(message), received_at=received_at, rates=rates, warnings=warnings
    )


def canonical_item(
    declared: DeclaredItem,
    facts: MessageFacts,
    *,
    received_at: datetime,
    rates: RateTable,
    warnings: list[str] | None = None,
) -> Item:
    """`to_canonical` with the message's share already worked out (`message_facts`).

    Every value is built with its final type, so the `Item` is assembled
    without a second validation pass (`messages.prebuilt`).
    """
    if declared.item_id is None:
        raise ValueError("item must have an identifier before it can be made canonical")
    rate_day: date = (declared.posting_datetime or facts.prepared_at).date()
    currency = _code(declared.total_value.currency) if declared.total_value else None
    total = declared.total_value.amount if declared.total_value else None
    lines = [
        _line(piece, position, rates, rate_day)
        for position, piece in enumerate(declared.contents, start=1)
    ]
    sender, sender_key = _party(declared.sender)
    addressee, addressee_key = _party(declared.addressee)
    charges = declared.postal_charges
    insured = declared.insured_value
    source: Source = (
        ("EXPRESS" if declared.id_type == "HAWB" else "CUSITM") if facts.cusitm else "ITMATT"
    )
    return _ITEM.complete(
        {
            "item_id": declared.item_id.strip().upper(),
            "id_type": declared.id_type,
            "source": source,
            "message_id": facts.message_id,
            "message_function": facts.message_function,
            "version": facts.version,
            "sender_operator": facts.sender_operator,
            "recipient": facts.recipient,
            "prepared_at": facts.prepared_at,
            "received_at": received_at,
            "posting_at": declared.posting_datetime,
            "expected_arrival": facts.expected_arrival,
            "transport_document": facts.transport_document,
            "mail_class": declared.mail_class,
            "mail_category": declared.mail_category,
            "declaration_form": declared.declaration_form,
            "category": declared.category,
            "category_explanation": clean(declared.category_explanation),
            "currency": currency,
            "total_value": total,
            "total_value_eur": _eur(rates, total, currency, rate_day),
            "total_gross_weight_kg": declared.total_gross_weight,
            "postal_charges": charges.amount if charges else None,
            "postal_charges_currency": _code(charges.currency) if charges else None,
            "postal_charges_eur": (
                _eur(rates, charges.amount, _code(charges.currency), rate_day) if charges else None
            ),
            "insured_value": insured.amount if insured else None,
            "insured_currency": _code(insured.currency) if insured else None,
            "insured_value_eur": (
                _eur(rates, insured.amount, _code(insured.currency), rate_day) if insured else None
            ),
            "invoice_number": clean(declared.invoice_number),
            "licence_numbers": [c for x in declared.licence_numbers if (c := clean(x))],
            "certificate_numbers": [c for x in declared.certificate_numbers if (c := clean(x))],
            "comments": clean(declared.comments),
            "sender": sender,
            "addressee": addressee,
            "lines": lines,
            "sender_key": sender_key,
            "addressee_key": addressee_key,
            "warnings": sorted(set(warnings or [])),
        }
    )


def _line(piece: ContentPiece, position: int, rates: RateTable, rate_day: date) -> Line:
    line_currency = _code(piece.value.currency) if piece.value else None
    line_value = piece.value.amount if piece.value else None
    return _LINE.complete(
        {
            "index": piece.index if piece.index is not None else position,
            "description": clean(piece.description),
            "quantity": piece.quantity,
            "net_weight_kg": piece.net_weight,
            "value": line_value,
            "currency": line_currency,
            "value_eur": _eur(rates, line_value, line_currency, rate_day),
            "hs_code": clean(piece.hs_code),
            "origin": _code(piece.origin_country),
        }
    )


def _eur(
    rates: RateTable, amount: Decimal | None, currency: str | None, on: date
) -> Decimal | None:
    if amount is None or currency is None:
        return None
    return rates.to_eur(amount, currency, on)


def normalise(item: Item) -> Item:
    """Re-apply text normalisation and re-derive keys. Idempotent: normalise(normalise(x)) == normalise(x)."""
    sender = _renormalise(item.sender)
    addressee = _renormalise(item.addressee)
    lines = [
        line.model_copy(
            update={
                "description": clean(line.description),
                "hs_code": clean(line.hs_code),
                "origin": _code(line.origin),
                "currency": _code(line.currency),
            }
        )
        for line in item.lines
    ]
    return item.model_copy(
        update={
            "item_id": item.item_id.strip().upper(),
            "currency": _code(item.currency),
            "category_explanation": clean(item.category_explanation),
            "comments": clean(item.comments),
            "invoice_number": clean(item.invoice_number),
            "sender": sender,
            "addressee": addressee,
            "lines": lines,
            "sender_key": _key(sender),
            "addressee_key": _key(addressee),
            "warnings": sorted(set(item.warnings)),
        }
    )


def _renormalise(party: PartyRecord) -> PartyRecord:
    return PartyRecord(
        name=clean(party.name),
        business_name=clean(party.business_name),
        street=clean(party.street),
        house_number=clean(party.house_number),
        address_lines=[c for line in party.address_lines if (c := clean(line))],
        postcode=clean(party.postcode),
        city=clean(party.city),
        region=clean(party.region),
        country=_code(party.country),
        phone=clean(party.phone),
        email=clean(party.email),
        tax_id=_code(party.tax_id),
    )
