"""Express manifest JSON/CSV → CUSITM: mapping, equivalence, AWB handling, errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import AdapterCode, AdapterError
from adapters.express import (
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    manifest_from_csv,
    manifest_from_json,
    manifest_problems,
    manifest_to_csv,
    manifest_to_cusitm,
    manifest_to_json,
)
from adapters.express.manifest_csv import COLUMNS, REQUIRED_COLUMNS
from messages.check import check_message
from messages.codec import decode_cusitm, encode_cusitm
from messages.findings import Code
from messages.models import (
    Address,
    ContentPiece,
    CusitmHeader,
    CusitmMessage,
    DeclaredItem,
    MessageFunction,
    Money,
    Party,
    TransportDocument,
)

CET = timezone(timedelta(hours=1))
CST = timezone(timedelta(hours=8))
PREPARED = datetime(2026, 11, 22, 1, 0, tzinfo=CET)

SHIPPER = {
    "name": "Li Wei",
    "business_name": "Shenzhen Trade Co.",
    "street": "Shennan Road",
    "house_number": "1001",
    "postcode": "518000",
    "city": "Shenzhen",
    "region": "Guangdong",
    "country": "CN",
    "phone": "+86 755 1234 5678",
    "email": "shop@example.cn",
    "tax_id": None,
}
CONSIGNEE_1 = {
    "name": "Anna Müller",
    "business_name": None,
    "street": "Hauptstraße",
    "house_number": "5a",
    "postcode": "10115",
    "city": "Berlin",
    "region": None,
    "country": "DE",
    "phone": "+49 30 1234567",
    "email": "anna@example.de",
    "tax_id": None,
}
CONSIGNEE_2 = CONSIGNEE_1 | {"name": "Jan de Vries", "tax_id": "DE123456789"}

MANIFEST_TEXT = """{
  "carrier": "DHL",
  "manifest_id": "DHL-20261122-0001",
  "master_awb": "176-12345675",
  "flight": "LH8401",
  "departure": "2026-11-21T22:10:00+08:00",
  "arrival": "2026-11-22T05:40:00+01:00",
  "shipments": [
    {"hawb": "1234567890", "shipper": SHIPPER, "consignee": CONSIGNEE_1, "pieces": 1,
     "gross_weight_kg": 0.450, "value": 49.90, "currency": "EUR", "ioss": "IM2760000001",
     "lines": [
       {"description": "Men's cotton T-shirt", "hs_code": "610910", "quantity": 2,
        "net_weight_kg": 0.300, "value": 39.90, "origin": "CN"},
       {"description": "Phone case", "hs_code": "392690", "quantity": 1,
        "net_weight_kg": 0.05, "value": 10, "origin": "CN"}]},
    {"hawb": "1234567891", "shipper": SHIPPER, "consignee": CONSIGNEE_2, "pieces": 2,
     "gross_weight_kg": 1.2, "value": 120.00, "currency": "USD", "ioss": null,
     "category": "GIFT",
     "lines": [
       {"description": "Wool scarf", "hs_code": "611710", "quantity": 3,
        "net_weight_kg": 0.9, "value": 120.00, "origin": "IT"}]}
  ]
}"""
MANIFEST_JSON = (
    MANIFEST_TEXT.replace("SHIPPER", json.dumps(SHIPPER))
    .replace("CONSIGNEE_1", json.dumps(CONSIGNEE_1))
    .replace("CONSIGNEE_2", json.dumps(CONSIGNEE_2))
    .encode()
)


def party_cells(prefix: str, party: dict[str, str | None]) -> dict[str, str]:
    return {f"{prefix}_{k}": v or "" for k, v in party.items()}


MANIFEST_CELLS = {
    "carrier": "DHL",
    "manifest_id": "DHL-20261122-0001",
    "master_awb": "176-12345675",
    "flight": "LH8401",
    "departure": "2026-11-21T22:10:00+08:00",
    "arrival": "2026-11-22T05:40:00+01:00",
}
SHIPMENT_1 = MANIFEST_CELLS | {
    "hawb": "1234567890",
    **party_cells("shipper", SHIPPER),
    **party_cells("consignee", CONSIGNEE_1),
    "pieces": "1",
    "gross_weight_kg": "0.450",
    "value": "49.90",
    "currency": "EUR",
    "ioss": "IM2760000001",
}
SHIPMENT_2 = MANIFEST_CELLS | {
    "hawb": "1234567891",
    **party_cells("shipper", SHIPPER),
    **party_cells("consignee", CONSIGNEE_2),
    "pieces": "2",
    "gross_weight_kg": "1.2",
    "value": "120.00",
    "currency": "USD",
    "ioss": "",
    "category": "GIFT",
}
LINE_1 = {
    "description": "Men's cotton T-shirt",
    "hs_code": "610910",
    "quantity": "2",
    "net_weight_kg": "0.300",
    "line_value": "39.90",
    "origin": "CN",
}
LINE_2 = {
    "description": "Phone case",
    "hs_code": "392690",
    "quantity": "1",
    "net_weight_kg": "0.05",
    "line_value": "10",
    "origin": "CN",
}
LINE_3 = {
    "description": "Wool scarf",
    "hs_code": "611710",
    "quantity": "3",
    "net_weight_kg": "0.9",
    "line_value": "120.00",
    "origin": "IT",
}
CSV_ROWS = [SHIPMENT_1 | LINE_1, SHIPMENT_2 | LINE_3, SHIPMENT_1 | LINE_2]


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_cusitm(manifest: Manifest) -> CusitmMessage:
    return manifest_to_cusitm(manifest, customs_office="DE004700", prepared_at=PREPARED)


def address(party: dict[str, str | None]) -> Address:
    keys = ("street", "house_number", "postcode", "city", "region", "country")
    return Address(**{k: party[k] for k in keys})


def expected_party(party: dict[str, str | None], tax_id: str | None) -> Party:
    return Party(
        name=party["name"],
        business_name=party["business_name"],
        address=address(party),
        phone=party["phone"],
        email=party["email"],
        tax_id=tax_id,
    )


DEPARTURE = datetime(2026, 11, 21, 22, 10, tzinfo=CST)
EXPECTED = CusitmMessage(
    header=CusitmHeader(
        message_id="DHL-20261122-0001",
        message_function=MessageFunction.ORIGINAL,
        sender_operator="DHL",
        customs_office="DE004700",
        prepared_at=PREPARED,
        expected_arrival=datetime(2026, 11, 22, 5, 40, tzinfo=CET),
        transport_document=TransportDocument(type="AWB", value="176-12345675"),
    ),
    items=[
        DeclaredItem(
            item_id="1234567890",
            id_type="HAWB",
            posting_datetime=DEPARTURE,
            mail_class="C",
            declaration_form="CN23",
            category="SALE_OF_GOODS",
            total_value=Money(amount=Decimal("49.90"), currency="EUR"),
            total_gross_weight=Decimal("0.450"),
            sender=expected_party(SHIPPER, None),
            addressee=expected_party(CONSIGNEE_1, "IM2760000001"),  # ioss → tax id
            contents=[
                ContentPiece(
                    index=1,
                    description="Men's cotton T-shirt",
                    quantity=2,
                    net_weight=Decimal("0.300"),
                    value=Money(amount=Decimal("39.90"), currency="EUR"),
                    hs_code="610910",
                    origin_country="CN",
                ),
                ContentPiece(
                    index=2,
                    description="Phone case",
                    quantity=1,
                    net_weight=Decimal("0.05"),
                    value=Money(amount=Decimal("10"), currency="EUR"),
                    hs_code="392690",
                    origin_country="CN",
                ),
            ],
        ),
        DeclaredItem(
            item_id="1234567891",
            id_type="HAWB",
            posting_datetime=DEPARTURE,
            mail_class="C",
            declaration_form="CN23",
            category="GIFT",
            total_value=Money(amount=Decimal("120.00"), currency="USD"),
            total_gross_weight=Decimal("1.2"),
            sender=expected_party(SHIPPER, None),
            addressee=expected_party(CONSIGNEE_2, "DE123456789"),
            contents=[
                ContentPiece(
                    index=1,
                    description="Wool scarf",
                    quantity=3,
                    net_weight=Decimal("0.9"),
                    value=Money(amount=Decimal("120.00"), currency="USD"),
                    hs_code="611710",
                    origin_country="IT",
                )
            ],
        ),
    ],
)


def test_csv_column_contract() -> None:
    party = "name business_name street house_number postcode city region country phone"
    party += " email tax_id"
    assert REQUIRED_COLUMNS == (
        *"carrier manifest_id master_awb flight departure arrival hawb".split(),
        *[f"shipper_{f}" for f in party.split()],
        *[f"consignee_{f}" for f in party.split()],
        *"pieces gross_weight_kg value currency ioss".split(),
        *"description hs_code quantity net_weight_kg line_value origin".split(),
    )
    assert COLUMNS == (*REQUIRED_COLUMNS, "category", "message_function")


def test_json_maps_every_field_to_cusitm() -> None:
    msg = to_cusitm(manifest_from_json(MANIFEST_JSON))
    assert msg == EXPECTED
    # exact decimals, never through float
    assert str(msg.items[0].total_value.amount) == "49.90"  # type: ignore[union-attr]
    assert str(msg.items[0].total_gross_weight) == "0.450"


def test_manifest_model_keeps_flight_and_pieces() -> None:
    manifest = manifest_from_json(MANIFEST_JSON)
    assert manifest.flight == "LH8401"
    assert [s.pieces for s in manifest.shipments] == [1, 2]
    assert manifest.shipments[0].shipper == ManifestParty(**SHIPPER)


def test_csv_and_json_of_the_same_manifest_are_equal() -> None:
    from_csv = manifest_from_csv(to_csv(CSV_ROWS))
    assert from_csv == manifest_from_json(MANIFEST_JSON)
    assert to_cusitm(from_csv) == EXPECTED


def test_csv_without_the_optional_category_column() -> None:
    manifest = manifest_from_csv(to_csv(CSV_ROWS, REQUIRED_COLUMNS))
    assert [item.category for item in to_cusitm(manifest).items] == ["SALE_OF_GOODS"] * 2


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_inverse_round_trips(fmt: str) -> None:
    manifest = manifest_from_json(MANIFEST_JSON)
    if fmt == "json":
        assert manifest_from_json(manifest_to_json(manifest)) == manifest
        assert manifest_from_json(manifest_to_json(manifest).decode()) == manifest
    else:
        assert manifest_from_csv(manifest_to_csv(manifest)) == manifest


def test_json_output_has_exact_numbers() -> None:
    document = json.loads(manifest_to_json(manifest_from_json(MANIFEST_JSON)), parse_float=str)
    assert document["shipments"][0]["value"] == "49.90"
    assert document["shipments"][0]["lines"][0]["net_weight_kg"] == "0.300"
    assert "category" not in document["shipments"][0]
    assert document["shipments"][1]["category"] == "GIFT"


def test_round_trip_through_the_codec() -> None:
    assert decode_cusitm(encode_cusitm(EXPECTED)) == EXPECTED


def test_bad_master_awb_is_kept_and_reported_not_raised() -> None:
    data = MANIFEST_JSON.replace(b"176-12345675", b"176-12345676")
    manifest = manifest_from_json(data)
    msg = to_cusitm(manifest)
    assert msg.header.transport_document == TransportDocument(type="AWB", value="176-12345676")
    assert manifest_problems(manifest) == [
        "master_awb: air waybill '176-12345676' has check digit 6; serial 1234567 mod 7 is 5"
    ]
    assert manifest_from_csv(manifest_to_csv(manifest)).master_awb == "176-12345676"


def test_bad_master_awb_reaches_the_validate_stage_as_a_finding() -> None:
    data = MANIFEST_JSON.replace(b"176-12345675", b"176-12345676")
    result = check_message(encode_cusitm(to_cusitm(manifest_from_json(data))))
    assert [(f.code, f.path) for f in result.all_findings()] == [
        (Code.AWB_CHECK_DIGIT, "Header/TransportDocument")
    ]


def test_converted_manifest_passes_schema_and_rulebook() -> None:
    result = check_message(encode_cusitm(EXPECTED))
    assert result.all_findings() == []
    assert all(check.item is not None for check in result.items)


def test_good_manifest_has_no_problems() -> None:
    assert manifest_problems(manifest_from_json(MANIFEST_JSON)) == []


def test_manifest_problems() -> None:
    manifest = Manifest(
        carrier="DHL",
        manifest_id="M1",
        shipments=(
            Shipment(hawb="H1", pieces=0, ioss="IM1", consignee=ManifestParty(tax_id="DE1")),
            Shipment(hawb="H1"),
        ),
    )
    assert manifest_problems(manifest) == [
        "master_awb is missing",
        "shipments[0].pieces is 0; a shipment has at least 1",
        "shipments[0].ioss 'IM1' is not carried in CUSITM: the consignee already has tax_id 'DE1'",
        "shipments[1].hawb 'H1' repeats shipments[0]",
        "shipments[1].pieces is missing",
    ]
    msg = to_cusitm(manifest)
    assert msg.header.transport_document is None
    assert msg.items[0].addressee == Party(tax_id="DE1")
    assert msg.items[1].sender is None and msg.items[1].addressee is None


def test_ioss_without_consignee_becomes_the_addressee_tax_id() -> None:
    manifest = Manifest(carrier="DHL", manifest_id="M1", shipments=(Shipment(ioss="IM9"),))
    (item,) = to_cusitm(manifest).items
    assert item.addressee == Party(tax_id="IM9")
    assert item.total_value is None
    assert item.contents == []


def test_message_function_and_offsets() -> None:
    manifest = manifest_from_json(MANIFEST_JSON)
    msg = manifest_to_cusitm(
        manifest,
        customs_office="DE004700",
        prepared_at=datetime(2026, 11, 22, tzinfo=UTC),
        message_function=MessageFunction.CANCEL,
    )
    assert msg.header.message_function == MessageFunction.CANCEL
    with pytest.raises(ValueError, match="UTC offset"):
        manifest_to_cusitm(manifest, customs_office="X", prepared_at=datetime(2026, 11, 22))


def test_bad_carrier_on_a_constructed_manifest() -> None:
    with pytest.raises(AdapterError) as caught:
        to_cusitm(Manifest(carrier="dhl express", manifest_id="M1"))
    assert caught.value.code == AdapterCode.MANIFEST_INVALID
    assert caught.value.location == "carrier"


def mutate(change: Any) -> bytes:
    document = json.loads(MANIFEST_JSON)  # floats are fine for these error cases
    change(document)
    return json.dumps(document).encode()


def set_path(path: tuple[Any, ...], value: object) -> Any:
    def change(document: Any) -> None:
        for key in path[:-1]:
            document = document[key]
        document[path[-1]] = value

    return change


def delete(key: str) -> Any:
    return lambda document: document.pop(key)


@pytest.mark.parametrize(
    ("data", "location", "expected"),
    [
        (b'{"carrier": "DHL",', "$", "manifest is not valid JSON"),
        (b"\xff\xfe{}", "$", "not UTF-8"),
        (b'{"carrier": NaN}', "$", "NaN is not a number JSON allows"),
        (b"[" * 100_000, "$", "nested too deeply"),
        (b"[1, 2]", "$", "expected a manifest object, got an array"),
        (mutate(delete("shipments")), "shipments", "is missing; expected an array"),
        (mutate(set_path(("shipments",), {})), "shipments", "expected an array, got an object"),
        (mutate(set_path(("shipments",), [])), "shipments", "at least one shipment"),
        (mutate(set_path(("shipments", 1), "x")), "shipments[1]", "expected an object"),
        (
            mutate(set_path(("shipments", 0, "lines", 1), 7)),
            "shipments[0].lines[1]",
            "expected an object, got number 7",
        ),
        (mutate(set_path(("shipments", 0, "lines"), None)), "shipments[0].lines", "missing"),
        (
            mutate(set_path(("shipments", 0, "value"), "49.90")),
            "shipments[0].value",
            "expected a number, got string '49.90'",
        ),
        (
            mutate(set_path(("shipments", 1, "lines", 0, "value"), "abc")),
            "shipments[1].lines[0].value",
            "expected a number, got string 'abc'",
        ),
        (
            mutate(set_path(("shipments", 0, "gross_weight_kg"), True)),
            "shipments[0].gross_weight_kg",
            "expected a number, got boolean true",
        ),
        (
            mutate(set_path(("shipments", 0, "lines", 0, "hs_code"), 610910)),
            "shipments[0].lines[0].hs_code",
            "expected a string, got number 610910",
        ),
        (
            mutate(set_path(("shipments", 0, "lines", 0, "quantity"), 1.5)),
            "shipments[0].lines[0].quantity",
            "expected a whole number, got 1.5",
        ),
        (
            mutate(set_path(("shipments", 0, "shipper"), "Li Wei")),
            "shipments[0].shipper",
            "expected an object, got string 'Li Wei'",
        ),
        (
            mutate(set_path(("shipments", 0, "consignee", "zip"), "10115")),
            "shipments[0].consignee",
            "unknown keys 'zip'",
        ),
        (mutate(set_path(("shipments", 0, "hawbs"), "x")), "shipments[0]", "unknown keys 'hawbs'"),
        (mutate(set_path(("departure",), "2026-11-21T22:10:00")), "departure", "no UTC offset"),
        (mutate(set_path(("arrival",), 1763786400)), "arrival", "expected a string"),
        (
            mutate(set_path(("shipments", 0, "shipper", "name"), "Li\u0007")),
            "shipments[0].shipper.name",
            "contains the character U+0007, which XML cannot carry",
        ),
        (mutate(set_path(("carrier",), "dhl")), "carrier", "'dhl' is not an operator code"),
        (mutate(delete("carrier")), "carrier", "carrier is missing"),
        (mutate(set_path(("manifest_id",), " ")), "manifest_id", "manifest_id is missing"),
    ],
)
def test_structural_json_errors_name_the_path(data: bytes, location: str, expected: str) -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_json(data)
    assert caught.value.code == AdapterCode.MANIFEST_INVALID
    assert caught.value.location == location
    assert expected in caught.value.message


def with_number(path: tuple[Any, ...], text: str) -> bytes:
    """The manifest with the number at `path` written as `text`, verbatim."""
    return mutate(set_path(path, "__NUMBER__")).replace(b'"__NUMBER__"', text.encode())


VALUE = ("shipments", 0, "value")
LINE_VALUE = ("shipments", 1, "lines", 0, "value")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (VALUE, "1e1000000"),  # stalled the API for ~30 s before the bound
        (VALUE, "1e5000"),  # a 500 before the bound
        (VALUE, "1e400"),  # accepted before the bound
        (LINE_VALUE, "-1e400"),
        (LINE_VALUE, "1" * 400),
        (("shipments", 0, "gross_weight_kg"), "1e15"),
        (("shipments", 0, "lines", 0, "quantity"), "12345678901234567"),
        (("shipments", 0, "pieces"), "9" * 5000),
        (VALUE, "1e-1000000"),
        (VALUE, "0.0000000001"),
        (VALUE, "999999999999999991e4009999999999999999"),  # Decimal's own range: fuzzer
        (VALUE, "1.0000000000000000000000000000001"),  # was rounded to 1 silently
    ],
)
def test_numbers_out_of_range_are_refused_naming_the_field(
    path: tuple[Any, ...], text: str
) -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_json(with_number(path, text))
    assert caught.value.code == AdapterCode.MANIFEST_INVALID
    assert caught.value.location == ".".join(
        f"{p}" if isinstance(p, str) else f"[{p}]" for p in path
    ).replace(".[", "[")
    assert "out of range" in caught.value.message or "too precise" in caught.value.message
    assert len(caught.value.message) < 300, "the number is quoted short, not whole"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0e-1000000", Decimal(0)), ("49.90", Decimal("49.90")), ("1e2", Decimal(100)),
     ("123456789012345.5", Decimal("123456789012345.5")), ("0.000000001", Decimal("1e-9"))],
)  # fmt: skip
def test_numbers_in_range_keep_their_value(text: str, expected: Decimal) -> None:
    manifest = manifest_from_json(with_number(VALUE, text))
    assert manifest.shipments[0].value == expected
    assert "E" not in format(manifest.shipments[0].value, "f")


def test_a_key_given_twice_is_refused() -> None:
    data = MANIFEST_JSON.replace(b'"flight":', b'"flight": "XX1", "flight":', 1)
    assert data != MANIFEST_JSON
    with pytest.raises(AdapterError) as caught:
        manifest_from_json(data)
    assert "'flight' is given twice" in caught.value.message


def test_empty_json_values_are_absent() -> None:
    data = mutate(set_path(("shipments", 0, "consignee"), {"name": " ", "city": ""}))
    manifest = manifest_from_json(data)
    assert manifest.shipments[0].consignee is None
    data = mutate(set_path(("shipments", 0, "lines"), [{}]))
    assert manifest_from_json(data).shipments[0].lines == (ManifestLine(),)


@pytest.mark.parametrize(
    ("rows", "location", "expected"),
    [
        (
            [SHIPMENT_1 | LINE_1, SHIPMENT_2 | LINE_3 | {"flight": "LH8402"}],
            "row 3, column flight",
            "'LH8402' differs from 'LH8401' on row 2; this column must be the same on every "
            "row of the manifest",
        ),
        (
            [SHIPMENT_1 | LINE_1, SHIPMENT_1 | LINE_2 | {"consignee_city": "Bonn"}],
            "row 3, column consignee_city",
            "of hawb 1234567890",
        ),
        (
            [SHIPMENT_1 | LINE_1, SHIPMENT_2 | LINE_3 | {"line_value": "1,20"}],
            "row 3, column line_value",
            "'1,20' is not a decimal number",
        ),
        ([SHIPMENT_1 | LINE_1 | {"pieces": "one"}], "row 2, column pieces", "whole number"),
        ([SHIPMENT_1 | LINE_1 | {"hawb": ""}], "row 2, column hawb", "hawb is blank"),
        ([SHIPMENT_1 | LINE_1 | {"arrival": "tomorrow"}], "row 2, column arrival", "ISO 8601"),
    ],
)
def test_csv_errors_name_row_and_column(
    rows: list[dict[str, str]], location: str, expected: str
) -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_csv(to_csv(rows))
    assert caught.value.code == AdapterCode.CSV_INVALID
    assert caught.value.location == location
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("cells", "location", "expected"),
    [
        ({"carrier": "Dhl"}, "row 2, column carrier", "not an operator code"),
        ({"carrier": ""}, "row 2, column carrier", "carrier is missing"),
        ({"manifest_id": ""}, "row 2, column manifest_id", "manifest_id is blank"),
    ],
)
def test_csv_manifest_identity(cells: dict[str, str], location: str, expected: str) -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_csv(to_csv([SHIPMENT_1 | LINE_1 | cells]))
    assert caught.value.location == location
    assert expected in caught.value.message


def test_csv_missing_column() -> None:
    columns = tuple(c for c in REQUIRED_COLUMNS if c != "line_value")
    with pytest.raises(AdapterError, match="missing required columns: line_value"):
        manifest_from_csv(to_csv(CSV_ROWS, columns))


def test_csv_shipment_without_lines() -> None:
    manifest = manifest_from_csv(to_csv([SHIPMENT_1]))
    assert manifest.shipments[0].lines == ()
    assert manifest_from_csv(manifest_to_csv(manifest)) == manifest


@pytest.mark.parametrize(
    ("shipments", "expected"),
    [
        ((Shipment(),), "has no hawb"),
        ((Shipment(hawb="H"), Shipment(hawb="H")), "repeats hawb 'H'"),
        ((Shipment(hawb="H", lines=(ManifestLine(),)),), r"lines\[0\] has no data"),
    ],
)
def test_csv_inverse_refuses_what_it_cannot_carry(
    shipments: tuple[Shipment, ...], expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        manifest_to_csv(Manifest(carrier="DHL", manifest_id="M", shipments=shipments))


# ---------------------------------------------------------------- properties

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
).map(str.strip).filter(bool) | st.sampled_from(["a,b", 'say "hi"', "ß€中", "0123"])
maybe_text = st.none() | texts
amounts = st.none() | st.decimals(
    min_value=Decimal("-1000"), max_value=Decimal("100000"), places=3, allow_nan=False
)
when = st.none() | st.datetimes(timezones=st.sampled_from([UTC, CET, CST]))
parties = st.none() | st.builds(ManifestParty, **dict.fromkeys(SHIPPER, maybe_text)).filter(
    lambda p: p != ManifestParty()
)
lines = st.builds(
    ManifestLine,
    description=texts,
    hs_code=maybe_text,
    quantity=st.none() | st.integers(0, 10**6),
    net_weight_kg=amounts,
    value=amounts,
    origin=maybe_text,
)


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    hawbs = draw(st.lists(texts, min_size=1, max_size=4, unique=True))
    shipments = tuple(
        Shipment(
            hawb=hawb,
            shipper=draw(parties),
            consignee=draw(parties),
            pieces=draw(st.none() | st.integers(0, 99)),
            gross_weight_kg=draw(amounts),
            value=draw(amounts),
            currency=draw(maybe_text),
            ioss=draw(maybe_text),
            category=draw(maybe_text),
            lines=tuple(draw(st.lists(lines, max_size=3))),
        )
        for hawb in hawbs
    )
    return Manifest(
        carrier=draw(st.from_regex(r"[A-Z]{3}[A-Z0-9]{0,3}", fullmatch=True)),
        manifest_id=draw(texts),
        master_awb=draw(maybe_text),
        flight=draw(maybe_text),
        departure=draw(when),
        arrival=draw(when),
        shipments=shipments,
    )


@settings(max_examples=75, deadline=None)
@given(manifest=manifests())
def test_any_manifest_round_trips_json_csv_and_cusitm(manifest: Manifest) -> None:
    assert manifest_from_json(manifest_to_json(manifest)) == manifest
    assert manifest_from_csv(manifest_to_csv(manifest)) == manifest
    msg = to_cusitm(manifest)
    assert decode_cusitm(encode_cusitm(msg)) == msg
