"""Compile a checked ruleset into one Python function over an item.

All enabled `when` expressions become one generated function, each in its
own `try`, so a rule that meets missing data (None compared with a number,
no lines to take the max of) is skipped and reported, never fatal, and a
clean evaluation costs no more than the conditions themselves (`try` is free
in CPython 3.11 until something raises). The generated code runs with empty
builtins and sees only the helpers and list matchers it was compiled against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from messages.canonical import Item, Line
from risk.errors import ExpressionError, RuleProblem, RulesetError
from risk.helpers import BINDERS, FUNCTIONS, HELPERS
from risk.language import Bindings, translate
from risk.lists import CompiledLists, WordIndex, compile_lists, list_kind
from risk.optimise import UNSET, Optimised, optimise
from risk.ruleset import (
    FISCAL_ACTIONS,
    Position,
    RulesetSpec,
    RuleSpec,
    parse_spec,
    structural_problems,
)
from risk.state import RiskState
from risk.templates import Placeholder, split_template

#: Items with up to this many lines get generator-free evaluation functions.
UNROLL_LINES = 4
STATEFUL_HELPERS = tuple(name for name, spec in HELPERS.items() if spec.stateful)
#: What a rule may raise on missing or odd data; the rule is skipped, the item still assessed.
RULE_ERRORS = (TypeError, ArithmeticError, ValueError, AttributeError, IndexError, KeyError)
#: Attributes the generated code may load eagerly: declared fields always exist.
_ITEM_FIELDS = frozenset(Item.model_fields)
_LINE_FIELDS = frozenset(Line.model_fields)

Evaluate = Callable[[Item, RiskState], tuple[list[int], list[int]]]
ValueFn = Callable[[Item, RiskState], Any]


@dataclass(frozen=True, slots=True)
class Reason:
    """A compiled reason template: literal parts around placeholder functions."""

    parts: tuple[str, ...]
    values: tuple[ValueFn, ...]
    specs: tuple[str, ...]
    conversions: tuple[str, ...]

    def render(self, item: Item, state: RiskState) -> str:
        out = [self.parts[0]]
        for value_fn, spec, conversion, part in zip(
            self.values, self.specs, self.conversions, self.parts[1:], strict=True
        ):
            try:
                value = value_fn(item, state)
                if conversion == "r" and value is not None:
                    value = repr(str(value))
                text = "none" if value is None else format(value, spec)
            except RULE_ERRORS:
                text = "?"
            out.append(text)
            out.append(part)
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    axis: str
    score: int
    action: str | None
    tags: tuple[str, ...]
    enabled: bool
    reason: Reason
    spec: RuleSpec


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A loaded, compiled ruleset; `evaluate` returns (hit indexes, skipped indexes) into `active`."""

    name: str
    version: str
    bands: tuple[tuple[int, str], ...]
    rules: tuple[Rule, ...]
    active: tuple[Rule, ...]
    lists: CompiledLists
    evaluate: Evaluate
    code: str
    spec: RulesetSpec
    #: Some rule reads RiskState (windows, references): items must be observed.
    stateful: bool

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _locate(
    base: Position | None, error: ExpressionError, offset: int = 0
) -> tuple[int | None, int | None]:
    if base is None:
        return None, None
    if error.line == 1:
        return base.line, base.column + offset + error.column
    return base.line + error.line - 1, error.column + 1


def _translate_placeholder(
    placeholder: Placeholder, lists: CompiledLists, bindings: Bindings
) -> str:
    """Translate one `{...}`; an error's column counts from the start of the reason."""
    try:
        return translate(placeholder.expression, lists, bindings).source
    except ExpressionError as error:
        if error.line == 1:
            error.column += placeholder.offset
        raise


def _word_bits(bindings: Bindings) -> dict[str, int]:
    """A bit in `W_mask` for each word list the rules match against."""
    bound = [name for name, key in bindings.lists.items() if key.startswith("matches:")]
    return {name: 1 << n for n, name in enumerate(bound)}


def _namespace(lists: CompiledLists, bindings: Bindings) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__builtins__": {}, "ERRORS": RULE_ERRORS, UNSET: object()}
    namespace.update({f"h_{name}": fn for name, fn in FUNCTIONS.items()})
    for binding, key in bindings.lists.items():
        helper, list_name = key.split(":", 1)
        namespace[binding] = BINDERS[helper](lists.compiled(list_name))
    word_lists = [bindings.lists[name].split(":", 1)[1] for name in _word_bits(bindings)]
    namespace["W_mask"] = WordIndex([lists.words[name] for name in word_lists]).mask
    return namespace


