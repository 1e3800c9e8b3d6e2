"""CN 23 CSV export → ITMATT 1.2: columns, grouping, errors, round trips."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import AdapterCode, AdapterError
from adapters.post import cn23_csv_to_itmatt, itmatt_to_cn23_csv
from adapters.post.cn23_csv import COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from messages.check import check_message
from messages.codec import decode_itmatt, encode_itmatt
from messages.models import (
    Address,
    ContentPiece,
    DeclaredItem,
    ItmattHeader,
    ItmattMessage,
    MessageFunction,
    Money,
    Party,
)

CST = timezone(timedelta(hours=8))
PREPARED = datetime(2026, 11, 22, 10, 15, tzinfo=CST)
HEADER = {
    "message_id": "CNA-20261122-000001",
    "sender_operator": "CNA",
    "recipient_operator": "DEA",
    "prepared_at": PREPARED,
}

PARTY = (
    "name business_name street house_number postcode city region country phone email tax_id"
).split()

ITEM_A = {
    "item_id": "RR123456785CN",
    "posting_datetime": "2026-11-21T09:00:00+08:00",
    "mail_class": "C",
    "mail_category": "A",
    "declaration_form": "CN23",
    "category": "SALE_OF_GOODS",
    "category_explanation": "",
    "total_value": "49.90",
    "currency": "EUR",
    "total_gross_weight": "0.450",
    "postal_charges": "4.50",
    "sender_name": "Li Wei",
    "sender_business_name": "Shenzhen Trade Co.",
    "sender_street": "Shennan Road",
    "sender_house_number": "1001",
    "sender_postcode": "518000",
    "sender_city": "Shenzhen",
    "sender_region": "Guangdong",
    "sender_country": "CN",
    "sender_phone": "+86 755 1234 5678",
    "sender_email": "shop@example.cn",
    "sender_tax_id": "",
    "addressee_name": "Anna Müller",
    "addressee_business_name": "",
    "addressee_street": "Hauptstraße",
    "addressee_house_number": "5a",
    "addressee_postcode": "10115",
    "addressee_city": "Berlin",
    "addressee_region": "",
    "addressee_country": "DE",
    "addressee_phone": "+49 30 1234567",
    "addressee_email": "anna@example.de",
    "addressee_tax_id": "IM2760000001",
}
PIECE_A1 = {
    "description": "Men's cotton T-shirt",
    "quantity": "2",
    "net_weight": "0.300",
    "value": "39.90",
    "hs_code": "610910",
    "origin_country": "CN",
}
PIECE_A2 = {
    "description": 'Phone case, "slim"',
    "quantity": "1",
    "net_weight": "0.050",
    "value": "10.00",
    "hs_code": "392690",
    "origin_country": "CN",
}
ITEM_B = ITEM_A | {
    "item_id": "RR987654326CN",
    "category": "GIFT",
    "total_value": "15",
    "postal_charges": "",
    "addressee_name": "Jan de Vries",
    "addressee_tax_id": "",
}
PIECE_B1 = {
    "description": "Wool scarf",
    "quantity": "1",
    "net_weight": "0.2",
    "value": "15",
    "hs_code": "611710",
    "origin_country": "CN",
}


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = REQUIRED_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


SAMPLE = to_csv([ITEM_A | PIECE_A1, ITEM_B | PIECE_B1, ITEM_A | PIECE_A2])


def convert(text: str) -> ItmattMessage:
    return cn23_csv_to_itmatt(text, **HEADER)  # type: ignore[arg-type]


def error_of(text: str) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        convert(text)
    assert caught.value.code == AdapterCode.CSV_INVALID
    return caught.value


def test_column_contract() -> None:
    item = (
        "item_id posting_datetime mail_class mail_category declaration_form category "
        "category_explanation total_value currency total_gross_weight postal_charges"
    ).split()
    piece = "description quantity net_weight value hs_code origin_country".split()
    sender = [f"sender_{f}" for f in PARTY]
    addressee = [f"addressee_{f}" for f in PARTY]
    assert REQUIRED_COLUMNS == (*item, *sender, *addressee, *piece)
    assert OPTIONAL_COLUMNS == ("id_type", "insured_value", "invoice_number", "comments")


def test_maps_every_field_of_an_item() -> None:
    msg = convert(SAMPLE)
    assert msg.version == "1.2"
    assert msg.header == ItmattHeader(
        message_id="CNA-20261122-000001",
        message_function=MessageFunction.ORIGINAL,
        sender_operator="CNA",
        recipient_operator="DEA",
        prepared_at=PREPARED,
    )
    assert msg.items[0] == DeclaredItem(
        item_id="RR123456785CN",
        id_type="S10",
        posting_datetime=datetime(2026, 11, 21, 9, 0, tzinfo=CST),
        mail_class="C",
        mail_category="A",
        declaration_form="CN23",
        category="SALE_OF_GOODS",
        category_explanation=None,
        total_value=Money(amount=Decimal("49.90"), currency="EUR"),
        total_gross_weight=Decimal("0.450"),
        postal_charges=Money(amount=Decimal("4.50"), currency="EUR"),
        sender=Party(
            name="Li Wei",
            business_name="Shenzhen Trade Co.",
            address=Address(
                street="Shennan Road",
                house_number="1001",
                postcode="518000",
                city="Shenzhen",
                region="Guangdong",
                country="CN",
            ),
            phone="+86 755 1234 5678",
            email="shop@example.cn",
        ),
        addressee=Party(
            name="Anna Müller",
            address=Address(
                street="Hauptstraße",
                house_number="5a",
                postcode="10115",
                city="Berlin",
                country="DE",
            ),
            phone="+49 30 1234567",
            email="anna@example.de",
            tax_id="IM2760000001",
        ),
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
                description='Phone case, "slim"',
                quantity=1,
                net_weight=Decimal("0.050"),
                value=Money(amount=Decimal("10.00"), currency="EUR"),
                hs_code="392690",
                origin_country="CN",
            ),
        ],
    )
    assert str(msg.items[0].total_value.amount) == "49.90"  # type: ignore[union-attr]


def test_rows_group_by_item_id_in_order_of_first_appearance() -> None:
    msg = convert(SAMPLE)
    assert [item.item_id for item in msg.items] == ["RR123456785CN", "RR987654326CN"]
    assert [p.description for p in msg.items[0].contents] == [
        "Men's cotton T-shirt",
        'Phone case, "slim"',
    ]
    assert [p.index for p in msg.items[0].contents] == [1, 2]
    assert [p.index for p in msg.items[1].contents] == [1]
    assert msg.items[1].postal_charges is None


def test_blank_cells_are_absent_not_invented() -> None:
    blank = dict.fromkeys(REQUIRED_COLUMNS, "") | {"item_id": "RR123456785CN"}
    blank |= {"description": "Book"}
    (item,) = convert(to_csv([blank])).items
    assert item == DeclaredItem(
        item_id="RR123456785CN", contents=[ContentPiece(index=1, description="Book")]
    )


def test_name_without_address_has_no_address() -> None:
    row = ITEM_A | PIECE_A1 | {f"addressee_{f}": "" for f in PARTY} | {"addressee_name": "Bo"}
    (item,) = convert(to_csv([row])).items
    assert item.addressee == Party(name="Bo")


def test_item_without_pieces_is_one_row_with_blank_piece_cells() -> None:
    (item,) = convert(to_csv([ITEM_A])).items
    assert item.contents == []


def test_currency_without_amount_is_kept_for_the_rulebook() -> None:
    (item,) = convert(to_csv([ITEM_A | PIECE_A1 | {"total_value": "", "value": ""}])).items
    assert item.total_value == Money(currency="EUR")
    assert item.contents[0].value == Money(currency="EUR")


def test_optional_columns() -> None:
    extra = {"id_type": "OTHER", "insured_value": "20", "invoice_number": "INV-1", "comments": "x"}
    (item,) = convert(to_csv([ITEM_A | PIECE_A1 | extra], COLUMNS)).items
    assert item.id_type == "OTHER"
    assert item.insured_value == Money(amount=Decimal("20"), currency="EUR")
    assert (item.invoice_number, item.comments) == ("INV-1", "x")


def test_bom_crlf_and_header_case_and_blank_lines_are_tolerated() -> None:
    text = "\ufeff" + SAMPLE.replace("item_id,", "Item_ID ,", 1) + "\r\n,,,\r\n"
    assert convert(text) == convert(SAMPLE)


def test_missing_columns_are_named() -> None:
    columns = tuple(c for c in REQUIRED_COLUMNS if c not in ("hs_code", "sender_city"))
    error = error_of(to_csv([ITEM_A | PIECE_A1], columns))
    assert error.location == "row 1"
    assert "missing required columns: sender_city, hs_code" in error.message


def test_unknown_column_is_refused_not_dropped() -> None:
    error = error_of(SAMPLE.replace(",hs_code,", ",hs_cod,", 1))
    assert "unknown columns: hs_cod" in error.message


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("total_value", "12,50", "'12,50' is not a decimal number"),
        ("total_gross_weight", "1e3", "'1e3' is not a decimal number"),
        ("net_weight", "abc", "'abc' is not a decimal number"),
        ("value", "NaN", "'NaN' is not a decimal number"),
        ("postal_charges", "€4", "'€4' is not a decimal number"),
        ("quantity", "2.5", "'2.5' is not a whole number"),
        ("quantity", "\u0663", "'\u0663' is not a whole number"),
        ("posting_datetime", "yesterday", "'yesterday' is not an ISO 8601 date-time"),
        ("posting_datetime", "2026-11-21T09:00:00", "has no UTC offset"),
    ],
)
def test_bad_value_names_row_column_and_value(column: str, value: str, expected: str) -> None:
    row = ITEM_B | PIECE_B1 | {column: value}
    error = error_of(to_csv([ITEM_A | PIECE_A1, ITEM_A | PIECE_A2, row]))
    assert error.location == f"row 4, column {column}"
    assert expected in error.message
    assert str(error) == f"row 4, column {column}: {error.message}"


def test_item_level_cells_must_agree_across_rows() -> None:
    error = error_of(to_csv([ITEM_A | PIECE_A1, ITEM_A | PIECE_A2 | {"total_value": "50"}]))
    assert error.location == "row 3, column total_value"
    assert "'50' differs from '49.90' on row 2" in error.message
    assert "RR123456785CN" in error.message


def test_blank_item_id_is_refused() -> None:
    error = error_of(to_csv([ITEM_A | PIECE_A1, ITEM_A | PIECE_A2 | {"item_id": ""}]))
    assert error.location == "row 3, column item_id"


@pytest.mark.parametrize(
    ("text", "location", "expected"),
    [
        ("", "", "CSV is empty"),
        (to_csv([]), "", "no data rows"),
        (
            SAMPLE.rstrip("\r\n") + ",extra\r\n",
            "row 4",
            "row has 40 cells; the header has 39 columns",
        ),
        (to_csv([ITEM_A]).replace("item_id,", "item_id,item_id,", 1), "row 1", "duplicate"),
        (to_csv([ITEM_A | {"id_type": "UPU"}], COLUMNS), "row 2, column id_type", "'UPU'"),
        (to_csv([ITEM_A | {"description": "a\x00b"}]), "row 2, column description", "U+0000"),
        (SAMPLE + 'RR1,"unterminated\n', "row 5", "CSV is not readable: unexpected end"),
    ],
)
def test_structural_errors(text: str, location: str, expected: str) -> None:
    error = error_of(text)
    assert error.location == location
    assert expected in error.message


def test_round_trip_through_the_codec() -> None:
    msg = convert(SAMPLE)
    assert decode_itmatt(encode_itmatt(msg)) == msg


def test_converted_sample_passes_schema_and_rulebook() -> None:
    result = check_message(encode_itmatt(convert(SAMPLE)))
    assert result.all_findings() == []
    assert [check.item is not None for check in result.items] == [True, True]


def test_inverse_round_trip() -> None:
    msg = convert(SAMPLE)
    assert convert(itmatt_to_cn23_csv(msg)) == msg


def test_other_header_arguments() -> None:
    msg = cn23_csv_to_itmatt(
        SAMPLE,
        message_id="M1",
        sender_operator="CNA",
        recipient_operator="DEA",
        prepared_at=datetime(2026, 1, 1, tzinfo=UTC),
        message_function=MessageFunction.REPLACE,
    )
    assert msg.header.message_function == MessageFunction.REPLACE
    with pytest.raises(ValueError, match="UTC offset"):
        cn23_csv_to_itmatt(SAMPLE, **HEADER | {"prepared_at": datetime(2026, 1, 1)})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"licence_numbers": ["L1"]}, "licence"),
        ({"total_value": Money(amount=Decimal(1), currency="USD")}, "one currency per item"),
        ({"item_id": None}, "without item_id"),
        ({"contents": [ContentPiece(index=2, description="x")]}, "index 2"),
        ({"contents": [ContentPiece(index=1)]}, "no data"),
        ({"sender": Party(address=Address(lines=["1 Main St"]))}, "legacy address"),
    ],
)
def test_inverse_refuses_what_csv_cannot_carry(change: dict[str, object], expected: str) -> None:
    msg = convert(SAMPLE)
    item = msg.items[0].model_copy(update=change)
    with pytest.raises(ValueError, match=expected):
        itmatt_to_cn23_csv(msg.model_copy(update={"items": [item]}))


cell_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
).map(str.strip).filter(bool) | st.sampled_from(["a,b", 'say "hi"', "line1\nline2", "ß€中"])


@settings(max_examples=60, deadline=None)
@given(description=cell_text, name=cell_text, city=cell_text)
def test_any_text_survives_the_csv_round_trip(description: str, name: str, city: str) -> None:
    row = ITEM_A | PIECE_A1 | {"description": description, "sender_name": name}
    msg = convert(to_csv([row | {"addressee_city": city}]))
    assert msg.items[0].contents[0].description == description
    assert convert(itmatt_to_cn23_csv(msg)) == msg
