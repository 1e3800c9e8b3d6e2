"""An express carrier's manifest as sent (DESIGN.md §3 "Express manifest").

Like the message models, data fields are optional: missing data is passed on for
the rulebook to report. Only what a message cannot exist without is required:
`carrier` (the SenderOperator that keys the record) and `manifest_id` (its MessageId).
`flight` and `pieces` have no CUSITM element; they stay here for `manifest_problems`.
Each shipment carries its own message function (original, replace, cancel), so a
corrected manifest can be resent with only what changed marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from adapters._values import operator_code_problem
from messages.awb import awb_problem
from messages.models import MessageFunction

#: The manifest's words for EDIFACT 1225, as written back (`message_function`).
FUNCTION_WORDS = {
    MessageFunction.ORIGINAL: "original",
    MessageFunction.REPLACE: "replace",
    MessageFunction.CANCEL: "cancel",
}
_FUNCTIONS = {word: function for function, word in FUNCTION_WORDS.items()} | {
    str(int(function)): function for function in MessageFunction
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestParty:
    """Shipper or consignee: the flat object of the manifest."""

    name: str | None = None
    business_name: str | None = None
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None
    tax_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestLine:
    description: str | None = None
    hs_code: str | None = None
    quantity: int | None = None
    net_weight_kg: Decimal | None = None
    value: Decimal | None = None  # line total, in the shipment currency
    origin: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipment:
    hawb: str | None = None
    shipper: ManifestParty | None = None
    consignee: ManifestParty | None = None
    pieces: int | None = None
    gross_weight_kg: Decimal | None = None
    value: Decimal | None = None  # shipment total
    currency: str | None = None
    ioss: str | None = None
    category: str | None = None  # optional in the manifest; CUSITM default SALE_OF_GOODS
    #: Absent or blank in the manifest means ORIGINAL.
    message_function: MessageFunction = MessageFunction.ORIGINAL
    lines: tuple[ManifestLine, ...] = ()

    @property
    def hawb_only(self) -> bool:
        """Nothing but the HAWB (and its function): all a cancellation needs."""
        return self == Shipment(hawb=self.hawb, message_function=self.message_function)


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    carrier: str
    manifest_id: str
    master_awb: str | None = None
    flight: str | None = None
    departure: datetime | None = None
    arrival: datetime | None = None
    shipments: tuple[Shipment, ...] = ()


def message_function_of(text: str | None) -> MessageFunction:
    """The message function a manifest names: original|replace|cancel or 9|5|1, any case;
    None (absent or blank) is ORIGINAL. ValueError says what is accepted."""
    if text is None or not text.strip():
        return MessageFunction.ORIGINAL
    found = _FUNCTIONS.get(text.strip().casefold())
    if found is None:
        raise ValueError(
            f"{text!r} is not a message function; use original, replace or cancel "
            "(or the EDIFACT codes 9, 5, 1)"
        )
    return found


def carrier_problem(carrier: str | None) -> str | None:
    """Why `carrier` cannot be a SenderOperator, or None."""
    return operator_code_problem(carrier, "carrier")


def manifest_problems(manifest: Manifest) -> list[str]:
    """Problems a dry run should show that the CUSITM message cannot (or only later) show.

    The parser never raises for these: a bad master AWB check digit is refused by
    intake as AWB_CHECK_DIGIT with its place (`adapters.express.upload`), and found by
    `aedex validate` through the converted CUSITM.
    """
    problems: list[str] = []
    if manifest.master_awb is None:
        problems.append("master_awb is missing")
    elif (awb := awb_problem(manifest.master_awb)) is not None:
        problems.append(f"master_awb: {awb}")
    seen: dict[str, int] = {}
    for position, shipment in enumerate(manifest.shipments):
        where = f"shipments[{position}]"
        if shipment.hawb is not None:
            if shipment.hawb in seen:
                problems.append(
                    f"{where}.hawb {shipment.hawb!r} repeats shipments[{seen[shipment.hawb]}]"
                )
            seen.setdefault(shipment.hawb, position)
        if shipment.pieces is None:
            problems.append(f"{where}.pieces is missing")
        elif shipment.pieces < 1:
            problems.append(f"{where}.pieces is {shipment.pieces}; a shipment has at least 1")
        consignee_tax_id = shipment.consignee.tax_id if shipment.consignee else None
        if shipment.ioss is not None and consignee_tax_id not in (None, shipment.ioss):
            problems.append(
                f"{where}.ioss {shipment.ioss!r} is not carried in CUSITM: "
                f"the consignee already has tax_id {consignee_tax_id!r}"
            )
    return problems
