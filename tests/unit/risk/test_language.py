"""The rule language: what it allows evaluates correctly; what it refuses is refused at load time."""

from __future__ import annotations

import pytest

from risk import (
    Engine,
    InMemoryState,
    RulesetError,
    build_item,
    compile_ruleset,
    run_golden_tests,
)
from tests.unit.risk.rulesets import (
    RULE_ID,
    Case,
    assess_case,
    line_of,
    one_rule,
    problems_of,
    ruleset_yaml,
)

TWO_LINES = [
    {"description": "Wool socks", "hs_code": "611595", "quantity": 6, "value_eur": "30"},
    {"description": "Cotton scarf", "hs_code": "621410", "quantity": 1, "value_eur": "25"},
]

# (id, when, a case it must hit, a case it must miss)
ALLOWED = [
    ("chained comparison", "135 <= item.total_value_eur < 150",
     Case({"total_value_eur": 140}), Case({"total_value_eur": 150})),
    ("and or not",
     'item.category == "GIFT" and not (item.total_value_eur < 10 or item.total_value_eur > 45)',
     Case({"category": "GIFT", "total_value_eur": 20}),
     Case({"category": "GIFT", "total_value_eur": 50})),
    ("arithmetic", "item.total_value_eur * 2 - 6 == 30 and -item.total_value_eur / 3 < -5.5",
     Case({"total_value_eur": 18}), Case({"total_value_eur": 20})),
    ("floor division and modulo", "item.total_value_eur // 10 == 1 and item.total_value_eur % 10 == 8",
     Case({"total_value_eur": 18}), Case({"total_value_eur": 28})),
    ("in tuple literal", 'item.addressee.country in ("DE", "AT")',
     Case(), Case({"addressee": {"country": "FR"}})),
    ("not in tuple literal", 'item.addressee.country not in ("DE", "AT")',
     Case({"addressee": {"country": "FR"}}), Case()),
    ("in warnings", '"LATE_DATA" in item.warnings',
     Case({"warnings": ["LATE_DATA"]}), Case({"warnings": ["PHONE_FORMAT"]})),
    ("is None", "item.total_value_eur is None",
     Case({"total_value_eur": None}), Case()),
    ("is not None", "item.sender.business_name is not None",
     Case(), Case({"sender": {"business_name": None}})),
    ("conditional expression", '(50 if item.category == "GIFT" else 10) < item.total_value_eur',
     Case({"total_value_eur": 20}), Case({"category": "GIFT", "total_value_eur": 20})),
    ("string slicing", 'any(l.hs_code[:4] == "6109" for l in item.lines)',
     Case(), Case({"lines": [{"hs_code": "620520"}]})),
    ("negative slice", 'item.item_id[-2:] == "CN"',
     Case(), Case({"item_id": "CP123456785DE"})),
    ("indexing lines", 'item.lines[0].description == "Wool socks"',
     Case({"lines": TWO_LINES}), Case()),
    ("indexing text", 'item.sender.name[0] == "L"',
     Case(), Case({"sender": {"name": "Wang Fang"}})),
    ("generator with if", 'any(l.quantity > 5 for l in item.lines if l.hs_code[:2] == "61")',
     Case({"lines": TWO_LINES}), Case({"lines": [{"hs_code": "950300", "quantity": 9}]})),
    ("all", 'all(l.origin == "CN" for l in item.lines)',
     Case({"lines": [{}, {}]}), Case({"lines": [{}, {"origin": "VN"}]})),
    ("first", 'first(l.description for l in item.lines if l.quantity > 1) == "Wool socks"',
     Case({"lines": TWO_LINES}), Case()),
    ("sum", "sum(l.value_eur for l in item.lines) > 50",
     Case({"lines": TWO_LINES}), Case()),
    ("min and max", "max(l.quantity for l in item.lines) - min(l.quantity for l in item.lines) >= 5",
     Case({"lines": TWO_LINES}), Case({"lines": [{}, {}]})),
    ("len", "len(item.lines) >= 2 and len(item.sender.name) < 10",
     Case({"lines": TWO_LINES}), Case()),
    ("abs", "abs(item.total_value_eur - sum(l.value_eur for l in item.lines)) > 1",
     Case({"total_value_eur": 10}), Case()),
    ("round", "round(item.total_value_eur / 3, 1) == 6",
     Case(), Case({"total_value_eur": 20})),
    ("hs_in", 'any(hs_in(l.hs_code, "8507", "850650") for l in item.lines)',
     Case({"lines": [{"hs_code": "850760"}]}), Case()),
    ("matches with a list", 'any(matches(l.description, "battery_words") for l in item.lines)',
     Case({"lines": [{"description": "LITHIUM Battery pack"}]}), Case()),
    ("country_risk default list", "country_risk(item.sender.country) >= 0.9",
     Case({"sender": {"country": "RU"}}), Case()),
    ("country_risk named list", 'country_risk(item.sender.country, "alt_risk") == 0.5',
     Case(), Case({"sender": {"country": "RU"}})),
    ("watchlist", 'watchlist(item.sender, "sanctions")',
     Case({"sender": {"name": "Viktor Dragunov", "business_name": None, "country": "RU"}}),
     Case()),
    ("watchlist hit fields",
     'watchlist(item.sender, "sanctions", min_score=95) is not None'
     ' and watchlist(item.sender, "sanctions", min_score=95).ref == "S-1"',
     Case({"sender": {"name": "Dragunov Viktor Aleksandrovich", "country": "RU"}}),
     Case({"sender": {"name": "Viktor Dragunov", "business_name": None, "country": "RU"}})),
    ("hs_mismatch", 'any(hs_mismatch(l, "hs_keywords") for l in item.lines)',
     Case({"lines": [{"hs_code": "640411"}]}), Case()),
    ("window_count", "window_count(item.addressee_key, 24) >= 3",
     Case(history=({}, {})), Case(history=({},))),
    ("window_value_eur", "window_value_eur(item.addressee_key, 24) > 150",
     Case({"total_value_eur": 90}, history=({"total_value_eur": 80},)),
     Case({"total_value_eur": 90}, history=({"total_value_eur": 50},))),
    ("value_per_kg_ratio", "any(value_per_kg_ratio(l) < 0.3 for l in item.lines)",
     Case({"lines": [{"value_eur": 2, "net_weight_kg": 0.4}]}), Case()),
    ("value_per_unit_ratio", "any(value_per_unit_ratio(l) < 0.3 for l in item.lines)",
     Case({"lines": [{"value_eur": 2, "quantity": 2}]}), Case()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("when", "hit", "miss"), [a[1:] for a in ALLOWED], ids=[a[0] for a in ALLOWED]
)
def test_allowed_expression_compiles_and_evaluates(when: str, hit: Case, miss: Case) -> None:
    ruleset = compile_ruleset(one_rule(when, hit=hit, miss=miss))
    hit_assessment = assess_case(ruleset, hit)
    assert RULE_ID in [h.rule for h in hit_assessment.hits], hit_assessment.skipped
    miss_assessment = assess_case(ruleset, miss)
    assert RULE_ID not in [h.rule for h in miss_assessment.hits]
    assert RULE_ID not in miss_assessment.skipped, "the miss case must evaluate, not fail"
    assert all(result.passed for result in run_golden_tests(ruleset))
    assert "__" not in ruleset.code


# (id, when, what the message must say)
REFUSED = [
    ("dunder attribute", "item.__class__", "attributes starting with '_'"),
    ("dunder on a party", "item.sender.__dict__", "attributes starting with '_'"),
    ("__import__", "__import__('os')", "'__import__' is not a rule function"),
    ("open", "open('/etc/passwd')", "'open' is not a rule function"),
    ("getattr", "getattr(item, 'x')", "'getattr' is not a rule function"),
    ("eval", "eval('1')", "'eval' is not a rule function"),
    ("lambda", "lambda: 1", "lambda is not allowed"),
    ("string times power", '"a" * 10**9', "'**' is not allowed"),
    ("string times number", '"a" * 1000000000', "'*' needs numbers"),
    ("list times number", "item.lines * 1000", "'*' needs numbers"),
    ("power", "2 ** 10", "'**' is not allowed"),
    ("list comprehension", "[l for l in item.lines]", "list comprehensions are not allowed"),
    ("set comprehension", "{l for l in item.lines}", "set comprehensions are not allowed"),
    ("dict literal", "{'a': 1}", "dict literals are not allowed"),
    ("f-string", 'f"{item.category}" == "GIFT"', "f-strings are not allowed"),
    ("walrus", "(x := 1)", "':=' is not allowed"),
    ("method call", "item.description.upper()", "method calls are not allowed"),
    ("unknown field", "item.totl_value_eur > 1", "did you mean 'total_value_eur'"),
    ("unknown name", "x > 1", "unknown name 'x'"),
    ("unknown helper", "foo(1)", "'foo' is not a rule function"),
    ("unknown list", 'matches(item.category, "nope")', "unknown list 'nope'"),
    ("list of the wrong kind", 'matches(item.category, "country_risk")', "needs a words list"),
    ("list name not a literal", "matches(item.category, item.category)", "list name in quotes"),
    ("huge string literal", '"' + "a" * 2000 + '" == item.category', "string literal longer than"),
    ("huge number", "item.total_value_eur < 10000000000000000000", "is larger than"),
    ("generator over text", "any(c for c in item.category)", "generators loop over item.lines"),
    ("syntax error", "item.total_value_eur >", "syntax error"),
    ("is with a value", "item.category is 'GIFT'", "compare with None only"),
    ("bytes literal", "item.category == b'GIFT'", "bytes literals are not allowed"),
    ("helper used as a value", "any", "is a function"),
    ("two generators", "any(l for l in item.lines for m in item.lines)", "one 'for' per generator"),
]  # fmt: skip


@pytest.mark.parametrize(("when", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_expression_is_located(when: str, message: str) -> None:
    text = one_rule(when)
    problems = problems_of(text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.rule == RULE_ID
    assert problem.message.startswith("when: ")
    assert message in problem.message
    assert problem.line == line_of(text, "    when: ")
    assert problem.column is not None
    assert problem.column >= len("    when: ")


# (id, reason template, what the message must say)
REFUSED_REASONS = [
    ("dunder", "total {item.__class__}", "attributes starting with '_'"),
    ("import", "total {__import__('os')}", "not a rule function"),
    ("method call", "{item.category.upper()}", "method calls are not allowed"),
    ("repeat", "{item.lines * 1000}", "'*' needs numbers"),
    ("unbounded width", "{item.total_value_eur:999999999}", "format '999999999' is not allowed"),
    ("unbounded precision", "{item.total_value_eur:.999f}", "is not allowed"),
    ("nested format", "{item.total_value_eur:{item.category}}", "is not allowed"),
    ("never closed", "total {item.total_value_eur", "never closed"),
    ("empty", "total {}", "empty {}"),
    ("single closing brace", "total }", "single '}'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "message"), [r[1:] for r in REFUSED_REASONS], ids=[r[0] for r in REFUSED_REASONS]
)
def test_refused_reason_is_located(reason: str, message: str) -> None:
    text = one_rule("item.total_value_eur > 100", reason=reason)
    problems = problems_of(text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.rule == RULE_ID
    assert problem.message.startswith("reason: ")
    assert message in problem.message
    assert problem.line == line_of(text, "    reason: ")


# The column of an error names where in the YAML line the offending part starts.
POSITIONS = [
    ("plain", "    when: item.total_value_eur > 1 and item.totl_value_eur < 5\n"),
    ("single-quoted", "    when: 'item.total_value_eur > 1 and item.totl_value_eur < 5'\n"),
    ("double-quoted", '    when: "item.total_value_eur > 1 and item.totl_value_eur < 5"\n'),
    ("folded block", "    when: >-\n      item.total_value_eur > 1 and item.totl_value_eur < 5\n"),
]


def _with_when(when_lines: str, reason: str = "fired") -> str:
    return (
        "ruleset: test\nversion: '1'\nbands: {DOCUMENTS_REQUIRED: 30, INSPECT: 60, HOLD: 80}\n"
        "rules:\n  - id: RULE_UNDER_TEST\n    title: rule under test\n    score: 40\n"
        + when_lines
        + f"    reason: {reason}\n"
        "    tests: [{given: {}, expect: hit}, {given: {}, expect: miss}]\n"
    )


@pytest.mark.parametrize("when_lines", [p[1] for p in POSITIONS], ids=[p[0] for p in POSITIONS])
def test_error_column_points_at_the_offending_part(when_lines: str) -> None:
    text = _with_when(when_lines)
    [problem] = problems_of(text)
    line = line_of(text, "item.totl_value_eur")
    column = text.splitlines()[line - 1].index("item.totl_value_eur") + 1
    assert (problem.line, problem.column) == (line, column), problem


def test_reason_error_column_points_at_the_placeholder() -> None:
    text = _with_when(
        "    when: item.total_value_eur > 1\n",
        reason="value {item.total_value_eur:.2f} of {item.__class__}",
    )
    [problem] = problems_of(text)
    line = line_of(text, "    reason: ")
    column = text.splitlines()[line - 1].index("item.__class__") + 1
    assert (problem.line, problem.column) == (line, column), problem


def test_syntax_error_on_the_first_line_has_a_column() -> None:
    text = _with_when("    when: item.total_value_eur > > 1\n")
    [problem] = problems_of(text)
    assert problem.line == line_of(text, "    when: ")
    assert problem.column is not None and problem.column > len("    when: ")


def test_every_problem_of_every_rule_is_reported() -> None:
    text = ruleset_yaml(
        "".join(
            f"  - id: RULE_{n}\n    title: t\n    score: 10\n    when: {when}\n"
            "    reason: fired\n    tests: [{given: {}, expect: hit}, {given: {}, expect: miss}]\n"
            for n, when in enumerate(("item.nope > 1", "foo(1)", "item.total_value_eur > 1"))
        )
    )
    problems = problems_of(text)
    assert [(p.rule, p.line) for p in problems] == [
        ("RULE_0", line_of(text, "item.nope")),
        ("RULE_1", line_of(text, "foo(1)")),
    ]


# ------------------------------------------------------------------ evaluation


def test_missing_value_is_skipped_not_raised_and_not_hit() -> None:
    ruleset = compile_ruleset(
        one_rule(
            "item.total_value_eur > 100",
            hit=Case({"total_value_eur": 120}),
            miss=Case({"total_value_eur": 50}),
        )
    )
    assessment = Engine(ruleset).assess(
        build_item({"total_value_eur": None}), InMemoryState(learn=False)
    )
    assert RULE_ID not in [h.rule for h in assessment.hits]
    assert assessment.skipped == (RULE_ID,)
    assert assessment.as_dict()["skipped"] == [RULE_ID]
    assert assessment.score == 0


@pytest.mark.parametrize(
    "when",
    [
        "max(l.quantity for l in item.lines) > 1",  # no lines: max() of nothing
        "any(l.value_eur / l.quantity < 1 for l in item.lines)",  # quantity 0 or None
        "item.lines[3].quantity > 1",  # index out of range
        "item.item_id[::0] == 'x'",  # slice step zero
    ],
)
def test_runtime_errors_skip_the_rule(when: str) -> None:
    ruleset = compile_ruleset(one_rule(when))
    item = build_item({"lines": [{"quantity": 0}]} if "quantity <" in when else {"lines": []})
    assessment = Engine(ruleset).assess(item, InMemoryState(learn=False))
    assert assessment.skipped == (RULE_ID,)
    assert assessment.hits == ()


@pytest.mark.parametrize(
    ("reason", "given", "rendered"),
    [
        (
            "declared {item.total_value_eur:.2f} EUR",
            {"total_value_eur": 149.5},
            "declared 149.50 EUR",
        ),
        ("by {item.sender.name!r}", {}, "by 'Li Wei'"),
        ("{item.total_value_eur:>8}|", {"total_value_eur": "18"}, "      18|"),
        ("{{literal}} {len(item.lines)}", {}, "{literal} 1"),
        ("value {item.total_gross_weight_kg}", {"total_gross_weight_kg": None}, "value none"),
        ("line {item.lines[5].description}", {}, "line ?"),
    ],
    ids=["format spec", "repr conversion", "width", "escaped braces", "missing value", "error"],
)
def test_reason_template_renders(reason: str, given: dict[str, object], rendered: str) -> None:
    ruleset = compile_ruleset(one_rule("len(item.lines) >= 1", reason=reason))
    assessment = Engine(ruleset).assess(build_item(given), InMemoryState(learn=False))
    [hit] = assessment.hits
    assert hit.reason == rendered


# ------------------------------------------------------------------ never reaching Python


def test_generated_code_runs_without_builtins() -> None:
    ruleset = compile_ruleset(one_rule("len(item.lines) >= 1"))
    assert ruleset.evaluate.__globals__["__builtins__"] == {}
    assert "__" not in ruleset.code


@pytest.mark.parametrize(
    "when",
    [
        "not " * 390 + "item.category",
        "-" * 396 + "1 < 0",
        "(" * 300 + "1" + ")" * 300,
        "item.category == '\\x00'",
        "1 if 1 else " * 130 + "1",
    ],
    ids=["deep not", "deep minus", "deep parentheses", "null byte", "deep conditional"],
)
def test_deep_or_odd_expressions_are_compiled_or_refused(when: str) -> None:
    """Whatever the text, loading gives a Ruleset or a RulesetError, never another exception."""
    try:
        ruleset = compile_ruleset(one_rule(when))
    except RulesetError:
        return
    Engine(ruleset).assess(build_item({}), InMemoryState(learn=False))
