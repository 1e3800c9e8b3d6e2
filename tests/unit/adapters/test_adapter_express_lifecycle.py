"""Manifests in the item lifecycle: the message function per shipment, one CUSITM per
function, header refusals at the manifest's own place, and finding paths mapped back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.errors import AdapterCode, AdapterError
from adapters.express import (
    Manifest,
    Shipment,
    manifest_from_csv,
    manifest_from_json,
    manifest_to_csv,
    manifest_to_cusitm,
    manifest_to_cusitms,
    manifest_to_json,
)
from adapters.express.locations import Format, manifest_path, relocate
from adapters.express.manifest import MAX_MANIFEST_ID
from adapters.express.refusal import ManifestRefused
from adapters.express.upload import UploadMessage, read_manifest, upload_messages
from messages.check import check_message
from messages.codec import encode_cusitm
from messages.findings import Code
from messages.models import DeclaredItem, MessageFunction
from tests.unit.adapters.test_adapter_express_manifest import (
    CSV_ROWS,
    LINE_1,
    MANIFEST_CELLS,
    MANIFEST_JSON,
    SHIPMENT_1,
    SHIPMENT_2,
    to_csv,
)

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
ORIGINAL, REPLACE, CANCEL = (
    MessageFunction.ORIGINAL,
    MessageFunction.REPLACE,
    MessageFunction.CANCEL,
)


def document(**changes: Any) -> dict[str, Any]:
    """MANIFEST_JSON as a dict (two shipments; the first has two lines) with `changes`."""
    found: dict[str, Any] = json.loads(MANIFEST_JSON)
    return found | changes


def with_functions(*functions: object) -> bytes:
    """MANIFEST_JSON with shipment k's message_function set to functions[k] (None: absent)."""
    manifest = document()
    for shipment, function in zip(manifest["shipments"], functions, strict=True):
        if function is not None:
            shipment["message_function"] = function
    return json.dumps(manifest).encode()


def csv_with(*cells: dict[str, str]) -> str:
    """CSV_ROWS (rows 2-4: shipment 1 line 1, shipment 2, shipment 1 line 2) with cells set."""
    return to_csv([row | extra for row, extra in zip(CSV_ROWS, cells, strict=True)])


def messages(
    data: bytes, fmt: Format = "json", fingerprint: bytes = b"upload"
) -> list[UploadMessage]:
    return upload_messages(
        read_manifest(data, fmt),
        customs_office="DE004700",
        prepared_at=NOW,
        fingerprint=fingerprint,
    )


def refusal(data: bytes, fmt: Format = "json") -> ManifestRefused:
    with pytest.raises(ManifestRefused) as caught:
        messages(data, fmt)
    return caught.value


# ---------------------------------------------------------------- the function field and column


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ORIGINAL), ("original", ORIGINAL), ("REPLACE", REPLACE), ("Cancel", CANCEL),
        (" replace ", REPLACE), ("9", ORIGINAL), ("5", REPLACE), ("1", CANCEL), (5, REPLACE),
        (1, CANCEL), ("", ORIGINAL),
    ],
)  # fmt: skip
def test_json_message_function(value: object, expected: MessageFunction) -> None:
    manifest = manifest_from_json(with_functions(None, value))
    assert [s.message_function for s in manifest.shipments] == [ORIGINAL, expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ORIGINAL), ("original", ORIGINAL), ("Replace", REPLACE), ("CANCEL", CANCEL),
     ("9", ORIGINAL), ("5", REPLACE), ("1", CANCEL)],
)  # fmt: skip
def test_csv_message_function(value: str, expected: MessageFunction) -> None:
    cells = {"message_function": value}
    manifest = manifest_from_csv(csv_with({}, cells, {}))
    assert [s.message_function for s in manifest.shipments] == [ORIGINAL, expected]


def test_csv_without_the_column_is_all_originals() -> None:
    columns = tuple(c for c in SHIPMENT_1 | LINE_1 if c != "message_function")
    manifest = manifest_from_csv(to_csv(CSV_ROWS, columns))
    assert {s.message_function for s in manifest.shipments} == {ORIGINAL}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("replce", "'replce' is not a message function; use original, replace or cancel"),
        (7, "'7' is not a message function"),
        (True, "expected a string, got boolean true"),
        (["cancel"], "expected a string, got an array"),
    ],
)
def test_a_json_function_that_is_not_one_is_refused_at_its_shipment(
    value: object, expected: str
) -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_json(with_functions(None, value))
    assert caught.value.code == AdapterCode.MANIFEST_INVALID
    assert caught.value.location == "shipments[1].message_function"
    assert expected in caught.value.message


