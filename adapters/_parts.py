"""Flat records (CSV cells, manifest objects) to and from message parts: Party and Money."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from messages.models import Address, Money, Party

#: The flat party fields, in the order CN 23 CSV and express manifests list them.
PARTY_FIELDS = (
    "name",
    "business_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "region",
    "country",
    "phone",
    "email",
    "tax_id",
)
_ADDRESS_FIELDS = ("street", "house_number", "postcode", "city", "region", "country")


def make_party(fields: Mapping[str, str | None]) -> Party | None:
    """A structured (1.2) party; None when every field is blank, like an empty element."""
    if all(fields.get(name) is None for name in PARTY_FIELDS):
        return None
    address = None
    if any(fields.get(name) is not None for name in _ADDRESS_FIELDS):
        address = Address(**{name: fields.get(name) for name in _ADDRESS_FIELDS})
    return Party(
        name=fields.get("name"),
        business_name=fields.get("business_name"),
        address=address,
        phone=fields.get("phone"),
        email=fields.get("email"),
        tax_id=fields.get("tax_id"),
    )


def flatten_party(party: Party | None) -> dict[str, str | None]:
    """The inverse of `make_party`; a legacy (1.1) address has no flat form and is refused."""
    if party is None:
        return dict.fromkeys(PARTY_FIELDS)
    address = party.address or Address()
    if address.lines:
        raise ValueError("a legacy address (Line elements) has no flat form; use street etc.")
    return {
        "name": party.name,
        "business_name": party.business_name,
        "street": address.street,
        "house_number": address.house_number,
        "postcode": address.postcode,
        "city": address.city,
        "region": address.region,
        "country": address.country,
        "phone": party.phone,
        "email": party.email,
        "tax_id": party.tax_id,
    }


def make_money(amount: Decimal | None, currency: str | None) -> Money | None:
    """A declared amount; a currency without amount is kept (the rulebook reports the gap)."""
    if amount is None and currency is None:
        return None
    return Money(amount=amount, currency=currency)
