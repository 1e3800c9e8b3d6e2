"""Express manifest to CUSITM: one message per message function, one item per shipment (HAWB).

The mapping is DESIGN.md §3: the carrier declares to Customs, the master AWB is
the transport document, every shipment is a CN 23 parcel (MailClass C) whose
PostingDateTime is the departure. MessageFunction is a CUSITM header element but a
manifest gives it per shipment, so `manifest_to_cusitms` makes one message per
function present. The master AWB is passed through as it is: intake refuses a bad
one before anything is stored (`adapters.express.upload`), `aedex validate` reports it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from adapters._parts import make_money, make_party
from adapters.errors import AdapterCode, AdapterError
from adapters.express.manifest_csv import manifest_from_csv, manifest_to_csv
from adapters.express.manifest_json import manifest_from_json, manifest_to_json
from adapters.express.model import (
    FUNCTION_WORDS,
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    carrier_problem,
    manifest_problems,
)
from messages.models import (
    ContentPiece,
    CusitmHeader,
    CusitmMessage,
    DeclaredItem,
    MessageFunction,
    Party,
    TransportDocument,
)

__all__ = [
    "Manifest",
    "ManifestLine",
    "ManifestParty",
    "ManifestMessage",
    "Shipment",
    "manifest_from_csv",
    "manifest_from_json",
    "manifest_problems",
    "manifest_to_csv",
    "manifest_to_cusitm",
    "manifest_to_cusitms",
    "manifest_to_json",
    "message_id_for",
]

DEFAULT_CATEGORY = "SALE_OF_GOODS"
#: CUSITM MessageId is an..35; `message_id_for` adds "-" + 8 hex digits + "-" + the function.
MESSAGE_ID_SUFFIX = len("-0123abcd-9")
MAX_MANIFEST_ID = 35 - MESSAGE_ID_SUFFIX


@dataclass(frozen=True, slots=True)
class ManifestMessage:
    """One CUSITM a manifest became, and the manifest index of the shipment of each item."""

    message: CusitmMessage
    shipments: tuple[int, ...]


def message_id_for(manifest_id: str, fingerprint: bytes, function: MessageFunction) -> str:
    """`<manifest_id>-<8 hex of SHA-256 of the upload>-<9|5|1>`: the same upload gives the
    same ids (a resend is a duplicate), a corrected upload under the same manifest_id new ones
    (not a reused MessageId), and each function of one upload its own."""
    digest = hashlib.sha256(fingerprint).hexdigest()[:8]
    return f"{manifest_id}-{digest}-{int(function)}"


def manifest_to_cusitms(
    manifest: Manifest, *, customs_office: str, prepared_at: datetime, fingerprint: bytes
) -> list[ManifestMessage]:
    """One CUSITM per message function the shipments name, in order of first appearance,
    with MessageIds from `message_id_for` (the caller checks `MAX_MANIFEST_ID`)."""
    groups: dict[MessageFunction, list[int]] = {}
    for index, shipment in enumerate(manifest.shipments):
        groups.setdefault(shipment.message_function, []).append(index)
    return [
        ManifestMessage(
            manifest_to_cusitm(
                replace(manifest, shipments=tuple(manifest.shipments[k] for k in indexes)),
                customs_office=customs_office,
                prepared_at=prepared_at,
                message_function=function,
                message_id=message_id_for(manifest.manifest_id, fingerprint, function),
            ),
            tuple(indexes),
        )
        for function, indexes in groups.items()
    ]


def manifest_to_cusitm(
    manifest: Manifest,
    *,
    customs_office: str,
    prepared_at: datetime,
    message_function: MessageFunction | None = None,
    message_id: str | None = None,
) -> CusitmMessage:
    """The CUSITM message for all of `manifest`: MessageId `message_id` (default the
    manifest_id), MessageFunction `message_function` (default the one every shipment names).

    AdapterError (MANIFEST_INVALID) if the carrier is not an operator code, since it becomes
    the SenderOperator, or if the shipments name several functions (`manifest_to_cusitms`).
    """
    if (problem := carrier_problem(manifest.carrier)) is not None:
        raise AdapterError(AdapterCode.MANIFEST_INVALID, problem, "carrier")
    if prepared_at.tzinfo is None:
        raise ValueError("prepared_at needs a UTC offset")
    if message_function is None:
        message_function = _one_function(manifest)
    header = CusitmHeader(
        message_id=manifest.manifest_id if message_id is None else message_id,
        message_function=message_function,
        sender_operator=manifest.carrier,
        customs_office=customs_office,
        prepared_at=prepared_at,
        expected_arrival=manifest.arrival,
        transport_document=(
            None
            if manifest.master_awb is None
            else TransportDocument(type="AWB", value=manifest.master_awb)
        ),
    )
    items = [_item(shipment, manifest.departure) for shipment in manifest.shipments]
    return CusitmMessage(header=header, items=items)


def _one_function(manifest: Manifest) -> MessageFunction:
    functions = {shipment.message_function for shipment in manifest.shipments}
    if len(functions) > 1:
        names = ", ".join(FUNCTION_WORDS[f] for f in sorted(functions, reverse=True))
        raise AdapterError(
            AdapterCode.MANIFEST_INVALID,
            f"the shipments name several message functions ({names}); each becomes a CUSITM "
            "message of its own",
            "shipments",
        )
    return functions.pop() if functions else MessageFunction.ORIGINAL


def _item(shipment: Shipment, departure: datetime | None) -> DeclaredItem:
    if shipment.message_function is MessageFunction.CANCEL and shipment.hawb_only:
        # A cancellation names the item; nothing is invented for what was not sent.
        return DeclaredItem(item_id=shipment.hawb, id_type="HAWB")
    return DeclaredItem(
        item_id=shipment.hawb,
        id_type="HAWB",
        posting_datetime=departure,
        mail_class="C",
        declaration_form="CN23",
        category=shipment.category or DEFAULT_CATEGORY,
        total_value=make_money(shipment.value, shipment.currency),
        total_gross_weight=shipment.gross_weight_kg,
        sender=_party(shipment.shipper),
        addressee=_party(shipment.consignee, ioss=shipment.ioss),
        contents=[
            _piece(index, line, shipment.currency) for index, line in enumerate(shipment.lines, 1)
        ],
    )


def _party(party: ManifestParty | None, *, ioss: str | None = None) -> Party | None:
    """The IOSS number is the consignee's tax id unless the consignee gives one
    (`manifest_problems` reports an IOSS that is not carried for that reason)."""
    fields = party.as_dict() if party is not None else {}
    if fields.get("tax_id") is None:
        fields["tax_id"] = ioss
    return make_party(fields)


def _piece(index: int, line: ManifestLine, currency: str | None) -> ContentPiece:
    return ContentPiece(
        index=index,
        description=line.description,
        quantity=line.quantity,
        net_weight=line.net_weight_kg,
        value=make_money(line.value, currency),
        hs_code=line.hs_code,
        origin_country=line.origin,
    )
