"""The comparison baselines (zen decision table, CEL, plain Python) agree rule for rule."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from adapters.generator import generate, itmatt_only
from benchmarks.risk_baselines import (
    COMPARISON_RULES,
    CelBaseline,
    ComparisonRule,
    Document,
    ZenBaseline,
    item_document,
    python_reference,
)
from messages.canonical import Item
from messages.check import check_message

RULE_IDS = {rule.id for rule in COMPARISON_RULES}


@pytest.fixture(scope="module")
def zen_baseline() -> ZenBaseline:
    return ZenBaseline(COMPARISON_RULES)


@pytest.fixture(scope="module")
def cel_baseline() -> CelBaseline:
    return CelBaseline(COMPARISON_RULES)


@pytest.fixture(scope="module")
def generated_items() -> list[Item]:
    options = itmatt_only(600, 3)
    items = [
        check.item
        for file in generate(options)
        if file.path.startswith("itmatt")
        for check in check_message(file.data).items
        if check.item is not None
    ]
    assert len(items) > 500
    return items


# ------------------------------------------------------------------ our rule language


def hs_in(code: str | None, *prefixes: str) -> bool:
    return code is not None and code.startswith(prefixes)


def when_fired(item: object) -> set[str]:
    """Evaluate each rule's `when` (a Python-expression subset) with `item` bound."""
    scope = {"__builtins__": {}, "any": any, "len": len, "hs_in": hs_in, "item": item}
    return {rule.id for rule in COMPARISON_RULES if eval(rule.when, scope)}


