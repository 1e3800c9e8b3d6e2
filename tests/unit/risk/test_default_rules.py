"""The packaged default ruleset: every golden case passes, every indicator class is covered."""

from __future__ import annotations

import pytest

from risk import Assessment, Engine, assess_golden, default_ruleset, run_golden_tests
from risk.ruleset import RELEASE, GoldenTest

RULESET = default_ruleset()

#: The indicator classes of DESIGN.md, named by the rules' tags.
INDICATOR_CLASSES = (
    "undervaluation",
    "threshold_value",
    "splitting",
    "gift_misdeclaration",
    "vague_description",
    "hs_mismatch",
    "dangerous_goods",
    "counterfeit",
    "wildlife",
    "opioids",
    "watchlist",
    "high_risk_route",
    "late_data",
    "data_quality",
)


def _case_name(test: GoldenTest, number: int) -> str:
    # The name run_golden_tests gives a case.
    return test.name or f"case {number} ({test.expect})"


GOLDEN_CASES = [
    (rule.id, _case_name(test, number))
    for rule in RULESET.rules
    for number, test in enumerate(rule.spec.tests, start=1)
]


@pytest.mark.parametrize(
    ("rule_id", "case"), GOLDEN_CASES, ids=[f"{rule}: {case}" for rule, case in GOLDEN_CASES]
)
def test_golden_case(rule_id: str, case: str) -> None:
    results = {r.case: r for r in run_golden_tests(RULESET, rule_ids={rule_id})}
    result = results[case]
    assert result.passed, f"{rule_id} / {case}: {result.detail}"


def test_every_case_has_its_own_result() -> None:
    assert len(set(GOLDEN_CASES)) == len(GOLDEN_CASES), "two cases of a rule share a name"
    results = run_golden_tests(RULESET)
    assert [(r.rule, r.case) for r in results] == GOLDEN_CASES


def test_at_least_forty_enabled_rules() -> None:
    enabled = [rule for rule in RULESET.rules if rule.enabled]
    assert len(enabled) >= 40
    assert len(RULESET.active) == len(enabled)


@pytest.mark.parametrize("indicator", INDICATOR_CLASSES)
def test_indicator_class_has_a_rule(indicator: str) -> None:
    assert any(indicator in rule.tags and rule.enabled for rule in RULESET.rules)


def _hit_cases(indicator: str) -> list[tuple[str, GoldenTest]]:
    return [
        (rule.id, test)
        for rule in RULESET.rules
        if indicator in rule.tags and rule.enabled
        for test in rule.spec.tests
        if test.expect == "hit"
    ]


def _assess(test: GoldenTest) -> Assessment:
    return assess_golden(Engine(RULESET), test.given, test.history)


@pytest.mark.parametrize("indicator", INDICATOR_CLASSES)
def test_indicator_class_hit_leads_to_an_action(indicator: str) -> None:
    """Some hit case of the class, assessed by the full engine, is not simply released.

    Weak indicators (one data-quality warning, a value just under a threshold) may
    release on their own; the class as a whole must be able to stop an item.
    """
    outcomes = []
    for rule_id, test in _hit_cases(indicator):
        assessment = _assess(test)
        assert rule_id in {hit.rule for hit in assessment.hits}
        if assessment.action != RELEASE or assessment.security_action is not None:
            return
        outcomes.append(f"{rule_id}: score {assessment.score}")
    raise AssertionError(f"every {indicator} hit case is released: {outcomes}")


def test_generated_code_has_no_dunder_names() -> None:
    assert "__" not in RULESET.code


def test_generated_code_runs_without_builtins() -> None:
    assert RULESET.evaluate.__globals__["__builtins__"] == {}
