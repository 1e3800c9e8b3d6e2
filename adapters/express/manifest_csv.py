"""Express manifest CSV (one row per line) to and from `Manifest`.

Manifest columns repeat on every row and must agree; shipment columns repeat on
every row of a `hawb` and must agree; rows group by `hawb` in order of first
appearance. A row whose line columns are all blank adds no line, which is how a
shipment without lines is written (and a cancellation, which needs only `hawb` and
`message_function`). The optional `message_function` column is shipment-level:
original (blank), replace or cancel, or 9, 5, 1.
"""

from __future__ import annotations

from adapters._parts import PARTY_FIELDS
from adapters._table import Row, group_rows, read_rows, write_rows
from adapters._values import format_datetime, format_decimal
from adapters._values import format_optional as _opt
from adapters.errors import AdapterCode, AdapterError
from adapters.express.locations import ShipmentRows, Source
from adapters.express.model import (
    FUNCTION_WORDS,
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    message_function_of,
)
from adapters.express.refusal import ManifestRefused, identity_findings
from messages.models import MessageFunction

MANIFEST_COLUMNS = ("carrier", "manifest_id", "master_awb", "flight", "departure", "arrival")
SHIPPER_COLUMNS = tuple(f"shipper_{field}" for field in PARTY_FIELDS)
CONSIGNEE_COLUMNS = tuple(f"consignee_{field}" for field in PARTY_FIELDS)
SHIPMENT_COLUMNS = (
    "hawb",
    *SHIPPER_COLUMNS,
    *CONSIGNEE_COLUMNS,
    "pieces",
    "gross_weight_kg",
    "value",
    "currency",
    "ioss",
)
LINE_COLUMNS = ("description", "hs_code", "quantity", "net_weight_kg", "line_value", "origin")
REQUIRED_COLUMNS = (*MANIFEST_COLUMNS, *SHIPMENT_COLUMNS, *LINE_COLUMNS)
#: Shipment-level: `category` blank means the CUSITM default SALE_OF_GOODS,
#: `message_function` blank means original.
OPTIONAL_COLUMNS = ("category", "message_function")
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)


def manifest_from_csv(text: str) -> Manifest:
    """Parse a manifest CSV. Raises AdapterError (CSV_INVALID) naming row and column,
    ManifestRefused (its subclass, with findings) when carrier or manifest_id is unusable."""
    return read_manifest_csv(text)[0]


