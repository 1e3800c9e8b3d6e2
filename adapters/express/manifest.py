"""Express manifest to CUSITM: one message per manifest, one item per shipment (HAWB).

The mapping is DESIGN.md §3: the carrier declares to Customs, the master AWB is
the transport document, every shipment is a CN 23 parcel (MailClass C) whose
PostingDateTime is the departure. The master AWB is passed through even with a
bad check digit: the validate stage reports AWB_CHECK_DIGIT to the carrier.
"""

from __future__ import annotations

from datetime import datetime

from adapters._parts import make_money, make_party
from adapters.errors import AdapterCode, AdapterError
from adapters.express.manifest_csv import manifest_from_csv, manifest_to_csv
from adapters.express.manifest_json import manifest_from_json, manifest_to_json
from adapters.express.model import (
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
    "Shipment",
    "manifest_from_csv",
    "manifest_from_json",
    "manifest_problems",
    "manifest_to_csv",
    "manifest_to_cusitm",
    "manifest_to_json",
]

DEFAULT_CATEGORY = "SALE_OF_GOODS"


def manifest_to_cusitm(
    manifest: Manifest,
    *,
    customs_office: str,
    prepared_at: datetime,
    message_function: MessageFunction = MessageFunction.ORIGINAL,
) -> CusitmMessage:
    """The CUSITM message for `manifest`; AdapterError (MANIFEST_INVALID) if the carrier
    is not an operator code, since it becomes the SenderOperator."""
    if (problem := carrier_problem(manifest.carrier)) is not None:
        raise AdapterError(AdapterCode.MANIFEST_INVALID, problem, "carrier")
    if prepared_at.tzinfo is None:
        raise ValueError("prepared_at needs a UTC offset")
    header = CusitmHeader(
        message_id=manifest.manifest_id,
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


def _item(shipment: Shipment, departure: datetime | None) -> DeclaredItem:
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
