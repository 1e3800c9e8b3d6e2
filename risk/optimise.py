"""Rewrite the translated conditions of one evaluation function so shared work is done once.

Rules overlap: three undervaluation rules ask for the same reference ratio of
the same line, nine rules ask the same description about nine word lists, and
seven read `item.warnings`. The translator emits each rule on its own; this
pass, run on all conditions of one generated function at once:

- loads the item's and each unrolled line's fields once, into locals
  (`item.warnings` -> `i_warnings`); declared model fields always exist, so an
  eager load cannot raise where the rule would not have;
- asks every word list about a text in one call (`W_mask(text) & bit`);
- computes each helper call that appears more than once at most once, lazily,
  where it is first needed (`c3 if c3 is not U else (c3 := ...)`): a rule that
  never reaches the call does not pay for it, and a call that raises leaves the
  memo unset, so every rule that reaches it is skipped exactly as before;
- spells out `hs_in(code, "8507", ...)` on a plain name as `code is not None and
  code.startswith((...))`, saving a call per prefix test;
- drops `bool(...)` where only truth matters (an `if`, `and`, `or`, `not`).

Nothing inside a generator body is touched (`evaluate_n`, items with many
lines): names bound there change per line.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass

#: The sentinel a lazy memo holds until its call has run.
UNSET = "U"
_BINDING = re.compile(r"^L\d+_")
#: Registered functions too cheap to be worth a memo.
_CHEAP = frozenset({"h_bool", "h_len", "h_abs", "h_round", "h_min", "h_max", "h_sum", "h_any"})


@dataclass(frozen=True, slots=True)
class Optimised:
    """Statements that open the function, and each condition rewritten."""

    prelude: tuple[str, ...]
    conditions: tuple[str, ...]


def optimise(
    conditions: list[str],
    *,
    fixed: dict[str, frozenset[str]],
    word_bits: dict[str, int],
) -> Optimised:
    """Rewrite the conditions of one function.

    `fixed` maps each name that is constant for a whole call (`item`, `line0`...)
    to the attributes that always exist on it (declared model fields);
    `word_bits` maps each word-list binding (`L1_matches`) to its bit in `W_mask`.
    """
    trees = [ast.parse(source, mode="eval").body for source in conditions]
    trees = [_truth(_WordMasks(word_bits).visit(tree)) for tree in trees]
    hoisted = _hoist_fields(trees, fixed)
    trees = [_InlinePrefixes().visit(tree) for tree in trees]
    memos = _memo_calls(trees, set(fixed) | set(hoisted.values()))
    prelude = [f"{local} = {owner}.{attr}" for (owner, attr), local in hoisted.items()]
    prelude += [f"{name} = {UNSET}" for name in memos]
    return Optimised(
        tuple(prelude), tuple(ast.unparse(ast.fix_missing_locations(t)) for t in trees)
    )


def _truth(node: ast.expr) -> ast.expr:
    """`node` in a context that reads only its truth: `bool(x)` is `x` there."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "h_bool"
        and len(node.args) == 1
        and not node.keywords
    ):
        return _truth(node.args[0])
    if isinstance(node, ast.BoolOp):
        node.values = [_truth(value) for value in node.values]
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node.operand = _truth(node.operand)
    return node


class _WordMasks(ast.NodeTransformer):
    """`L1_matches(text)` -> `W_mask(text) & 2 != 0`: one lookup answers every word list."""

    def __init__(self, word_bits: dict[str, int]) -> None:
        self.word_bits = word_bits

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.expr:
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id in self.word_bits):
            return node
        mask = ast.Call(ast.Name("W_mask", ast.Load()), node.args, [])
        masked = ast.BinOp(mask, ast.BitAnd(), ast.Constant(self.word_bits[node.func.id]))
        return ast.Compare(masked, [ast.NotEq()], [ast.Constant(0)])


