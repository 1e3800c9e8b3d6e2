"""Where a CUSITM finding is in the manifest it came from.

The validate stage checks the CUSITM a manifest became, so its findings say
`Item[2]/ContentPiece[1]/HSCode`; the carrier wrote `shipments[1].lines[0].hs_code`
(JSON, 0-based as the manifest is) or `row 7, column hs_code` (CSV, the header is
row 1, as the CSV reader's own errors count). At intake each converted message gets
a location map, stored with its inbox row:

    {"format": "json", "shipments": [0, 2]}            Item[i] is shipments[map[i - 1]]
    {"format": "csv", "row": 2,                         the first data row: manifest columns
     "shipments": [{"row": 2, "lines": [2, 3]}, ...]}   per item: its first row, a row per line

`relocate` turns stored findings' paths into manifest paths with it. A path it cannot
place (a header element the carrier does not write, such as CustomsOffice) stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from messages.codec import ADDRESS_FIELDS, PARTY_FIELDS

Format = Literal["json", "csv"]


@dataclass(frozen=True, slots=True)
class ShipmentRows:
    """CSV rows of one shipment: its first row, and the row of each of its lines."""

    row: int
    lines: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """Where a parsed manifest's parts are in the upload (rows only for CSV)."""

    format: Format
    #: CSV: the first data row, where the manifest columns are read.
    row: int = 0
    #: CSV: per shipment, in manifest order.
    shipments: tuple[ShipmentRows, ...] = ()


def locations_for(source: Source, shipments: Sequence[int]) -> dict[str, Any]:
    """The location map of one CUSITM message whose items are `shipments` (manifest indexes)."""
    if source.format == "json":
        return {"format": "json", "shipments": list(shipments)}
    return {
        "format": "csv",
        "row": source.row,
        "shipments": [
            {"row": source.shipments[k].row, "lines": list(source.shipments[k].lines)}
            for k in shipments
        ],
    }


def relocate(
    locations: dict[str, Any] | None, findings: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`findings` (as `Finding.as_dict()`) with manifest paths; unchanged without a map."""
    if not locations:
        return findings
    return [finding | {"path": manifest_path(locations, finding["path"])} for finding in findings]


# ---------------------------------------------------------------- CUSITM element → manifest field

_HEADER = {
    "MessageId": "manifest_id",
    "SenderOperator": "carrier",
    "TransportDocument": "master_awb",
    "ExpectedArrival": "arrival",
}
_SHIPMENT = {
    "ItemId": "hawb",
    "Category": "category",
    "CategoryExplanation": "category",
    "TotalValue": "value",
    "TotalGrossWeight": "gross_weight_kg",
}
_PARTIES = {"Sender": "shipper", "Addressee": "consignee"}
_LINE = {
    "Description": "description",
    "Quantity": "quantity",
    "NetWeight": "net_weight_kg",
    "Value": "value",
    "HSCode": "hs_code",
    "OriginCountry": "origin",
}
#: Where the CSV's column differs from the JSON key.
_CSV_LINE_COLUMNS = {"value": "line_value"}
_STEP = re.compile(r"^(@?[A-Za-z]+)(?:\[(\d+)\])?$")

Scope = Literal["manifest", "shipment", "line"]


@dataclass(frozen=True, slots=True)
class _Place:
    scope: Scope
    #: JSON key under the scope (dotted inside a party), None for the scope itself.
    field: str | None = None
    #: CSV column, when it is not `field` with "_" for ".".
    column: str | None = None
    #: 1-based item and line of the CUSITM path.
    item: int | None = None
    line: int | None = None


def manifest_path(locations: dict[str, Any], path: str) -> str:
    """The manifest's own location of a CUSITM path, or `path` when it cannot be placed."""
    steps = [_STEP.match(step) for step in path.split("/")] if path else []
    if not steps or any(step is None for step in steps):
        return path
    parsed = [(m.group(1), int(m.group(2)) if m.group(2) else None) for m in steps if m]
    place = _place(parsed)
    if place is None:
        return path
    if locations.get("format") == "csv":
        return _csv(locations, place) or path
    return _json(locations, place) or path


def _place(steps: list[tuple[str, int | None]]) -> _Place | None:
    (head, index), rest = steps[0], steps[1:]
    names = [name for name, _ in rest]
    if head == "Header" and index is None:
        field = _HEADER.get(names[0]) if names else None
        return None if field is None else _Place("manifest", field)
    if head != "Item" or index is None:
        return None
    if not names:
        return _Place("shipment", item=index)
    first, _ = rest[0]
    if first == "PostingDateTime":  # every shipment's posting time is the departure
        return _Place("manifest", "departure", item=index)
    if first in _PARTIES:
        return _party(_PARTIES[first], names[1:], index)
    if first == "ContentPiece":
        return _line(rest, index)
    if first == "TotalValue" and names[1:] == ["@currency"]:
        return _Place("shipment", "currency", item=index)
    return _Place("shipment", _SHIPMENT.get(first), item=index)


def _party(party: str, names: list[str], item: int) -> _Place:
    if not names:  # the whole party is missing: point at its first column
        return _Place("shipment", party, column=f"{party}_name", item=item)
    if names[0] == "Address":
        field = ADDRESS_FIELDS.get(names[1]) if len(names) > 1 else None
        if field is None:  # "has no address": the street is where an address starts
            return _Place("shipment", party, column=f"{party}_street", item=item)
        return _Place("shipment", f"{party}.{field}", item=item)
    field = PARTY_FIELDS.get(names[0])
    if field is None:
        return _Place("shipment", party, column=f"{party}_name", item=item)
    return _Place("shipment", f"{party}.{field}", item=item)


def _line(rest: list[tuple[str, int | None]], item: int) -> _Place:
    (_, line), names = rest[0], [name for name, _ in rest[1:]]
    if line is None:  # "has no ContentPiece": the shipment's lines
        return _Place("shipment", "lines", column="description", item=item)
    if names[:2] == ["Value", "@currency"]:  # one currency per shipment
        return _Place("shipment", "currency", item=item)
    field = _LINE.get(names[0]) if names else None
    return _Place("line", field, column=_CSV_LINE_COLUMNS.get(field or ""), item=item, line=line)


def _json(locations: dict[str, Any], place: _Place) -> str | None:
    if place.scope == "manifest":
        return place.field
    shipments = locations.get("shipments") or []
    if place.item is None or not 1 <= place.item <= len(shipments):
        return None
    where = f"shipments[{shipments[place.item - 1]}]"
    if place.scope == "line" and place.line is not None:
        where += f".lines[{place.line - 1}]"
    return where if place.field is None else f"{where}.{place.field}"


def _csv(locations: dict[str, Any], place: _Place) -> str | None:
    shipments = locations.get("shipments") or []
    if place.item is None:
        row = locations.get("row")
    elif 1 <= place.item <= len(shipments):
        shipment = shipments[place.item - 1]
        row = shipment["row"]
        lines = shipment["lines"]
        if place.scope == "line" and place.line is not None:
            if not 1 <= place.line <= len(lines):
                return None
            row = lines[place.line - 1]
    else:
        return None
    column = place.column or (place.field.replace(".", "_") if place.field else None)
    return f"row {row}" if column is None else f"row {row}, column {column}"