def read_manifest_csv(text: str) -> tuple[Manifest, Source]:
    """The manifest and the rows each shipment and line came from (`manifest_from_csv`)."""
    rows = read_rows(text, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    first = rows[0]
    for row in rows:
        row.require_same(first, MANIFEST_COLUMNS, "the manifest")
    groups = group_rows(
        rows,
        key="hawb",
        shared=(*SHIPMENT_COLUMNS, *OPTIONAL_COLUMNS),
        noun="shipment",
        label="hawb",
    )
    carrier, manifest_id = first.text("carrier"), first.text("manifest_id")
    findings = identity_findings(carrier, manifest_id, at=first.where, absent="blank")
    if findings:
        raise ManifestRefused(AdapterCode.CSV_INVALID, findings)
    assert carrier is not None and manifest_id is not None  # identity_findings reports them
    manifest = Manifest(
        carrier=carrier,
        manifest_id=manifest_id,
        master_awb=first.text("master_awb"),
        flight=first.text("flight"),
        departure=first.datetime("departure"),
        arrival=first.datetime("arrival"),
        shipments=tuple(_shipment(group) for group in groups.values()),
    )
    source = Source(
        format="csv",
        row=first.number,
        shipments=tuple(
            ShipmentRows(row=group[0].number, lines=tuple(r.number for r in group if _has_line(r)))
            for group in groups.values()
        ),
    )
    return manifest, source


def _has_line(row: Row) -> bool:
    return any(row.cells[c] is not None for c in LINE_COLUMNS)


def _function(row: Row) -> MessageFunction:
    try:
        return message_function_of(row.text("message_function"))
    except ValueError as exc:
        raise AdapterError(
            AdapterCode.CSV_INVALID, str(exc), row.where("message_function")
        ) from None


def _shipment(rows: list[Row]) -> Shipment:
    first = rows[0]
    return Shipment(
        hawb=first.text("hawb"),
        shipper=_party(first, "shipper"),
        consignee=_party(first, "consignee"),
        pieces=first.integer("pieces"),
        gross_weight_kg=first.decimal("gross_weight_kg"),
        value=first.decimal("value"),
        currency=first.text("currency"),
        ioss=first.text("ioss"),
        category=first.text("category"),
        message_function=_function(first),
        lines=tuple(_line(row) for row in rows if _has_line(row)),
    )


def _party(row: Row, prefix: str) -> ManifestParty | None:
    party = ManifestParty(**{field: row.text(f"{prefix}_{field}") for field in PARTY_FIELDS})
    return None if party == ManifestParty() else party


def _line(row: Row) -> ManifestLine:
    return ManifestLine(
        description=row.text("description"),
        hs_code=row.text("hs_code"),
        quantity=row.integer("quantity"),
        net_weight_kg=row.decimal("net_weight_kg"),
        value=row.decimal("line_value"),
        origin=row.text("origin"),
    )


# ---------------------------------------------------------------- writing


def manifest_to_csv(manifest: Manifest) -> str:
    """CSV that `manifest_from_csv` reads back to an equal manifest.

    Raises ValueError for what the CSV layout cannot carry rather than losing it:
    a shipment without hawb, two shipments with the same hawb (they would merge),
    a line with no data (a blank line row means "no line").
    """
    common = {
        "carrier": manifest.carrier,
        "manifest_id": manifest.manifest_id,
        "master_awb": manifest.master_awb,
        "flight": manifest.flight,
        "departure": _opt(manifest.departure, format_datetime),
        "arrival": _opt(manifest.arrival, format_datetime),
    }
    rows: list[dict[str, str | None]] = []
    seen: set[str] = set()
    # The column is written only when a shipment needs it, so plain manifests keep their layout.
    functions = any(s.message_function is not MessageFunction.ORIGINAL for s in manifest.shipments)
    for position, shipment in enumerate(manifest.shipments):
        if shipment.hawb is None or shipment.hawb in seen:
            problem = "has no hawb" if shipment.hawb is None else f"repeats hawb {shipment.hawb!r}"
            raise ValueError(f"shipments[{position}] {problem}; CSV groups rows by hawb")
        seen.add(shipment.hawb)
        shipment_cells = common | _shipment_cells(shipment)
        if not shipment.lines:
            rows.append(shipment_cells)
        for index, line in enumerate(shipment.lines):
            if line == ManifestLine():
                raise ValueError(f"shipments[{position}].lines[{index}] has no data")
            rows.append(shipment_cells | _line_cells(line))
    columns = COLUMNS if functions else tuple(c for c in COLUMNS if c != "message_function")
    return write_rows(columns, rows)


def _shipment_cells(shipment: Shipment) -> dict[str, str | None]:
    cells: dict[str, str | None] = {
        "hawb": shipment.hawb,
        "pieces": _opt(shipment.pieces, str),
        "gross_weight_kg": _opt(shipment.gross_weight_kg, format_decimal),
        "value": _opt(shipment.value, format_decimal),
        "currency": shipment.currency,
        "ioss": shipment.ioss,
        "category": shipment.category,
        "message_function": FUNCTION_WORDS[shipment.message_function],
    }
    for prefix, party in (("shipper", shipment.shipper), ("consignee", shipment.consignee)):
        values = party.as_dict() if party is not None else dict.fromkeys(PARTY_FIELDS)
        cells.update({f"{prefix}_{field}": value for field, value in values.items()})
    return cells


def _line_cells(line: ManifestLine) -> dict[str, str | None]:
    return {
        "description": line.description,
        "hs_code": line.hs_code,
        "quantity": _opt(line.quantity, str),
        "net_weight_kg": _opt(line.net_weight_kg, format_decimal),
        "line_value": _opt(line.value, format_decimal),
        "origin": line.origin,
    }