def test_a_csv_function_that_is_not_one_is_refused_at_its_row() -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_csv(csv_with({}, {"message_function": "delete"}, {}))
    assert caught.value.code == AdapterCode.CSV_INVALID
    assert caught.value.location == "row 3, column message_function"
    assert "'delete' is not a message function" in caught.value.message


def test_the_rows_of_one_shipment_agree_on_its_function() -> None:
    with pytest.raises(AdapterError) as caught:
        manifest_from_csv(csv_with({"message_function": "replace"}, {}, {}))
    assert caught.value.location == "row 4, column message_function"
    assert "must be the same on every row of hawb 1234567890" in caught.value.message


def test_a_json_cancellation_needs_only_its_hawb() -> None:
    manifest = document()
    manifest["shipments"][1] = {"hawb": "1234567891", "message_function": "cancel"}
    parsed = manifest_from_json(json.dumps(manifest).encode())
    assert parsed.shipments[1] == Shipment(hawb="1234567891", message_function=CANCEL)
    assert parsed.shipments[1].hawb_only


def test_only_a_cancellation_may_leave_out_its_lines() -> None:
    manifest = document()
    manifest["shipments"][1] = {"hawb": "1234567891", "message_function": "replace"}
    with pytest.raises(AdapterError) as caught:
        manifest_from_json(json.dumps(manifest).encode())
    assert caught.value.location == "shipments[1].lines"
    assert "only a cancellation may leave it out" in caught.value.message


def test_a_csv_cancellation_is_a_row_with_its_hawb() -> None:
    cancel = MANIFEST_CELLS | {"hawb": "1234567891", "message_function": "cancel"}
    parsed = manifest_from_csv(to_csv([SHIPMENT_1 | LINE_1, cancel]))
    assert parsed.shipments[1] == Shipment(hawb="1234567891", message_function=CANCEL)


def test_the_function_is_written_back_only_where_it_is_needed() -> None:
    plain = manifest_from_json(MANIFEST_JSON)
    assert b"message_function" not in manifest_to_json(plain)
    assert "message_function" not in manifest_to_csv(plain).splitlines()[0]
    mixed = manifest_from_json(with_functions("replace", "cancel"))
    assert b'"message_function": "replace"' in manifest_to_json(mixed)
    assert manifest_from_json(manifest_to_json(mixed)) == mixed
    assert manifest_from_csv(manifest_to_csv(mixed)) == mixed


# ---------------------------------------------------------------- one CUSITM per function


def test_each_function_becomes_its_own_message_in_order_of_first_appearance() -> None:
    manifest = Manifest(
        carrier="DHL",
        manifest_id="M-1",
        shipments=(
            Shipment(hawb="A", message_function=REPLACE),
            Shipment(hawb="B"),
            Shipment(hawb="C", message_function=CANCEL),
            Shipment(hawb="D", message_function=REPLACE),
        ),
    )
    made = manifest_to_cusitms(
        manifest, customs_office="DE004700", prepared_at=NOW, fingerprint=b"bytes"
    )
    assert [m.message.header.message_function for m in made] == [REPLACE, ORIGINAL, CANCEL]
    assert [m.shipments for m in made] == [(0, 3), (1,), (2,)]
    assert [[i.item_id for i in m.message.items] for m in made] == [["A", "D"], ["B"], ["C"]]
    # The cancellation names its item and nothing else: no invented mail class or category.
    assert made[2].message.items == [DeclaredItem(item_id="C", id_type="HAWB")]
    ids = [m.message.header.message_id or "" for m in made]
    assert [i.rsplit("-", 1)[1] for i in ids] == ["5", "9", "1"]
    assert all(i.startswith("M-1-") and len(i) == len("M-1") + 11 for i in ids)


def test_message_ids_follow_the_upload() -> None:
    def ids(fingerprint: bytes) -> list[str | None]:
        return [m.message.header.message_id for m in messages(MANIFEST_JSON, "json", fingerprint)]

    assert ids(b"first") == ids(b"first"), "a resend of the same bytes has the same ids"
    assert ids(b"first") != ids(b"corrected"), "a corrected upload has new ids"


def test_one_message_of_all_shipments_refuses_mixed_functions() -> None:
    manifest = manifest_from_json(with_functions("replace", "cancel"))
    with pytest.raises(AdapterError) as caught:
        manifest_to_cusitm(manifest, customs_office="DE004700", prepared_at=NOW)
    assert caught.value.location == "shipments"
    assert "several message functions (replace, cancel)" in caught.value.message
    one = manifest_from_json(with_functions("replace", "5"))
    message = manifest_to_cusitm(one, customs_office="DE004700", prepared_at=NOW)
    assert message.header.message_function == REPLACE


