"""Rendering declared items in the formats senders really use.

Everything is generated as `DeclaredItem`s first (defects included) and only
then rendered: ITMATT 1.2/1.1 and CUSITM through the message codecs, CN 23
CSV through `adapters.post`, express manifests through `adapters.express`.
So each file says exactly what its item says, and an express shipment reaches
the validate stage as the same item after `manifest_to_cusitm`.
"""

from __future__ import annotations

from adapters.express import (
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    manifest_to_csv,
    manifest_to_json,
)
from adapters.generator.output import FileKind
from adapters.generator.parties import legacy_address
from adapters.post import itmatt_to_cn23_csv
from messages.codec import encode_cusitm, encode_itmatt
from messages.models import Address, CusitmMessage, DeclaredItem, ItmattMessage, Party

SUFFIX: dict[FileKind, str] = {
    "itmatt-1.2": "itmatt/{}.xml",
    "itmatt-1.1": "itmatt/{}.xml",
    "cusitm": "cusitm/{}.xml",
    "manifest-json": "manifests/{}.json",
    "manifest-csv": "manifests/{}.csv",
    "cn23-csv": "cn23/{}.csv",
}


def path_for(kind: FileKind, message_id: str) -> str:
    return SUFFIX[kind].format(message_id)


def to_legacy(item: DeclaredItem) -> DeclaredItem:
    """The item with ITMATT 1.1 address lines for both parties."""

    def convert(party: Party | None) -> Party | None:
        if party is None or party.address is None:
            return party
        return party.model_copy(update={"address": legacy_address(party.address)})

    return item.model_copy(
        update={"sender": convert(item.sender), "addressee": convert(item.addressee)}
    )


def render_itmatt(message: ItmattMessage, kind: FileKind) -> bytes:
    """ITMATT XML, or its CN 23 CSV export (the header then travels in `files.jsonl`)."""
    if kind == "cn23-csv":
        return itmatt_to_cn23_csv(message).encode("utf-8")
    return encode_itmatt(message)


def render_cusitm(message: CusitmMessage) -> bytes:
    return encode_cusitm(message)


def render_manifest(manifest: Manifest, kind: FileKind) -> bytes:
    if kind == "manifest-csv":
        return manifest_to_csv(manifest).encode("utf-8")
    return manifest_to_json(manifest)


def _flat(party: Party | None) -> ManifestParty | None:
    """The manifest's flat party (structured address only: manifests have no lines)."""
    if party is None:
        return None
    address = party.address or Address()
    return ManifestParty(
        name=party.name,
        business_name=party.business_name,
        street=address.street,
        house_number=address.house_number,
        postcode=address.postcode,
        city=address.city,
        region=address.region,
        country=address.country,
        phone=party.phone,
        email=party.email,
        tax_id=party.tax_id,
    )


def shipment_of(item: DeclaredItem, *, ioss: str | None) -> Shipment:
    """The manifest shipment that `manifest_to_cusitm` turns back into `item`.

    A manifest has one currency per shipment: the total's, else the first line's.
    """
    total = item.total_value
    currency = total.currency if total is not None else None
    if currency is None:
        currency = next((p.value.currency for p in item.contents if p.value), None)
    return Shipment(
        hawb=item.item_id,
        shipper=_flat(item.sender),
        consignee=_flat(item.addressee),
        pieces=1,
        gross_weight_kg=item.total_gross_weight,
        value=total.amount if total is not None else None,
        currency=currency,
        ioss=ioss,
        category=None if item.category == "SALE_OF_GOODS" else item.category,
        lines=tuple(
            ManifestLine(
                description=piece.description,
                hs_code=piece.hs_code,
                quantity=piece.quantity,
                net_weight_kg=piece.net_weight,
                value=piece.value.amount if piece.value is not None else None,
                origin=piece.origin_country,
            )
            for piece in item.contents
        ),
    )
