"""Properties of assessment over arbitrary items, and of loading arbitrary rule text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from messages.findings import SEVERITY
from risk import Engine, InMemoryState, RulesetError, build_item, compile_ruleset, default_ruleset
from risk.ruleset import FISCAL_ACTIONS, RELEASE, SECURITY_ACTIONS
from tests.unit.risk.rulesets import one_rule

RULESET = default_ruleset()
ENGINE = Engine(RULESET)
FISCAL_ORDER = (RELEASE, *FISCAL_ACTIONS)
PROPERTY = settings(max_examples=200, database=None, suppress_health_check=[HealthCheck.too_slow])

WARNING_CODES = sorted(code.value for code, severity in SEVERITY.items() if severity == "warning")
COUNTRIES = ["CN", "DE", "FR", "US", "GB", "HK", "PL", "TR", "KZ", "AE", "RU", "BY", "KP", "IR", "SY"]  # fmt: skip
CATEGORIES = ["SALE_OF_GOODS", "GIFT", "DOCUMENTS", "COMMERCIAL_SAMPLE", "RETURNED_GOODS", "OTHER"]
DESCRIPTIONS = [
    "Men's cotton T-shirt", "power bank 20000mAh", "18650 cells", "Rolex Submariner",
    "Carved ivory figurine", "Tramadol 225mg tablets", "Tablet press machine", "goods", "kit",
    "Disposable vape pen", "Butane gas refill", "Pepper spray", "Gucci T-shirt", "Wireless earbuds",
]  # fmt: skip
NAMES = [
    "Viktor Dragunov", "Виктор Драгунов", "Quick Ship Global Trading Limited", "Marek Zalewski",
    "Li Wei", "李伟", "Anna Schmidt", "Ltd", "V.",
]  # fmt: skip
HS_CODES = [
    "610910",
    "850760",
    "850650",
    "910211",
    "960110",
    "293399",
    "847930",
    "640411",
    "930400",
]


def _decimal(max_value: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=max_value, places=2, allow_nan=False)


countries = st.none() | st.sampled_from(COUNTRIES)
names = st.none() | st.just("") | st.sampled_from(NAMES) | st.text(max_size=30)
lines = st.fixed_dictionaries(
    {
        "description": st.none() | st.sampled_from(DESCRIPTIONS) | st.text(max_size=40),
        "hs_code": st.sampled_from(HS_CODES) | st.from_regex(r"\A[0-9]{6}\Z"),
        "quantity": st.none() | st.just(0) | st.integers(min_value=1, max_value=1000),
        "net_weight_kg": st.none() | st.just(Decimal(0)) | _decimal(50),
        "value_eur": st.none() | st.just(Decimal(0)) | _decimal(5_000),
        "origin": countries,
    }
)
items = st.fixed_dictionaries(
    {
        "total_value_eur": st.none() | _decimal(10_000),
        "total_value": st.none() | _decimal(10_000),
        "total_gross_weight_kg": st.none() | _decimal(50),
        "currency": st.sampled_from(["EUR", "GBP", "USD"]),
        "category": st.none() | st.sampled_from(CATEGORIES),
        "warnings": st.lists(st.sampled_from(WARNING_CODES), unique=True).map(sorted),
        "lines": st.lists(lines, max_size=5),
        "sender": st.fixed_dictionaries(
            {"name": names, "business_name": names, "country": countries}
        ),
        "addressee": st.fixed_dictionaries({"name": names, "country": countries}),
    }
)


def _expected(hits: Any) -> tuple[int, str, str | None]:
    """Score, action and security action recomputed from the hits and the ruleset's bands."""
    rules = [RULESET.rule(hit.rule) for hit in hits]
    fiscal = [rule for rule in rules if rule.axis == "FISCAL"]
    score = min(sum(rule.score for rule in fiscal), 100)
    reached = [band for threshold, band in RULESET.bands if score >= threshold]
    floors = [rule.action for rule in fiscal if rule.action is not None]
    action = max([RELEASE, *reached, *floors], key=FISCAL_ORDER.index)
    security = [rule.action for rule in rules if rule.axis == "SECURITY"]
    return score, action, max(security, key=SECURITY_ACTIONS.index) if security else None