# ---------------------------------------------------------------- header refusals


def test_a_bad_master_awb_is_refused_at_its_json_path() -> None:
    refused = refusal(json.dumps(document(master_awb="176-12345676")).encode())
    assert refused.code == AdapterCode.MANIFEST_INVALID
    assert [(f.code, f.path) for f in refused.findings] == [(Code.AWB_CHECK_DIGIT, "master_awb")]
    assert "check digit 6" in refused.findings[0].message


def test_a_bad_master_awb_is_refused_at_its_csv_row() -> None:
    bad = {"master_awb": "176-12345676"}
    refused = refusal(csv_with(bad, bad, bad).encode(), "csv")
    assert refused.code == AdapterCode.CSV_INVALID
    assert [(f.code, f.path) for f in refused.findings] == [
        (Code.AWB_CHECK_DIGIT, "row 2, column master_awb")
    ]


def test_a_header_problem_is_reported_once_for_all_the_messages() -> None:
    manifest = json.loads(with_functions("replace", "cancel"))
    refused = refusal(json.dumps(manifest | {"master_awb": "17612345"}).encode())
    assert [(f.code, f.path) for f in refused.findings] == [(Code.AWB_CHECK_DIGIT, "master_awb")]


def test_an_over_long_master_awb_is_refused_with_the_specific_code() -> None:
    refused = refusal(json.dumps(document(master_awb="176-" + "1" * 40)).encode())
    assert [f.path for f in refused.findings] == ["master_awb"]
    assert refused.findings[0].code == Code.AWB_CHECK_DIGIT


@pytest.mark.parametrize(
    ("length", "refused"), [(MAX_MANIFEST_ID, False), (MAX_MANIFEST_ID + 1, True)]
)
def test_a_manifest_id_too_long_to_carry_is_refused(length: int, refused: bool) -> None:
    data = json.dumps(document(manifest_id="M" * length)).encode()
    if not refused:
        assert all(len(m.message.header.message_id or "") == 35 for m in messages(data))
        return
    found = refusal(data)
    assert [(f.code, f.path) for f in found.findings] == [(Code.SCHEMA, "manifest_id")]
    assert f"at most {MAX_MANIFEST_ID} fit" in found.findings[0].message


@pytest.mark.parametrize(
    ("data", "fmt", "expected"),
    [
        (
            json.dumps(document(manifest_id=None)).encode(),
            "json",
            [(Code.MANDATORY_MISSING, "manifest_id")],
        ),
        (
            json.dumps(document(manifest_id=None, carrier=None)).encode(),
            "json",
            [(Code.MANDATORY_MISSING, "carrier"), (Code.MANDATORY_MISSING, "manifest_id")],
        ),
        (
            json.dumps(document(carrier="dhl")).encode(),
            "json",
            [(Code.SCHEMA, "carrier")],
        ),
        (
            to_csv([SHIPMENT_1 | LINE_1 | {"manifest_id": ""}]).encode(),
            "csv",
            [(Code.MANDATORY_MISSING, "row 2, column manifest_id")],
        ),
    ],
)
def test_a_manifest_without_its_identity_is_refused_with_findings(
    data: bytes, fmt: Format, expected: list[tuple[Code, str]]
) -> None:
    with pytest.raises(ManifestRefused) as caught:
        read_manifest(data, fmt)
    assert [(f.code, f.path) for f in caught.value.findings] == expected
    assert caught.value.location == expected[0][1], "still an AdapterError naming the place"


def test_item_level_problems_do_not_refuse_the_manifest() -> None:
    manifest = document()
    manifest["shipments"][0]["lines"][0]["hs_code"] = "999999"
    manifest["shipments"][1]["currency"] = "RMB"
    assert len(messages(json.dumps(manifest).encode())) == 1


# ---------------------------------------------------------------- finding paths

JSON_MAP = {"format": "json", "shipments": [0, 1]}
#: CSV_ROWS: row 2 shipment 1 line 1, row 3 shipment 2 line 1, row 4 shipment 1 line 2.
CSV_MAP = {
    "format": "csv",
    "row": 2,
    "shipments": [{"row": 2, "lines": [2, 4]}, {"row": 3, "lines": [3]}],
}