def as_object(value: Any) -> Any:
    """A document dict as attribute access, the way `when` reads the canonical item."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: as_object(v) for key, v in value.items()})
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [as_object(v) for v in value]
    return value


# ------------------------------------------------------------------ hand-built documents


def line(**changes: Any) -> Document:
    base: Document = {
        "description": "Cotton T-shirt",
        "hs_code": "610910",
        "origin": "CN",
        "quantity": 2.0,
        "value_eur": 24.0,
        "net_weight_kg": 0.4,
    }
    base.update(changes)
    return base


def document(**changes: Any) -> Document:
    """A quiet SALE_OF_GOODS parcel that fires nothing, with `changes` applied."""
    base: Document = {
        "total_value_eur": 48.0,
        "total_gross_weight_kg": 0.9,
        "category": "SALE_OF_GOODS",
        "mail_category": "A",
        "warnings": [],
        "sender": {"name": "Li Wei", "business_name": None, "country": "CN"},
        "addressee": {"country": "DE"},
        "lines": [line(), line(description="Socks", hs_code="611595", value_eur=24.0)],
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base[key], dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return copy.deepcopy(base)


HAND_BUILT: list[tuple[str, Document, set[str]]] = [
    ("quiet", document(), set()),
    # JUST_UNDER_150: 135 <= total < 150
    ("total 140", document(total_value_eur=140.0), {"JUST_UNDER_150"}),
    ("total 135 exactly", document(total_value_eur=135.0), {"JUST_UNDER_150"}),
    ("total 149.99", document(total_value_eur=149.99), {"JUST_UNDER_150"}),
    ("total 134.99", document(total_value_eur=134.99), set()),
    ("total 150 exactly", document(total_value_eur=150.0), set()),
    ("total None", document(total_value_eur=None), set()),
    # GIFT_OVER_45 and GIFT_FROM_BUSINESS
    (
        "gift 140",
        document(category="GIFT", total_value_eur=140.0),
        {"JUST_UNDER_150", "GIFT_OVER_45"},
    ),
    ("gift 45 exactly", document(category="GIFT", total_value_eur=45.0), set()),
    ("gift 45.01", document(category="GIFT", total_value_eur=45.01), {"GIFT_OVER_45"}),
    ("gift total None", document(category="GIFT", total_value_eur=None), set()),
    ("sale 100", document(total_value_eur=100.0), set()),
    ("category None", document(category=None, total_value_eur=100.0), set()),
    (
        "gift from business",
        document(category="GIFT", total_value_eur=20.0, sender={"business_name": "Shop Ltd"}),
        {"GIFT_FROM_BUSINESS"},
    ),
    (
        "gift, business name empty string",
        document(category="GIFT", total_value_eur=20.0, sender={"business_name": ""}),
        {"GIFT_FROM_BUSINESS"},
    ),
    ("sale from business", document(sender={"business_name": "Shop Ltd"}), set()),
    # HEAVY
    ("weight 20.001", document(total_gross_weight_kg=20.001), {"HEAVY"}),
    ("weight 20 exactly", document(total_gross_weight_kg=20.0), set()),
    ("weight None", document(total_gross_weight_kg=None), set()),
    # SANCTIONED_SENDER_COUNTRY
    ("sender RU", document(sender={"country": "RU"}), {"SANCTIONED_SENDER_COUNTRY"}),
    ("sender KP", document(sender={"country": "KP"}), {"SANCTIONED_SENDER_COUNTRY"}),
    ("sender UA", document(sender={"country": "UA"}), set()),
    ("sender country None", document(sender={"country": None}), set()),
    # SANCTIONED_ORIGIN
    ("origin RU", document(lines=[line(), line(origin="RU")]), {"SANCTIONED_ORIGIN"}),
    ("origin BY", document(lines=[line(origin="BY")]), {"SANCTIONED_ORIGIN"}),
    ("origin None", document(lines=[line(origin=None), line(origin="TR")]), set()),
    ("no lines", document(lines=[]), set()),
    # BATTERY_HS
    ("hs 850760", document(lines=[line(hs_code="850760")]), {"BATTERY_HS"}),
    (
        "hs 85065010 after a line without hs",
        document(lines=[line(hs_code=None), line(hs_code="85065010")]),
        {"BATTERY_HS"},
    ),
    ("hs 8506 only", document(lines=[line(hs_code="8506")]), set()),
    ("hs 850710", document(lines=[line(hs_code="850710")]), set()),
    ("hs None", document(lines=[line(hs_code=None)]), set()),
    # LATE and TWO_WARNINGS
    ("late", document(warnings=["LATE_DATA"]), {"LATE"}),
    ("other warning", document(warnings=["PHONE_FORMAT"]), set()),
    ("two warnings", document(warnings=["PHONE_FORMAT", "VAGUE_DESCRIPTION"]), {"TWO_WARNINGS"}),
    (
        "late and another",
        document(warnings=["VAGUE_DESCRIPTION", "LATE_DATA"]),
        {"LATE", "TWO_WARNINGS"},
    ),
    # MANY_UNITS_LOW_VALUE: one line with quantity >= 10 and value < 20
    (
        "12 units for 5",
        document(lines=[line(quantity=12.0, value_eur=5.0)]),
        {"MANY_UNITS_LOW_VALUE"},
    ),
    (
        "10 units for 19.99",
        document(lines=[line(quantity=10.0, value_eur=19.99)]),
        {"MANY_UNITS_LOW_VALUE"},
    ),
    ("9 units for 5", document(lines=[line(quantity=9.0, value_eur=5.0)]), set()),
    ("12 units for 20", document(lines=[line(quantity=12.0, value_eur=20.0)]), set()),
    ("quantity None", document(lines=[line(quantity=None, value_eur=5.0)]), set()),
    ("value None", document(lines=[line(quantity=12.0, value_eur=None)]), set()),
    (
        "many units and low value on different lines",
        document(lines=[line(quantity=12.0, value_eur=30.0), line(quantity=1.0, value_eur=5.0)]),
        set(),
    ),
    # Everything at once
    (
        "all ten",
        document(
            category="GIFT",
            total_value_eur=140.0,
            total_gross_weight_kg=25.0,
            warnings=["LATE_DATA", "PHONE_FORMAT"],
            sender={"business_name": "Shop Ltd", "country": "IR"},
            lines=[line(origin="SY", hs_code="850650", quantity=12.0, value_eur=5.0)],
        ),
        set(RULE_IDS),
    ),
]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [pytest.param(doc, expected, id=name) for name, doc, expected in HAND_BUILT],
)
def test_hand_built_documents_agree(
    zen_baseline: ZenBaseline, cel_baseline: CelBaseline, doc: Document, expected: set[str]
) -> None:
    assert python_reference(doc) == expected
    assert zen_baseline.evaluate(doc) == expected
    assert cel_baseline.evaluate(doc) == expected
    assert when_fired(as_object(doc)) == expected


def test_every_rule_fires_and_stays_quiet_in_hand_built_documents() -> None:
    fired = [python_reference(doc) for _, doc, _ in HAND_BUILT]
    assert set().union(*fired) == RULE_IDS
    for rule_id in RULE_IDS:
        assert any(rule_id not in hits for hits in fired), rule_id


def test_generated_items_agree(
    zen_baseline: ZenBaseline, cel_baseline: CelBaseline, generated_items: list[Item]
) -> None:
    seen: set[str] = set()
    for item in generated_items:
        doc = item_document(item)
        expected = python_reference(doc)
        assert zen_baseline.evaluate(doc) == expected, item.item_id
        assert cel_baseline.evaluate(doc) == expected, item.item_id
        # `when` over the canonical item itself (Decimal values) agrees with the float document.
        assert when_fired(item) == expected, item.item_id
        seen |= expected
    assert seen, "generated traffic fired no rule at all"


def test_item_document_is_plain_json_with_float_numbers(generated_items: list[Item]) -> None:
    doc = item_document(generated_items[0])
    assert set(doc) == {
        "total_value_eur",
        "total_gross_weight_kg",
        "category",
        "mail_category",
        "warnings",
        "sender",
        "addressee",
        "lines",
    }
    assert set(doc["sender"]) == {"name", "business_name", "country"}
    assert set(doc["addressee"]) == {"country"}
    numbers = [doc["total_value_eur"], doc["total_gross_weight_kg"]] + [
        line[key] for line in doc["lines"] for key in ("quantity", "value_eur", "net_weight_kg")
    ]
    assert all(n is None or type(n) is float for n in numbers)
    assert set(doc["lines"][0]) == {
        "description",
        "hs_code",
        "origin",
        "quantity",
        "value_eur",
        "net_weight_kg",
    }


def test_broken_expressions_are_refused_at_build_time() -> None:
    broken = ComparisonRule(id="BROKEN", when="True", zen="x >", cel="x >")
    with pytest.raises(ValueError, match="BROKEN"):
        ZenBaseline((broken,))
    with pytest.raises(RuntimeError):
        CelBaseline((broken,))
