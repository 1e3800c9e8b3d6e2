"""Structural problems of a ruleset file: each named with its rule and line, all at once."""

from __future__ import annotations

import pytest

from risk import compile_ruleset
from risk.ruleset import MAX_FILE_BYTES
from tests.unit.risk.rulesets import HEADER, line_of, problems_of

MARK = "# <-"  # the line a problem must point at
TESTS = "    tests: [{given: {}, expect: hit}, {given: {}, expect: miss}]\n"


def rule(rule_id: str = "GOOD_RULE", *, body: str | None = None, tests: str = TESTS) -> str:
    if body is None:
        body = "    score: 10\n    when: item.total_value_eur > 100\n"
    return f"  - id: {rule_id}\n    title: a rule\n{body}    reason: fired\n{tests}"


def ruleset(*rules: str, header: str = HEADER) -> str:
    return header + "rules:\n" + "".join(rules)


# (id, ruleset text with the problem's line marked, rule id the problem names, message part)
CASES = [
    ("duplicate id",
     ruleset(rule("SAME_ID"), rule(f"SAME_ID  {MARK}")),
     "SAME_ID", "duplicate rule id"),
    ("id not upper snake case",
     ruleset(rule(f"lower_case  {MARK}")),
     "lower_case", "UPPER_SNAKE_CASE"),
    ("one-letter id",
     ruleset(rule(f"X  {MARK}")),
     "X", "UPPER_SNAKE_CASE"),
    ("unknown band",
     ruleset(rule(), header=HEADER.replace("HOLD: 80}", f"HOLD: 80, PANIC: 90}}  {MARK}")),
     None, "unknown band ['PANIC']"),
    ("bands not increasing",
     ruleset(rule(), header=HEADER.replace("{DOCUMENTS_REQUIRED: 30, INSPECT: 60",
                                           "{DOCUMENTS_REQUIRED: 60, INSPECT: 30")
             .replace("HOLD: 80}", f"HOLD: 80}}  {MARK}")),
     None, "must rise"),
    ("band over 100",
     ruleset(rule(), header=HEADER.replace("HOLD: 80}", f"HOLD: 180}}  {MARK}")),
     None, "within 1..100"),
    ("security rule with a fiscal action",
     ruleset(rule("SEC", body=f"    axis: SECURITY\n    action: HOLD  {MARK}\n"
                              "    when: item.total_value_eur > 100\n")),
     "SEC", "needs action SCREEN or DO_NOT_LOAD"),
    ("security rule without an action",
     ruleset(rule(f"SEC  {MARK}", body="    axis: SECURITY\n    when: item.total_value_eur > 100\n")),
     "SEC", "needs action SCREEN or DO_NOT_LOAD"),
    ("security rule with a score",
     ruleset(rule("SEC", body=f"    axis: SECURITY\n    action: SCREEN\n    score: 10  {MARK}\n"
                              "    when: item.total_value_eur > 100\n")),
     "SEC", "remove 'score'"),
    ("fiscal rule with neither score nor action",
     ruleset(rule(f"NOTHING  {MARK}", body="    when: item.total_value_eur > 100\n")),
     "NOTHING", "needs a score or an action"),
    ("fiscal action not a band",
     ruleset(rule("ACT", body=f"    action: SCREEN  {MARK}\n    when: item.total_value_eur > 100\n")),
     "ACT", "is not a band"),
    ("fiscal action band missing from this ruleset",
     ruleset(rule("ACT", body=f"    action: HOLD  {MARK}\n    when: item.total_value_eur > 100\n"),
             header=HEADER.replace(", HOLD: 80", "")),
     "ACT", "is not a band"),
    ("no golden tests",
     ruleset(rule(f"UNTESTED  {MARK}", tests="")),
     "UNTESTED", "needs golden tests"),
    ("only hit cases",
     ruleset(rule("HITS_ONLY", tests=f"    tests: [{{given: {{}}, expect: hit}}]  {MARK}\n")),
     "HITS_ONLY", "at least one 'hit' and one 'miss'"),
    ("only miss cases",
     ruleset(rule("MISS_ONLY", tests=f"    tests: [{{given: {{}}, expect: miss}}]  {MARK}\n")),
     "MISS_ONLY", "at least one 'hit' and one 'miss'"),
    ("unknown key",
     ruleset(rule("TYPO", body=f"    score: 10\n    wehn: item.total_value_eur > 100  {MARK}\n")),
     "TYPO", "wehn: Extra inputs are not permitted"),
    ("score over 100",
     ruleset(rule("LOUD", body=f"    score: 500  {MARK}\n    when: item.total_value_eur > 1\n")),
     "LOUD", "score:"),
    ("unknown axis",
     ruleset(rule("AXIS", body=f"    axis: CUSTOMS  {MARK}\n    score: 10\n    when: item.total_value_eur > 1\n")),
     "AXIS", "axis:"),
    ("invalid yaml",
     ruleset(rule("YAML", body=f"    score: 10\n    when: a: b  {MARK}\n")),
     None, "not valid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "rule_id", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_problem_is_named_and_located(text: str, rule_id: str | None, message: str) -> None:
    problems = problems_of(text)
    found = [p for p in problems if message in p.message]
    assert len(found) == 1, problems
    assert found[0].rule == rule_id
    assert found[0].line == line_of(text, MARK), found[0]


def test_a_valid_ruleset_compiles() -> None:
    ruleset_ = compile_ruleset(ruleset(rule("FIRST"), rule("SECOND")))
    assert [r.id for r in ruleset_.rules] == ["FIRST", "SECOND"]


@pytest.mark.parametrize(
    "text",
    ["- just\n- a list\n", "", "just a string\n", "42\n"],
    ids=["list", "empty", "string", "number"],
)
def test_a_ruleset_is_a_mapping(text: str) -> None:
    [problem] = problems_of(text)
    assert (problem.rule, problem.line) == (None, 1)
    assert "YAML mapping" in problem.message


def test_two_documents_are_refused() -> None:
    text = ruleset(rule()) + "---\n" + ruleset(rule())
    [problem] = problems_of(text)
    assert "not valid YAML" in problem.message
    assert problem.line is not None


def test_file_over_the_size_limit_is_refused_unread() -> None:
    text = ruleset(rule()) + "# " + "x" * MAX_FILE_BYTES + "\n"
    [problem] = problems_of(text)
    assert problem.rule is None
    assert f"larger than {MAX_FILE_BYTES} bytes" in problem.message


def test_size_limit_counts_bytes_not_characters() -> None:
    text = ruleset(rule()) + "# " + "€" * (MAX_FILE_BYTES // 3 + 1) + "\n"
    [problem] = problems_of(text)
    assert "larger than" in problem.message


def test_missing_top_level_fields_are_reported() -> None:
    problems = problems_of("rules: []\n")
    messages = " | ".join(p.message for p in problems)
    for field in ("ruleset", "version", "bands", "rules"):
        assert f"{field}:" in messages


def test_every_broken_rule_is_reported_at_once() -> None:
    text = ruleset(
        rule("GOOD_ONE"),
        rule("SEC_WITH_SCORE", body="    axis: SECURITY\n    action: SCREEN\n    score: 10\n"
                                    "    when: item.total_value_eur > 1\n"),
        rule("BAD_FIELD", body="    score: 10\n    when: item.totl_value_eur > 1\n"),
        rule("NO_TESTS", tests=""),
        rule("GOOD_TWO"),
    )  # fmt: skip
    problems = problems_of(text)
    assert all(p.line is not None for p in problems)
    by_line = sorted(problems, key=lambda p: p.line or 0)
    assert [p.rule for p in by_line] == ["SEC_WITH_SCORE", "BAD_FIELD", "NO_TESTS"]


def test_schema_errors_do_not_hide_other_rules_problems() -> None:
    """A typo in one rule's keys must not hide what is wrong with the others."""
    text = ruleset(
        rule("TYPO", body="    score: 10\n    wehn: item.total_value_eur > 1\n"),
        rule("SEC_WITH_SCORE", body="    axis: SECURITY\n    action: SCREEN\n    score: 10\n"
                                    "    when: item.total_value_eur > 1\n"),
        rule("BAD_FIELD", body="    score: 10\n    when: item.totl_value_eur > 1\n"),
    )  # fmt: skip
    problems = problems_of(text)
    assert {p.rule for p in problems} == {"TYPO", "SEC_WITH_SCORE", "BAD_FIELD"}, problems