class _InlinePrefixes(ast.NodeTransformer):
    """`h_hs_in(x, "85", "93")` -> `x is not None and x.startswith(("85", "93"))`.

    Only for a plain local or attribute `x` with literal prefixes: reading `x`
    twice is then free of cost and of side effects. Same truth, same errors
    (a non-text `x` raises AttributeError either way).
    """

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.expr:
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id == "h_hs_in") or node.keywords:
            return node
        code, *prefixes = node.args
        simple = isinstance(code, ast.Name) or (
            isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name)
        )
        literal = all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in prefixes)
        if not (simple and prefixes and literal):
            return node
        startswith = ast.Call(
            ast.Attribute(code, "startswith", ast.Load()),
            [ast.Tuple(list(prefixes), ast.Load())],
            [],
        )
        present = ast.Compare(code, [ast.IsNot()], [ast.Constant(None)])
        return ast.BoolOp(ast.And(), [present, startswith])


def _outside_generators(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` not inside a generator body (its first iterable is outside)."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.GeneratorExp):
            pending.append(node.generators[0].iter)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _fixed_attribute(node: ast.AST, fixed: dict[str, frozenset[str]]) -> tuple[str, str] | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.attr in fixed.get(node.value.id, frozenset())
    ):
        return node.value.id, node.attr
    return None


def _hoist_fields(
    trees: list[ast.expr], fixed: dict[str, frozenset[str]]
) -> dict[tuple[str, str], str]:
    """Replace `item.x` / `line0.x` read more than once with locals; return what to load."""
    counts: Counter[tuple[str, str]] = Counter(
        key
        for tree in trees
        for node in _outside_generators(tree)
        if (key := _fixed_attribute(node, fixed)) is not None
    )
    hoisted = {
        key: f"{'i' if key[0] == 'item' else key[0].replace('line', 'l')}_{key[1]}"
        for key, count in counts.items()
        if count > 1
    }

    class Replace(ast.NodeTransformer):
        def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.expr:
            node.generators[0].iter = self.visit(node.generators[0].iter)
            return node

        def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
            key = _fixed_attribute(node, fixed)
            if key is not None and key in hoisted:
                return ast.Name(hoisted[key], ast.Load())
            self.generic_visit(node)
            return node

    for n, tree in enumerate(trees):
        trees[n] = Replace().visit(tree)
    return hoisted


def _memo_key(node: ast.AST, constant_names: set[str]) -> str | None:
    """A key for a call that gives the same answer anywhere in one evaluation, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    name = node.func.id
    if name in _CHEAP or not (name.startswith("h_") or _BINDING.match(name) or name == "W_mask"):
        return None
    for inner in ast.walk(node):
        if isinstance(inner, ast.GeneratorExp | ast.Lambda | ast.NamedExpr):
            return None
        if isinstance(inner, ast.Name) and inner is not node.func:
            known = inner.id in constant_names or inner.id == "S"
            if not (known or inner.id.startswith("h_") or _BINDING.match(inner.id)):
                return None
    return ast.dump(node)


def _memo_calls(trees: list[ast.expr], constant_names: set[str]) -> list[str]:
    """Give each call made more than once a lazy memo local; return the locals' names."""
    counts: Counter[str] = Counter(
        key
        for tree in trees
        for node in _outside_generators(tree)
        if (key := _memo_key(node, constant_names)) is not None
    )
    names = {key: f"c{n}" for n, key in enumerate(k for k, c in counts.items() if c > 1)}

    class Replace(ast.NodeTransformer):
        def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.expr:
            node.generators[0].iter = self.visit(node.generators[0].iter)
            return node

        def visit_Call(self, node: ast.Call) -> ast.expr:
            key = _memo_key(node, constant_names)  # before inner calls are rewritten
            self.generic_visit(node)
            if key is None or key not in names:
                return node
            local = names[key]
            return ast.IfExp(
                ast.Compare(
                    ast.Name(local, ast.Load()), [ast.IsNot()], [ast.Name(UNSET, ast.Load())]
                ),
                ast.Name(local, ast.Load()),
                ast.NamedExpr(ast.Name(local, ast.Store()), node),
            )

    for n, tree in enumerate(trees):
        trees[n] = Replace().visit(tree)
    return list(names.values())