def compile_ruleset(text: str, *, require_tests: bool = True, optimised: bool = True) -> Ruleset:
    """Load, check and compile a ruleset from YAML text; RulesetError lists every problem.

    `require_tests=False` is for generated rulesets (benchmarks, backtests of
    one rule); anything an analyst writes must carry golden tests.
    `optimised=False` emits each rule exactly as translated (`risk.optimise` not
    applied): the reference the optimised code is tested against.
    """
    spec, where, problems = parse_spec(text)
    problems += structural_problems(spec, where, require_tests=require_tests)
    raw_lists: dict[str, object] = {}
    for name, value in spec.lists.items():
        kind = list_kind(value)
        if kind not in ("words", "weights", "keyword_map", "parties"):
            position = where.of(None, "lists")
            problems.append(
                RuleProblem(
                    None, position.line if position else None, None, f"list {name!r}: {kind}"
                )
            )
        else:
            raw_lists[name] = value
    lists = compile_lists(raw_lists)
    bindings = Bindings()
    conditions: list[str] = []
    #: Per small line count, the conditions with generators over item.lines unrolled.
    unrolled: dict[int, list[str]] = {n: [] for n in range(1, UNROLL_LINES + 1)}
    reasons: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
    for index, rule in enumerate(spec.rules):
        try:
            conditions.append(translate(rule.when, lists, bindings).source)
            for count, variant in unrolled.items():
                variant.append(translate(rule.when, lists, bindings, lines=count).source)
        except ExpressionError as error:
            line, column = _locate(where.of(index, "when"), error)
            problems.append(RuleProblem(rule.id, line, column, f"when: {error.message}"))
            conditions.append("False")
            for variant in unrolled.values():
                variant.append("False")
        try:
            parts, placeholders = split_template(rule.reason)
            sources = tuple(_translate_placeholder(p, lists, bindings) for p in placeholders)
            reasons.append(
                (
                    tuple(parts),
                    sources,
                    tuple(p.spec for p in placeholders),
                    tuple(p.conversion for p in placeholders),
                )
            )
        except ExpressionError as error:
            line, column = _locate(where.of(index, "reason"), error)
            problems.append(RuleProblem(rule.id, line, column, f"reason: {error.message}"))
            reasons.append((("",), (), (), ()))
    if problems:
        raise RulesetError(problems)
    active_indexes = [i for i, rule in enumerate(spec.rules) if rule.enabled]
    code = _generate(
        conditions, unrolled, active_indexes, reasons, _word_bits(bindings) if optimised else None
    )
    namespace = _namespace(lists, bindings)
    # The code is generated here from checked, translated expressions (risk.language).
    exec(compile(code, f"<ruleset {spec.ruleset} {spec.version}>", "exec"), namespace)  # noqa: S102
    rules = tuple(
        Rule(
            id=rule.id,
            title=rule.title,
            axis=rule.axis,
            score=rule.score,
            action=rule.action,
            tags=tuple(rule.tags),
            enabled=rule.enabled,
            reason=Reason(
                reasons[i][0], tuple(namespace[f"reason_{i}"]), reasons[i][2], reasons[i][3]
            ),
            spec=rule,
        )
        for i, rule in enumerate(spec.rules)
    )
    bands = tuple((spec.bands[a], a) for a in FISCAL_ACTIONS if a in spec.bands)
    return Ruleset(
        name=spec.ruleset,
        version=spec.version,
        bands=bands,
        rules=rules,
        active=tuple(rules[i] for i in active_indexes),
        lists=lists,
        evaluate=namespace["evaluate"],
        code=code,
        spec=spec,
        stateful=any(f"h_{name}(" in code for name in STATEFUL_HELPERS),
    )


def _generate(
    conditions: list[str],
    unrolled: dict[int, list[str]],
    active: list[int],
    reasons: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]],
    word_bits: dict[str, int] | None,
) -> str:
    """The module source: `evaluate` dispatching on the line count; `word_bits` None: plain."""
    lines = ["def evaluate(item, S):", "    lines = item.lines", "    count = h_len(lines)"]
    for count in unrolled:
        arguments = ", ".join(f"lines[{i}]" for i in range(count))
        lines += [
            f"    if count == {count}:",
            f"        return evaluate_{count}(item, S, {arguments})",
        ]
    lines.append("    return evaluate_n(item, S)")
    variants = [
        (
            f"evaluate_{count}",
            ["item", "S", *(f"line{i}" for i in range(count))],
            sources,
        )
        for count, sources in unrolled.items()
    ]
    for name, params, sources in [*variants, ("evaluate_n", ["item", "S"], conditions)]:
        fixed = {"item": _ITEM_FIELDS} | {p: _LINE_FIELDS for p in params if p.startswith("line")}
        conditions_used = [sources[i] for i in active]
        optimised = (
            optimise(conditions_used, fixed=fixed, word_bits=word_bits)
            if word_bits is not None
            else Optimised((), tuple(conditions_used))
        )
        lines += [f"def {name}({', '.join(params)}):", "    hits = []", "    skipped = []"]
        lines += [f"    {statement}" for statement in optimised.prelude]
        for position, condition in enumerate(optimised.conditions):
            lines += [
                "    try:",
                f"        if {condition}:",
                f"            hits.append({position})",
                "    except ERRORS:",
                f"        skipped.append({position})",
            ]
        lines.append("    return hits, skipped")
    for index, reason in enumerate(reasons):
        values = ", ".join(f"(lambda item, S: {source})" for source in reason[1])
        lines.append(f"reason_{index} = ({values}{',' if len(reason[1]) == 1 else ''})")
    return "\n".join(lines) + "\n"


def load_ruleset(path: Path | str) -> Ruleset:
    return compile_ruleset(Path(path).read_text(encoding="utf-8"))
