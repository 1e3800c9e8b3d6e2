"""The text rules of DESIGN.md §3, case by case."""

from __future__ import annotations

import pytest

from messages.rulebook import garbage_reason, is_vague, phone_problem


@pytest.mark.parametrize(
    ("text", "digits_allowed"),
    [
        ("N/A", False), ("n. a.", False), ("T.B.D.", False), ("unknown", False), ("TEST", False),
        ("xxx", False), ("asdf", False), ("-", False), (".", False), ("???", False), ("***", False),
        ("123456", False), ("0 0 0", False), ("Aaaaa", False), ("Hellllo", False), ("€€", False),
    ],
)  # fmt: skip
def test_garbage(text: str, digits_allowed: bool) -> None:
    assert garbage_reason(text, digits_allowed=digits_allowed) is not None


@pytest.mark.parametrize(
    ("text", "digits_allowed"),
    [
        ("Li Wei", False), ("Anna Müller", False), ("北京市", False), ("O'Brien", False),
        ("12 Rue de la Paix", True), ("221B", True), ("Testa Rossa Srl", False),
        ("Naan bread", False), ("Zzz sleep mask", False), ("Wooden toy train", False),
    ],
)  # fmt: skip
def test_not_garbage(text: str, digits_allowed: bool) -> None:
    assert garbage_reason(text, digits_allowed=digits_allowed) is None


def test_street_numbers_allowed_but_names_not() -> None:
    assert garbage_reason("42", digits_allowed=True) is None
    assert garbage_reason("42") == "has only digits"


@pytest.mark.parametrize(
    "text", ["gift", "Gifts", " GOODS ", "spare parts", "Spare-Parts!", "personal effects", "Toys."]
)
def test_vague(text: str) -> None:
    assert is_vague(text, "SALE_OF_GOODS")


@pytest.mark.parametrize(
    "text", ["Gift box of green tea", "Toy car, die-cast", "Bicycle spare parts: brake pads"]
)
def test_specific_is_not_vague(text: str) -> None:
    assert not is_vague(text, "SALE_OF_GOODS")


def test_documents_vague_unless_category_documents() -> None:
    assert is_vague("Documents", "SALE_OF_GOODS")
    assert not is_vague("Documents", "DOCUMENTS")


@pytest.mark.parametrize(
    "phone", ["+49 30 1234567", "+86 755 8888 1234", "+1 212 555 0100", "+442079460000"]
)
def test_e123_international_phone(phone: str) -> None:
    assert phone_problem(phone) is None


@pytest.mark.parametrize(
    "phone",
    ["030 1234567", "0049 30 1234567", "+49-30-1234567", "(030) 123", "+49 30", "+999 123 45678"],
)
def test_not_e123(phone: str) -> None:
    assert phone_problem(phone) is not None