@pytest.mark.parametrize(
    ("path", "json_path", "csv_path"),
    [
        ("Header/TransportDocument", "master_awb", "row 2, column master_awb"),
        ("Header/TransportDocument/@type", "master_awb", "row 2, column master_awb"),
        ("Header/MessageId", "manifest_id", "row 2, column manifest_id"),
        ("Header/SenderOperator", "carrier", "row 2, column carrier"),
        ("Header/ExpectedArrival", "arrival", "row 2, column arrival"),
        ("Header/CustomsOffice", "Header/CustomsOffice", "Header/CustomsOffice"),
        ("Item[1]/ContentPiece[2]/HSCode", "shipments[0].lines[1].hs_code", "row 4, column hs_code"),
        ("Item[2]/ContentPiece[1]/Value", "shipments[1].lines[0].value", "row 3, column line_value"),
        ("Item[2]/ContentPiece[1]/Value/@currency", "shipments[1].currency", "row 3, column currency"),
        ("Item[1]/ContentPiece[1]/NetWeight", "shipments[0].lines[0].net_weight_kg", "row 2, column net_weight_kg"),
        ("Item[1]/ContentPiece[2]/OriginCountry", "shipments[0].lines[1].origin", "row 4, column origin"),
        ("Item[1]/ContentPiece[1]", "shipments[0].lines[0]", "row 2"),
        ("Item[1]/ContentPiece", "shipments[0].lines", "row 2, column description"),
        ("Item[1]/TotalValue", "shipments[0].value", "row 2, column value"),
        ("Item[1]/TotalValue/@currency", "shipments[0].currency", "row 2, column currency"),
        ("Item[1]/TotalGrossWeight", "shipments[0].gross_weight_kg", "row 2, column gross_weight_kg"),
        ("Item[2]/ItemId", "shipments[1].hawb", "row 3, column hawb"),
        ("Item[2]/CategoryExplanation", "shipments[1].category", "row 3, column category"),
        ("Item[1]/Sender", "shipments[0].shipper", "row 2, column shipper_name"),
        ("Item[1]/Sender/Name", "shipments[0].shipper.name", "row 2, column shipper_name"),
        ("Item[1]/Sender/Address", "shipments[0].shipper", "row 2, column shipper_street"),
        ("Item[2]/Addressee/Address/Country", "shipments[1].consignee.country", "row 3, column consignee_country"),
        ("Item[2]/Addressee/Phone", "shipments[1].consignee.phone", "row 3, column consignee_phone"),
        ("Item[1]/PostingDateTime", "departure", "row 2, column departure"),
        ("Item[2]", "shipments[1]", "row 3"),
        ("Item[2]/MailClass", "shipments[1]", "row 3"),
        ("Item[3]/ItemId", "Item[3]/ItemId", "Item[3]/ItemId"),
        ("", "", ""),
        ("not a path", "not a path", "not a path"),
    ],
)  # fmt: skip
def test_cusitm_paths_name_the_manifest_location(path: str, json_path: str, csv_path: str) -> None:
    assert manifest_path(JSON_MAP, path) == json_path
    assert manifest_path(CSV_MAP, path) == csv_path


def test_a_split_manifest_maps_each_message_to_its_own_shipments() -> None:
    """Shipment 0 is cancelled, shipment 1 (bad HS code) sent again: in its message it is
    Item[1], but the finding names shipments[1] / row 3, where the carrier wrote it."""
    manifest = document()
    manifest["shipments"][0] = {"hawb": "1234567890", "message_function": "cancel"}
    manifest["shipments"][1]["lines"][0]["hs_code"] = "999999"
    cancel = MANIFEST_CELLS | {"hawb": "1234567890", "message_function": "cancel"}
    csv = to_csv([cancel, SHIPMENT_2 | CSV_ROWS[1] | {"hs_code": "999999"}])
    cases: list[tuple[bytes, Format, str]] = [
        (json.dumps(manifest).encode(), "json", "shipments[1].lines[0].hs_code"),
        (csv.encode(), "csv", "row 3, column hs_code"),
    ]
    for data, fmt, expected in cases:
        cancelled, original = messages(data, fmt)
        assert cancelled.function == CANCEL and original.function == ORIGINAL
        check = check_message(encode_cusitm(original.message), received_at=NOW)
        [item] = check.items
        found = relocate(original.locations, [f.as_dict() for f in item.findings])
        assert ("HS_UNKNOWN", expected) in {(f["code"], f["path"]) for f in found}, found
        [cancel_item] = check_message(encode_cusitm(cancelled.message), received_at=NOW).items
        assert cancel_item.findings == [], "a cancellation by HAWB alone is valid"


def test_relocate_leaves_xml_findings_and_its_input_alone() -> None:
    findings = [{"code": "HS_UNKNOWN", "severity": "error", "path": "Item[1]/ContentPiece[1]/HSCode",
                 "message": "x"}]  # fmt: skip
    assert relocate(None, findings) is findings
    moved = relocate(JSON_MAP, findings)
    assert moved[0]["path"] == "shipments[0].lines[0].hs_code"
    assert findings[0]["path"] == "Item[1]/ContentPiece[1]/HSCode"
