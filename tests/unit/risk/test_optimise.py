"""The compiler's shared-work pass: each shared question asked once, answers unchanged."""

from __future__ import annotations

from decimal import Decimal

from risk import Engine, InMemoryState, build_item, compile_ruleset
from risk.state import Reference
from tests.unit.risk.rulesets import HEADER, LISTS


class CountingState(InMemoryState):
    """An in-memory state that counts the reference lookups the rules make."""

    def __init__(self) -> None:
        super().__init__({("610910", ""): Reference(10.0, 10.0, 100, 5.0)}, learn=False)
        self.lookups = 0

    def reference(self, hs_code: str, origin: str | None) -> Reference | None:
        self.lookups += 1
        return super().reference(hs_code, origin)


def _ruleset(whens: list[str], *, optimised: bool) -> Engine:
    rules = "".join(
        f"  - {{id: R{n}, title: r{n}, score: 10, reason: r{n}, when: '{when}'}}\n"
        for n, when in enumerate(whens)
    )
    text = HEADER + LISTS + "rules:\n" + rules
    return Engine(compile_ruleset(text, require_tests=False, optimised=optimised))


SHARED = [
    "any(value_per_unit_ratio(l) < 0.5 for l in item.lines)",
    "any(value_per_unit_ratio(l) < 0.2 for l in item.lines)",
    'any(matches(l.description, "battery_words") and value_per_unit_ratio(l) < 0.9 for l in item.lines)',
]


def test_a_question_several_rules_ask_is_asked_once_per_line() -> None:
    item = build_item({"lines": [{"hs_code": "610910", "quantity": 1, "value_eur": Decimal("1.50"),
                                  "description": "lithium battery"}]})  # fmt: skip
    optimised, plain = CountingState(), CountingState()
    fast = _ruleset(SHARED, optimised=True).assess(item, optimised)
    slow = _ruleset(SHARED, optimised=False).assess(item, plain)
    assert [h.rule for h in fast.hits] == [h.rule for h in slow.hits] == ["R0", "R1", "R2"]
    assert plain.lookups >= 3
    assert optimised.lookups == 1


def test_a_shared_question_is_not_asked_when_no_rule_reaches_it() -> None:
    """Memos are lazy: a rule short-circuited before the call does not pay for it."""
    whens = [
        'item.category == "GIFT" and any(value_per_unit_ratio(l) < 0.5 for l in item.lines)',
        'item.category == "GIFT" and any(value_per_unit_ratio(l) < 0.2 for l in item.lines)',
    ]
    state = CountingState()
    assessment = _ruleset(whens, optimised=True).assess(
        build_item({"category": "SALE_OF_GOODS"}), state
    )
    assert assessment.hits == ()
    assert state.lookups == 0


def test_rules_stopped_by_missing_data_are_skipped_alike() -> None:
    """A shared field that is missing skips every rule that compares it, in both forms."""
    whens = ["item.total_value_eur > 100", "item.total_value_eur < 5", "len(item.warnings) >= 0"]
    item = build_item({"total_value_eur": None})
    for optimised in (True, False):
        assessment = _ruleset(whens, optimised=optimised).assess(item, CountingState())
        assert assessment.skipped == ("R0", "R1")
        assert [h.rule for h in assessment.hits] == ["R2"]
