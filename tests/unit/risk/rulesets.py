"""Small rulesets for the risk tests, written out as YAML so line numbers are known."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from risk import (
    Assessment,
    Engine,
    RuleProblem,
    Ruleset,
    RulesetError,
    assess_golden,
    compile_ruleset,
)

RULE_ID = "RULE_UNDER_TEST"

HEADER = """\
ruleset: test
version: "1"
bands: {DOCUMENTS_REQUIRED: 30, INSPECT: 60, HOLD: 80}
"""

LISTS = """\
lists:
  battery_words: [battery, lithium, power bank]
  country_risk: {RU: 0.9, KP: 1.0}
  alt_risk: {CN: 0.5}
  hs_keywords: {t-shirt: ["61", "62"], shoes: ["64"]}
  sanctions:
    - {ref: S-1, name: "Viktor Aleksandrovich Dragunov", country: RU}
"""


@dataclass(frozen=True)
class Case:
    """A golden case: the partial item and the earlier items the state has seen."""

    given: dict[str, Any] = field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()


def quoted(text: str) -> str:
    """A single-quoted YAML scalar: any expression, YAML punctuation and all."""
    return "'" + text.replace("'", "''") + "'"


def rule_yaml(
    when: str,
    *,
    rule_id: str = RULE_ID,
    reason: str = "fired",
    score: int | None = 40,
    axis: str | None = None,
    action: str | None = None,
    hit: Case | None = None,
    miss: Case | None = None,
) -> str:
    """One rule, with one hit and one miss golden case, as an entry of `rules:`."""
    lines = [f"  - id: {rule_id}", "    title: rule under test"]
    if axis is not None:
        lines.append(f"    axis: {axis}")
    if score is not None:
        lines.append(f"    score: {score}")
    if action is not None:
        lines.append(f"    action: {action}")
    lines.append(f"    when: {quoted(when)}")
    lines.append(f"    reason: {quoted(reason)}")
    lines.append("    tests:")
    for expect, case in (("hit", hit or Case()), ("miss", miss or Case())):
        lines.append(f"      - given: {json.dumps(case.given)}")
        if case.history:
            lines.append(f"        history: {json.dumps(list(case.history))}")
        lines.append(f"        expect: {expect}")
    return "\n".join(lines) + "\n"


def ruleset_yaml(*rules: str, lists: bool = True) -> str:
    return HEADER + (LISTS if lists else "") + "rules:\n" + "".join(rules)


def one_rule(when: str, **options: Any) -> str:
    """A complete ruleset of one rule (see `rule_yaml`)."""
    return ruleset_yaml(rule_yaml(when, **options))


def problems_of(text: str) -> list[RuleProblem]:
    """The problems `compile_ruleset` reports; fails the test if the text compiles."""
    try:
        compile_ruleset(text)
    except RulesetError as error:
        assert error.problems, "RulesetError without problems"
        return error.problems
    raise AssertionError("the ruleset compiled, but it should have been refused")


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of `text` that contains `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, f"{needle!r} is on lines {found}"
    return found[0]


def assess_case(ruleset: Ruleset, case: Case) -> Assessment:
    """Assess `case.given` after the state has seen `case.history`, as golden tests do."""
    return assess_golden(Engine(ruleset), case.given, case.history)
