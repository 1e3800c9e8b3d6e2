"""Golden tests: each rule's own examples, run against the compiled ruleset.

A test's `given` is a partial item: only what the case is about. It is laid
over a plain, clean base item (a T-shirt from a Chinese shop to a Berlin
addressee), so a case reads like the indicator it tests. `history` lists
earlier items the state has seen (same addressee and sender unless they say
otherwise), for window rules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from messages.canonical import Item
from messages.text import party_key
from risk.compiler import Ruleset
from risk.engine import Assessment, Engine
from risk.errors import RuleProblem
from risk.ruleset import parse_spec
from risk.state import InMemoryState

_T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

BASE_ITEM: dict[str, Any] = {
    "item_id": "CP123456785CN",
    "id_type": "S10",
    "source": "ITMATT",
    "message_id": "CNA-GOLDEN-1",
    "version": 1,
    "sender_operator": "CNA",
    "recipient": "DEA",
    "prepared_at": _T0,
    "received_at": _T0,
    "posting_at": _T0 - timedelta(hours=6),
    "mail_class": "C",
    "mail_category": "A",
    "declaration_form": "CN22",
    "category": "SALE_OF_GOODS",
    "currency": "EUR",
    "total_value": "18.00",
    "total_value_eur": "18.00",
    "total_gross_weight_kg": "0.45",
    "sender": {
        "name": "Li Wei",
        "business_name": "Shenzhen Bright Homeware Trading Co Ltd",
        "street": "Keyuan Road 18",
        "postcode": "518057",
        "city": "Shenzhen",
        "country": "CN",
    },
    "addressee": {
        "name": "Anna Schmidt",
        "street": "Hauptstrasse 5",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
    },
    "lines": [
        {
            "index": 1,
            "description": "Men's cotton T-shirt",
            "quantity": 2,
            "net_weight_kg": "0.40",
            "value": "18.00",
            "currency": "EUR",
            "value_eur": "18.00",
            "hs_code": "610910",
            "origin": "CN",
        }
    ],
}


def build_item(given: dict[str, Any], *, item_id: str | None = None) -> Item:
    """The base item with `given` laid over it: parties merge, lines merge with the base line."""
    data = copy.deepcopy(BASE_ITEM)
    for key, value in given.items():
        if key in ("sender", "addressee") and isinstance(value, dict):
            data[key] = {**data[key], **value}
        elif key == "lines" and isinstance(value, list):
            base_line = BASE_ITEM["lines"][0]
            data["lines"] = [
                {**base_line, "index": n, **line} for n, line in enumerate(value, start=1)
            ]
        else:
            data[key] = value
    if item_id is not None:
        data["item_id"] = item_id
    for role in ("sender", "addressee"):
        if f"{role}_key" not in given:
            party = data[role]
            place = [x for x in (party.get("street"), party.get("house_number")) if x]
            data[f"{role}_key"] = party_key(
                party.get("name") or party.get("business_name"),
                party.get("postcode"),
                party.get("country"),
                place,
            )
    return Item.model_validate(data)


@dataclass(frozen=True, slots=True)
class GoldenResult:
    rule: str
    case: str
    passed: bool
    detail: str


def assess_golden(
    engine: Engine, given: dict[str, Any], history: list[dict[str, Any]]
) -> Assessment:
    """Assess `given` after a fresh state (packaged references, no learning) saw `history`."""
    state = InMemoryState(learn=False)
    for n, earlier in enumerate(history, start=1):
        state.observe(build_item(earlier, item_id=f"HISTORY{n:04d}"))
    return engine.assess(build_item(given), state)


def run_golden_tests(ruleset: Ruleset, *, rule_ids: set[str] | None = None) -> list[GoldenResult]:
    """Run every rule's cases; each case gets a fresh state (packaged references, no learning)."""
    engine = Engine(ruleset)
    results: list[GoldenResult] = []
    for rule in ruleset.rules:
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        for number, test in enumerate(rule.spec.tests, start=1):
            case = test.name or f"case {number} ({test.expect})"
            try:
                assessment = assess_golden(engine, test.given, test.history)
            except ValidationError as exc:
                results.append(GoldenResult(rule.id, case, False, f"bad test item: {exc}"))
                continue
            hit = next((h for h in assessment.hits if h.rule == rule.id), None)
            if not rule.enabled:
                passed, detail = True, "rule disabled; not evaluated"
            elif (hit is not None) != (test.expect == "hit"):
                skipped = " (rule skipped: missing data)" if rule.id in assessment.skipped else ""
                passed, detail = (
                    False,
                    f"expected {test.expect}, got {'hit' if hit else 'miss'}{skipped}",
                )
            elif hit is not None and test.reason and test.reason not in hit.reason:
                passed, detail = False, f"reason {hit.reason!r} does not contain {test.reason!r}"
            else:
                passed, detail = True, hit.reason if hit else "no hit"
            results.append(GoldenResult(rule.id, case, passed, detail))
    return results


def golden_problems(text: str, ruleset: Ruleset) -> tuple[list[GoldenResult], list[RuleProblem]]:
    """The golden results of `ruleset` (compiled from `text`), and each failure located at
    its rule's `tests:` in the YAML, as a load problem is: an upload refused for a failing
    case names the rule, the line and the column."""
    _, where, _ = parse_spec(text)
    index = {rule.id: n for n, rule in enumerate(ruleset.rules)}
    results = run_golden_tests(ruleset)
    problems = []
    for result in results:
        if result.passed:
            continue
        position = where.of(index.get(result.rule), "tests")
        problems.append(
            RuleProblem(
                result.rule,
                position.line if position else None,
                position.column if position else None,
                f"golden test {result.case!r}: {result.detail}",
            )
        )
    return results, problems
