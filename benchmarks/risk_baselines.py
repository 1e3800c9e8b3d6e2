"""Comparison baselines for the risk-engine benchmark.

The same 10 rules, three more ways: a GoRules zen-engine decision table (one
JDM decision, hit policy "collect", one row per rule), CEL (cel-expr-python,
one compiled program per rule) and plain Python over the document dict (the
ground truth the other two must agree with). `when` is each rule in our own
rule language, evaluated by the risk engine over the canonical `Item`.

All baselines read the same JSON-able document (`item_document`): every number
is a float and a missing value is None. Both engines treat None as null, which
is not comparable with a number, so every comparison on a nullable field is
guarded by an explicit null check, as `is not None` is in `when`.

Two engine behaviours the baselines guard against:
- zen: an expression that fails inside a decision-table cell (e.g. `null > 45`,
  or a syntax error) is silently a non-match, so every zen expression is
  validated when the decision is built and none relies on an error.
- CEL: evaluation errors come back as a value of type ERROR, not as an
  exception; `CelBaseline` raises on any non-bool result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import zen
from cel_expr_python import cel  # type: ignore[import-untyped]

from messages.canonical import Item

Document = dict[str, Any]

SANCTIONED = ("KP", "IR", "SY", "RU", "BY")
BATTERY_PREFIXES = ("850650", "850760")


def _num(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def item_document(item: Item) -> Document:
    """The input document every baseline evaluates: plain JSON types, numbers as float."""
    return {
        "total_value_eur": _num(item.total_value_eur),
        "total_gross_weight_kg": _num(item.total_gross_weight_kg),
        "category": item.category,
        "mail_category": item.mail_category,
        "warnings": list(item.warnings),
        "sender": {
            "name": item.sender.name,
            "business_name": item.sender.business_name,
            "country": item.sender.country,
        },
        "addressee": {"country": item.addressee.country},
        "lines": [
            {
                "description": line.description,
                "hs_code": line.hs_code,
                "origin": line.origin,
                "quantity": _num(line.quantity),
                "value_eur": _num(line.value_eur),
                "net_weight_kg": _num(line.net_weight_kg),
            }
            for line in item.lines
        ],
    }


@dataclass(frozen=True)
class ComparisonRule:
    """One rule: `when` in our rule language, `zen` over the document root, `cel` over `item`."""

    id: str
    when: str
    zen: str
    cel: str


COMPARISON_RULES: tuple[ComparisonRule, ...] = (
    ComparisonRule(
        id="JUST_UNDER_150",
        when="item.total_value_eur is not None and 135 <= item.total_value_eur < 150",
        zen="total_value_eur != null and total_value_eur >= 135 and total_value_eur < 150",
        cel="item.total_value_eur != null && item.total_value_eur >= 135.0"
        " && item.total_value_eur < 150.0",
    ),
    ComparisonRule(
        id="GIFT_OVER_45",
        when='item.category == "GIFT" and item.total_value_eur is not None'
        " and item.total_value_eur > 45",
        zen='category == "GIFT" and total_value_eur != null and total_value_eur > 45',
        cel='item.category == "GIFT" && item.total_value_eur != null'
        " && item.total_value_eur > 45.0",
    ),
    ComparisonRule(
        id="GIFT_FROM_BUSINESS",
        when='item.category == "GIFT" and item.sender.business_name is not None',
        zen='category == "GIFT" and sender.business_name != null',
        cel='item.category == "GIFT" && item.sender.business_name != null',
    ),
    ComparisonRule(
        id="HEAVY",
        when="item.total_gross_weight_kg is not None and item.total_gross_weight_kg > 20",
        zen="total_gross_weight_kg != null and total_gross_weight_kg > 20",
        cel="item.total_gross_weight_kg != null && item.total_gross_weight_kg > 20.0",
    ),
    ComparisonRule(
        id="SANCTIONED_SENDER_COUNTRY",
        when='item.sender.country in ("KP", "IR", "SY", "RU", "BY")',
        zen='sender.country in ["KP", "IR", "SY", "RU", "BY"]',
        cel='item.sender.country in ["KP", "IR", "SY", "RU", "BY"]',
    ),
    ComparisonRule(
        id="SANCTIONED_ORIGIN",
        when='any(l.origin in ("KP", "IR", "SY", "RU", "BY") for l in item.lines)',
        zen='some(lines, #.origin in ["KP", "IR", "SY", "RU", "BY"])',
        cel='item.lines.exists(l, l.origin in ["KP", "IR", "SY", "RU", "BY"])',
    ),
    ComparisonRule(
        id="BATTERY_HS",
        when='any(hs_in(l.hs_code, "850650", "850760") for l in item.lines)',
        zen="some(lines, #.hs_code != null"
        ' and (startsWith(#.hs_code, "850650") or startsWith(#.hs_code, "850760")))',
        cel="item.lines.exists(l, l.hs_code != null"
        ' && (l.hs_code.startsWith("850650") || l.hs_code.startsWith("850760")))',
    ),
    ComparisonRule(
        id="LATE",
        when='"LATE_DATA" in item.warnings',
        zen='"LATE_DATA" in warnings',
        cel='"LATE_DATA" in item.warnings',
    ),
    ComparisonRule(
        id="MANY_UNITS_LOW_VALUE",
        when="any(l.quantity is not None and l.quantity >= 10 and l.value_eur is not None"
        " and l.value_eur < 20 for l in item.lines)",
        zen="some(lines, #.quantity != null and #.quantity >= 10"
        " and #.value_eur != null and #.value_eur < 20)",
        cel="item.lines.exists(l, l.quantity != null && l.quantity >= 10.0"
        " && l.value_eur != null && l.value_eur < 20.0)",
    ),
    ComparisonRule(
        id="TWO_WARNINGS",
        when="len(item.warnings) >= 2",
        zen="len(warnings) >= 2",
        cel="size(item.warnings) >= 2",
    ),
)


def zen_decision_content(rules: tuple[ComparisonRule, ...]) -> Document:
    """One JDM graph: input → decision table (collect, one row per rule) → output.

    The table has a single input column without a `field`, so each cell is a
    full expression over the input document; the output cell is the rule id.
    """
    table = {
        "hitPolicy": "collect",
        "inputs": [{"id": "condition", "name": "Condition"}],
        "outputs": [{"id": "rule", "name": "Rule", "field": "rule"}],
        "rules": [
            {"_id": f"row{n}", "condition": rule.zen, "rule": json.dumps(rule.id)}
            for n, rule in enumerate(rules, start=1)
        ],
    }
    return {
        "nodes": [
            {"id": "input", "type": "inputNode", "name": "item", "position": {"x": 0, "y": 0}},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": "rules",
                "position": {"x": 300, "y": 0},
                "content": table,
            },
            {"id": "output", "type": "outputNode", "name": "hits", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "input", "targetId": "table"},
            {"id": "e2", "type": "edge", "sourceId": "table", "targetId": "output"},
        ],
    }


class ZenBaseline:
    """All rules as one zen decision table, built once, evaluated synchronously per document.

    The decision is served by the engine's static loader and evaluated by key
    (`ZenEngine.evaluate`): the engine keeps it compiled. `ZenDecision.evaluate`
    on a `create_decision` handle gives the same answers but costs about 120 µs
    more per call on this machine (measured with a one-row table), so it is not
    the fair figure for zen.
    """

    KEY = "risk_comparison"

    def __init__(self, rules: tuple[ComparisonRule, ...] = COMPARISON_RULES) -> None:
        for rule in rules:
            # A cell that does not parse never matches and never raises: catch it here.
            problem = zen.validate_expression(rule.zen)
            if problem is not None:
                raise ValueError(f"zen expression of {rule.id} is invalid: {problem}")
        self.content = zen_decision_content(rules)
        self.engine = zen.ZenEngine(
            {"loader": {"type": "static", "content": {self.KEY: self.content}}}
        )
        self.engine.evaluate(self.KEY, {})  # load and compile now, not on the first timed call

    def evaluate(self, doc: Document) -> set[str]:
        # The stub types `result` as a dict; with hit policy "collect" it is a list of rows.
        hits: Any = self.engine.evaluate(self.KEY, doc)["result"]
        return {hit["rule"] for hit in hits}


class CelBaseline:
    """One compiled CEL program per rule over the variable `item`; one activation per document."""

    def __init__(self, rules: tuple[ComparisonRule, ...] = COMPARISON_RULES) -> None:
        self.env = cel.NewEnv(variables={"item": cel.Type.DYN})
        self.programs: list[tuple[str, Any]] = []
        for rule in rules:
            program = self.env.compile(rule.cel)
            if program.return_type() != cel.Type.BOOL:
                raise ValueError(f"CEL expression of {rule.id} is not boolean")
            self.programs.append((rule.id, program))

    def evaluate(self, doc: Document) -> set[str]:
        activation = self.env.Activation({"item": doc})
        fired: set[str] = set()
        for rule_id, program in self.programs:
            value = program.eval(activation).value()
            if value is True:
                fired.add(rule_id)
            elif value is not False:  # an ERROR value (its message) is returned, not raised
                raise RuntimeError(f"CEL rule {rule_id} failed: {value}")
        return fired


def python_reference(doc: Document) -> set[str]:
    """The 10 rules as plain Python over the document: ground truth for agreement."""
    fired: set[str] = set()
    total = doc["total_value_eur"]
    weight = doc["total_gross_weight_kg"]
    gift = doc["category"] == "GIFT"
    lines = doc["lines"]
    warnings = doc["warnings"]
    if total is not None and 135 <= total < 150:
        fired.add("JUST_UNDER_150")
    if gift and total is not None and total > 45:
        fired.add("GIFT_OVER_45")
    if gift and doc["sender"]["business_name"] is not None:
        fired.add("GIFT_FROM_BUSINESS")
    if weight is not None and weight > 20:
        fired.add("HEAVY")
    if doc["sender"]["country"] in SANCTIONED:
        fired.add("SANCTIONED_SENDER_COUNTRY")
    if any(line["origin"] in SANCTIONED for line in lines):
        fired.add("SANCTIONED_ORIGIN")
    if any(
        line["hs_code"] is not None and line["hs_code"].startswith(BATTERY_PREFIXES)
        for line in lines
    ):
        fired.add("BATTERY_HS")
    if "LATE_DATA" in warnings:
        fired.add("LATE")
    if any(
        line["quantity"] is not None
        and line["quantity"] >= 10
        and line["value_eur"] is not None
        and line["value_eur"] < 20
        for line in lines
    ):
        fired.add("MANY_UNITS_LOW_VALUE")
    if len(warnings) >= 2:
        fired.add("TWO_WARNINGS")
    return fired