@PROPERTY
@given(items)
def test_assessment_is_well_formed_and_consistent(given_item: dict[str, Any]) -> None:
    item = build_item(given_item)
    assessment = ENGINE.assess(item, InMemoryState(learn=False))
    assert isinstance(assessment.score, int)
    assert 0 <= assessment.score <= 100
    assert assessment.action in FISCAL_ORDER
    assert assessment.security_action in (None, *SECURITY_ACTIONS)
    active = {rule.id for rule in RULESET.active}
    hit_ids = [hit.rule for hit in assessment.hits]
    assert len(hit_ids) == len(set(hit_ids))
    assert set(hit_ids) <= active
    assert set(assessment.skipped) <= active
    assert not set(hit_ids) & set(assessment.skipped)
    assert (assessment.score, assessment.action, assessment.security_action) == _expected(
        assessment.hits
    )


@PROPERTY
@given(items)
@example({"lines": [{"description": "", "hs_code": "930400"}]})  # a weapon known by HS code only
def test_every_hit_is_explained(given_item: dict[str, Any]) -> None:
    assessment = ENGINE.assess(build_item(given_item), InMemoryState(learn=False))
    for hit in assessment.hits:
        assert isinstance(hit.reason, str)
        assert hit.reason.strip(), f"{hit.rule} hit with an empty reason"


# Pieces of text an attacker (or a careless author) might put into a `when`.
VOCABULARY = [
    "item", ".", "lines", "sender", "name", "total_value_eur", "warnings", "l", "x", "S", "ERRORS",
    "h_any", "v_l", "L0_matches", "__class__", "__dict__", "__import__", "__builtins__",
    "__globals__", "__subclasses__", "_", "import", "os", "open", "getattr", "exec", "eval",
    "globals", "lambda", "yield", "await", "for", "in", "if", "else", "not", "and", "or", "is",
    "None", "any", "first", "len", "matches", "watchlist", "(", ")", "[", "]", "{", "}", ",",
    ":", "**", "*", "+", "-", "/", "<", "==", "=", ":=", "@", ";", "#", "\\", "'", '"', "f'",
    "0", "1", "9", "10**9", "'os'", "' '", " ", " ", " ",
]  # fmt: skip


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # "1for" and the like, from ast.parse
@PROPERTY
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=14).map("".join))
@example("'__class__'")  # found by CI: a dunder string literal reached the generated code
def test_loading_any_text_compiles_safely_or_refuses(when: str) -> None:
    try:
        ruleset = compile_ruleset(one_rule(when))
    except RulesetError as error:
        assert error.problems
        return
    assert "__" not in ruleset.code
    assert ruleset.evaluate.__globals__["__builtins__"] == {}
    Engine(ruleset).assess(build_item({}), InMemoryState(learn=False))


@PROPERTY
@given(st.lists(st.floats(min_value=0.01, max_value=1e6), max_size=300))
def test_reference_statistics_match_the_statistics_module(values: list[float]) -> None:
    """The state sorts once per recompute; its median and low decile must equal the library's."""
    import statistics

    from risk.state import _median_sorted, low_decile

    ordered = sorted(values)
    if len(values) >= 10:
        assert low_decile(values) == pytest.approx(statistics.quantiles(values, n=10)[0])
    else:
        assert low_decile(values) is None
    if values:
        assert _median_sorted(ordered) == pytest.approx(statistics.median(values))
    else:
        assert _median_sorted(ordered) is None


PLAIN_ENGINE = Engine(
    compile_ruleset(
        (Path(__file__).parents[3] / "risk" / "rules" / "default.yaml").read_text("utf-8"),
        optimised=False,
    )
)


@PROPERTY
@given(st.lists(items, min_size=1, max_size=4))
def test_optimised_rules_decide_exactly_as_written(given_items: list[dict[str, Any]]) -> None:
    """Shared calls, hoisted fields and word masks change speed only: same hits, same skips,
    same reasons, in the same windows (a small batch shares its parties' windows)."""
    batch = [build_item(given, item_id=f"EE{n:08d}9DE") for n, given in enumerate(given_items)]
    optimised = ENGINE.assess_many(batch, InMemoryState(learn=False))
    plain = PLAIN_ENGINE.assess_many(batch, InMemoryState(learn=False))
    assert [a.as_dict() for a in optimised] == [a.as_dict() for a in plain]
