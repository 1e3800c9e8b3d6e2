"""Table-driven: for every validation code, one failing case and one passing neighbour.

Each case mutates a valid message in one place; the failing variant must report
exactly the expected code(s), the passing one must not report it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from messages.check import MessageCheck, check_message
from messages.codec import encode_cusitm, encode_itmatt
from messages.models import Address, ContentPiece, Money
from tests import builders as b


def itmatt_bytes(*items: object, **header: object) -> bytes:
    return encode_itmatt(b.itmatt(*items, **header))  # type: ignore[arg-type]


def codes(result: MessageCheck) -> set[str]:
    return {f.code.value for f in result.all_findings()}


@dataclass(frozen=True)
class Case:
    code: str
    failing: Callable[[], bytes]
    passing: Callable[[], bytes]
    path: str | None = None


def replace_xml(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def addr(**kw: object) -> Address:
    base = {
        "street": "Hauptstraße", "house_number": "5", "postcode": "10115", "city": "Berlin",
        "country": "DE",
    }  # fmt: skip
    base.update(kw)  # type: ignore[arg-type]
    return Address(**base)  # type: ignore[arg-type]


def eur(amount: str, currency: str = "EUR") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


CASES = [
    Case(
        "ITEM_ID_FORMAT",
        lambda: itmatt_bytes(b.item(item_id="RR12345678CN")),
        lambda: itmatt_bytes(b.item(item_id="RR123456785CN")),
        "Item[1]/ItemId",
    ),
    Case(
        "ITEM_ID_CHECK_DIGIT",
        lambda: itmatt_bytes(b.item(item_id="RB123456786GB")),
        lambda: itmatt_bytes(b.item(item_id="RB123456785GB")),
        "Item[1]/ItemId",
    ),
    Case(
        "ITEM_ID_COUNTRY",
        lambda: itmatt_bytes(b.item(item_id="RB123456785XX")),
        lambda: itmatt_bytes(b.item(item_id="RB123456785GB")),
        "Item[1]/ItemId",
    ),
    Case(
        "COUNTRY_CODE",
        lambda: itmatt_bytes(b.item(addressee=b.addressee(address=addr(country="UK")))),
        lambda: itmatt_bytes(b.item(addressee=b.addressee(address=addr(country="GB")))),
        "Item[1]/Addressee/Address/Country",
    ),
    Case(
        "CURRENCY_CODE",
        lambda: itmatt_bytes(
            b.item(total_value=eur("39.90", "RMB"), contents=[b.piece(value=eur("39.90", "RMB"))])
        ),
        lambda: itmatt_bytes(
            b.item(total_value=eur("39.90", "CNY"), contents=[b.piece(value=eur("39.90", "CNY"))])
        ),
    ),
    Case(
        "HS_FORMAT",
        lambda: itmatt_bytes(b.item(contents=[b.piece(hs_code="6109.10")])),
        lambda: itmatt_bytes(b.item(contents=[b.piece(hs_code="6109100010")])),
        "Item[1]/ContentPiece[1]/HSCode",
    ),
    Case(
        "HS_UNKNOWN",
        lambda: itmatt_bytes(b.item(contents=[b.piece(hs_code="999999")])),
        lambda: itmatt_bytes(b.item(contents=[b.piece(hs_code="610910")])),
        "Item[1]/ContentPiece[1]/HSCode",
    ),
    Case(
        "HS_MISSING",
        lambda: itmatt_bytes(b.item(contents=[b.piece(hs_code=None)])),
        lambda: itmatt_bytes(b.item(category="GIFT", contents=[b.piece(hs_code=None)])),
        "Item[1]/ContentPiece[1]/HSCode",
    ),
    Case(
        "ORIGIN_MISSING",
        lambda: itmatt_bytes(b.item(contents=[b.piece(origin_country=None)])),
        lambda: itmatt_bytes(b.item(category="GIFT", contents=[b.piece(origin_country=None)])),
        "Item[1]/ContentPiece[1]/OriginCountry",
    ),
    Case(
        "MANDATORY_MISSING",
        lambda: itmatt_bytes(b.item(addressee=b.addressee(name=None))),
        lambda: itmatt_bytes(b.item(addressee=b.addressee(name="A. Müller"))),
        "Item[1]/Addressee/Name",
    ),
    Case(
        "CATEGORY_EXPLANATION",
        lambda: itmatt_bytes(b.item(category="OTHER")),
        lambda: itmatt_bytes(b.item(category="OTHER", category_explanation="Spare bicycle tube")),
        "Item[1]/CategoryExplanation",
    ),
    Case(
        "TOTAL_VALUE_MISMATCH",
        lambda: itmatt_bytes(b.item(total_value=eur("19.90"))),
        lambda: itmatt_bytes(b.item(total_value=eur("39.91"))),
        "Item[1]/TotalValue",
    ),
    Case(
        "WEIGHT_INCONSISTENT",
        lambda: itmatt_bytes(b.item(total_gross_weight=Decimal("0.299"))),
        lambda: itmatt_bytes(b.item(total_gross_weight=Decimal("0.300"))),
        "Item[1]/TotalGrossWeight",
    ),
    Case(
        "DESCRIPTION_VAGUE",
        lambda: itmatt_bytes(b.item(contents=[b.piece(description=" Gifts! ")])),
        lambda: itmatt_bytes(b.item(contents=[b.piece(description="Gift box of green tea")])),
        "Item[1]/ContentPiece[1]/Description",
    ),
    Case(
        "TEXT_GARBAGE",
        lambda: itmatt_bytes(b.item(sender=b.sender(name="xxxxxx"))),
        lambda: itmatt_bytes(b.item(sender=b.sender(name="Wang Xiuying"))),
        "Item[1]/Sender/Name",
    ),
    Case(
        "CN22_OVER_LIMIT",
        lambda: itmatt_bytes(
            b.item(
                declaration_form="CN22",
                total_value=eur("450.00"),
                contents=[b.piece(value=eur("450.00"))],
            )
        ),
        lambda: itmatt_bytes(
            b.item(
                declaration_form="CN23",
                total_value=eur("450.00"),
                contents=[b.piece(value=eur("450.00"))],
            )
        ),
        "Item[1]/DeclarationForm",
    ),
    Case(
        "PHONE_FORMAT",
        lambda: itmatt_bytes(b.item(addressee=b.addressee(phone="030 1234567"))),
        lambda: itmatt_bytes(b.item(addressee=b.addressee(phone="+49 30 1234567"))),
        "Item[1]/Addressee/Phone",
    ),
    Case(
        "LATE_DATA",
        lambda: itmatt_bytes(b.item(posting_datetime=b.PREPARED - timedelta(hours=73))),
        lambda: itmatt_bytes(b.item(posting_datetime=b.PREPARED - timedelta(hours=71))),
        "Item[1]/PostingDateTime",
    ),
    Case(
        "AWB_CHECK_DIGIT",
        lambda: encode_cusitm(
            b.cusitm(transport_document={"type": "AWB", "value": "615-12345670"})
        ),
        lambda: encode_cusitm(b.cusitm()),
        "Header/TransportDocument",
    ),
    Case(
        "SCHEMA",
        lambda: replace_xml(itmatt_bytes(), b"<Quantity>2</Quantity>", b"<Quantity>two</Quantity>"),
        lambda: replace_xml(itmatt_bytes(), b"<Quantity>2</Quantity>", b"<Quantity>3</Quantity>"),
        "Item[1]/ContentPiece[1]/Quantity",
    ),
]


def test_every_item_code_has_a_case() -> None:
    from messages.findings import Code

    not_in_rulebook = {
        "XML_MALFORMED", "XML_FORBIDDEN", "XML_TOO_LARGE",  # tests/unit/test_xml_attacks.py
        "DUPLICATE_MESSAGE", "MESSAGE_ID_REUSED", "UNKNOWN_OPERATOR", "CANCEL_UNKNOWN",  # pipeline
        "ITEM_ID_REUSED",  # pipeline: tests/e2e/test_item_lifecycle.py
    }  # fmt: skip
    assert {c.code for c in CASES} == {c.value for c in Code} - not_in_rulebook


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_failing_case_reports_exactly_the_code(case: Case) -> None:
    result = check_message(case.failing())
    assert codes(result) == {case.code}, [f.as_dict() for f in result.all_findings()]
    finding = result.all_findings()[0]
    if case.path is not None:
        assert finding.path == case.path
    assert finding.message, "every finding explains itself"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_passing_neighbour_is_clean(case: Case) -> None:
    result = check_message(case.passing())
    assert codes(result) == set(), [f.as_dict() for f in result.all_findings()]
    assert all(item.item is not None for item in result.items)


def test_error_rejects_item_and_warning_keeps_it() -> None:
    data = itmatt_bytes(
        b.item(item_id="RB123456786GB"),
        b.item(item_id="RB123456785GB", contents=[b.piece(description="gift")]),
    )
    result = check_message(data)
    rejected, kept = result.items
    assert rejected.rejected and rejected.item is None
    assert not kept.rejected and kept.item is not None
    assert kept.item.warnings == ["DESCRIPTION_VAGUE"]


def test_message_names_the_bad_value() -> None:
    result = check_message(itmatt_bytes(b.item(contents=[b.piece(hs_code="999999")])))
    assert "999999" in result.all_findings()[0].message


def test_legacy_layout_decodes_to_the_same_canonical_party() -> None:
    legacy_addressee = b.addressee(
        address=Address(lines=["Hauptstraße 5"], postcode="10115", city="Berlin", country="DE")
    )
    legacy_sender = b.sender(
        address=Address(
            lines=["1001 Shennan Road"], postcode="518000", city="Shenzhen", country="CN"
        )
    )
    legacy_item = b.item(sender=legacy_sender, addressee=legacy_addressee)
    legacy = check_message(itmatt_bytes(legacy_item, version="1.1"))
    structured = check_message(itmatt_bytes(b.item()))
    assert legacy.all_findings() == [] and structured.all_findings() == []
    left, right = legacy.items[0].item, structured.items[0].item
    assert left is not None and right is not None
    assert left.addressee_key == right.addressee_key


def test_header_missing_message_id_refuses_message() -> None:
    result = check_message(itmatt_bytes(message_id=None))
    assert result.refused
    assert [f.code.value for f in result.findings] == ["MANDATORY_MISSING"]
    assert all(item.item is None for item in result.items)


def test_specific_code_wins_over_schema() -> None:
    long_country = b.addressee(address=addr(country="GERMANY-FEDERAL-REPUBLIC-OF-GERMANY-XX"))
    result = check_message(itmatt_bytes(b.item(addressee=long_country)))
    assert codes(result) == {"COUNTRY_CODE"}


def test_unparseable_value_is_schema_not_missing() -> None:
    data = replace_xml(itmatt_bytes(), b">39.90</TotalValue>", b">about 40</TotalValue>")
    result = check_message(data)
    assert codes(result) == {"SCHEMA"}
    assert result.all_findings()[0].path == "Item[1]/TotalValue"


def test_mixed_currency_totals_compare_in_eur() -> None:
    item = b.item(
        total_value=eur("50.00"),
        contents=[b.piece(value=eur("50.00", "USD")), b.piece(2, value=eur("0.00"))],
    )
    result = check_message(itmatt_bytes(item))
    assert "TOTAL_VALUE_MISMATCH" in codes(result)


def test_documents_description_is_fine_for_documents_category() -> None:
    docs = b.item(category="DOCUMENTS", contents=[b.piece(description="Documents", hs_code=None)])
    assert codes(check_message(itmatt_bytes(docs))) == set()


def test_content_piece_without_value_is_missing() -> None:
    mug = ContentPiece(
        index=1, description="Mug", quantity=1, net_weight=Decimal("0.3"), hs_code="691200",
        origin_country="CN",
    )  # fmt: skip
    result = check_message(itmatt_bytes(b.item(contents=[mug])))
    assert codes(result) == {"MANDATORY_MISSING"}
    assert result.all_findings()[0].path == "Item[1]/ContentPiece[1]/Value"


def test_concurrent_threads_get_their_own_findings() -> None:
    from concurrent.futures import ThreadPoolExecutor

    bad = replace_xml(itmatt_bytes(), b"<Quantity>2</Quantity>", b"<Quantity>two</Quantity>")
    good = itmatt_bytes()
    inputs = [bad, good] * 100
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check_message, inputs))
    for data, result in zip(inputs, results, strict=True):
        assert codes(result) == ({"SCHEMA"} if data is bad else set())
