"""The canonical item: normalised values, EUR amounts, keys and version order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from messages.canonical import Item, supersedes
from messages.check import check_message
from messages.codec import encode_cusitm, encode_itmatt
from messages.models import MessageFunction, Money
from tests import builders as b


def canonical(data: bytes) -> Item:
    result = check_message(data)
    assert result.all_findings() == []
    item = result.items[0].item
    assert item is not None
    return item


def test_later_replacement_supersedes_original() -> None:
    original = canonical(encode_itmatt(b.itmatt()))
    replacement = canonical(
        encode_itmatt(
            b.itmatt(
                message_id="CNA-20261122-000002",
                message_function=MessageFunction.REPLACE,
                prepared_at=b.PREPARED + timedelta(hours=2),
            )
        )
    )
    assert replacement.message_function is MessageFunction.REPLACE
    assert supersedes(replacement, original)
    assert not supersedes(original, replacement)


def test_cancellation_is_a_version_too() -> None:
    original = canonical(encode_itmatt(b.itmatt()))
    cancel = canonical(
        encode_itmatt(
            b.itmatt(
                message_id="CNA-20261122-000009",
                message_function=MessageFunction.CANCEL,
                prepared_at=b.PREPARED + timedelta(minutes=1),
            )
        )
    )
    assert cancel.message_function is MessageFunction.CANCEL and supersedes(cancel, original)


def test_other_items_never_supersede() -> None:
    first = canonical(encode_itmatt(b.itmatt()))
    other = canonical(
        encode_itmatt(
            b.itmatt(b.item(item_id="RB123456785GB"), prepared_at=b.PREPARED + timedelta(days=1))
        )
    )
    assert not supersedes(other, first)


def test_values_in_declared_currency_and_eur() -> None:
    item = canonical(
        encode_itmatt(
            b.itmatt(
                b.item(
                    total_value=Money(amount=Decimal("100.00"), currency="USD"),
                    contents=[b.piece(value=Money(amount=Decimal("100.00"), currency="USD"))],
                )
            )
        )
    )
    assert item.currency == "USD" and item.total_value == Decimal("100.00")
    assert item.total_value_eur is not None and Decimal(70) < item.total_value_eur < Decimal(110)
    assert item.lines[0].value_eur == item.total_value_eur


def test_same_addressee_different_spelling_shares_key() -> None:
    plain = canonical(encode_itmatt(b.itmatt()))
    variant = canonical(
        encode_itmatt(b.itmatt(b.item(addressee=b.addressee(name="  ANNA  MULLER "))))
    )
    other = canonical(encode_itmatt(b.itmatt(b.item(addressee=b.addressee(name="Anna Schmidt")))))
    assert plain.addressee_key == variant.addressee_key != other.addressee_key
    assert variant.addressee.name == "ANNA MULLER"  # display text keeps the sender's spelling


def test_express_items_are_marked_express() -> None:
    hawb = b.item(item_id="1234567890", id_type="HAWB")
    item = canonical(encode_cusitm(b.cusitm(hawb)))
    assert item.source == "EXPRESS" and item.transport_document is not None
    assert item.expected_arrival == b.PREPARED + timedelta(hours=20)


def test_warnings_travel_with_the_item() -> None:
    result = check_message(encode_itmatt(b.itmatt(b.item(contents=[b.piece(description="gift")]))))
    assert result.items[0].item is not None
    assert result.items[0].item.warnings == ["DESCRIPTION_VAGUE"]
