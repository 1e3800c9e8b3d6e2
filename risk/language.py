"""The rule language: a whitelisted subset of Python expressions, checked and translated.

`translate(source, lists)` parses one expression with `ast`, walks it with a
static kind for every node, refuses anything outside the whitelist with a
message and position an analyst can act on, and returns Python source for
the compiler (`risk.compiler`). Translation renames every name the author
wrote (`l` becomes `v_l`), binds list names to compiled matchers and passes
the state to stateful helpers, so the author cannot reach anything the
compiled code holds.

Allowed: literals (bounded), comparisons, `and`/`or`/`not`, `+ - * / // %` on
numbers (`+` also on strings), `in`, `x if c else y`, `item.<field>` and
fields of parties and lines, string slicing and indexing, calls of registered
helpers, and generator expressions over `item.lines` (or `item.warnings`) as
the only argument of `any`, `all`, `first`, `sum`, `min`, `max`. Not allowed:
`**`, lambdas, comprehensions, f-strings, `:=`, method calls, names starting
with `_`, any name or function not listed.
"""

from __future__ import annotations

import ast
import difflib
import math
from dataclasses import dataclass, field

from risk.errors import ExpressionError
from risk.fields import FIELDS, Kind
from risk.helpers import HELPERS
from risk.lists import CompiledLists

MAX_STRING = 1_000
MAX_NUMBER = 10**15
MAX_COLLECTION = 256
MAX_NODES = 400
MAX_SOURCE = 4_000

_ITERABLE: dict[Kind, Kind] = {"lines": "line", "strs": "str"}
_NUMERIC_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_REFUSED: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "list comprehensions are not allowed; use a generator: any(... for l in item.lines)",
    ast.SetComp: "set comprehensions are not allowed",
    ast.DictComp: "dict comprehensions are not allowed",
    ast.Dict: "dict literals are not allowed",
    ast.JoinedStr: "f-strings are not allowed; reasons use {expression} placeholders",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}


@dataclass
class Bindings:
    """Names the translated code refers to, beyond `item`, `S` and the helper functions."""

    lists: dict[str, str] = field(default_factory=dict)  # binding name -> "helper:list"

    def bind(self, helper: str, list_name: str) -> str:
        key = f"{helper}:{list_name}"
        for name, bound in self.lists.items():
            if bound == key:
                return name
        name = f"L{len(self.lists)}_{helper}"
        self.lists[name] = key
        return name


@dataclass(frozen=True, slots=True)
class Translated:
    source: str
    kind: Kind


def _error(node: ast.AST, message: str) -> ExpressionError:
    return ExpressionError(message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0))


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Checker:
    def __init__(self, lists: CompiledLists, bindings: Bindings, *, lines: int | None) -> None:
        self.lists = lists
        self.bindings = bindings
        #: Unroll generators over item.lines for an item of exactly this many lines.
        self.lines = lines
        self.scope: dict[str, Kind] = {"item": "item"}
        #: Loop variable -> name in the emitted code (`line0`, `line1`... when unrolled).
        self.emitted: dict[str, str] = {}
        self.nodes = 0

    # ------------------------------------------------------------ dispatch

    def visit(self, node: ast.AST) -> tuple[ast.expr, Kind]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _error(node, f"expression too large (more than {MAX_NODES} parts)")
        refused = _REFUSED.get(type(node))
        if refused is not None:
            raise _error(node, refused)
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise _error(node, f"{type(node).__name__} is not allowed in rules")
        result: tuple[ast.expr, Kind] = method(node)
        return result

    # ------------------------------------------------------------ leaves

    def visit_Constant(self, node: ast.Constant) -> tuple[ast.expr, Kind]:
        value = node.value
        if value is None:
            return node, "any"
        if isinstance(value, bool):
            return node, "bool"
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise _error(node, f"string literal longer than {MAX_STRING} characters")
            if "__" in value:
                # No goods word, code or name has a double underscore; dunder text is only
                # ever a probe for an escape, and must never reach the generated code.
                raise _error(node, "string literals may not contain '__'")
            return node, "str"
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise _error(node, "numbers must be finite")
            if abs(value) > MAX_NUMBER:
                raise _error(node, f"number {value} is larger than {MAX_NUMBER:,}")
            return node, "num"
        raise _error(node, f"{type(value).__name__} literals are not allowed")

    def visit_Name(self, node: ast.Name) -> tuple[ast.expr, Kind]:
        name = node.id
        if name.startswith("_"):
            raise _error(node, f"names starting with '_' are not allowed: {name!r}")
        if name == "item":
            return ast.Name("item", ast.Load()), "item"
        if name in self.scope:
            return ast.Name(self.emitted[name], ast.Load()), self.scope[name]
        if name in HELPERS:
            raise _error(node, f"{name!r} is a function: call it, e.g. {HELPERS[name].usage}")
        raise _error(
            node,
            f"unknown name {name!r}; rules read 'item' and loop variables"
            + _suggest(name, ["item", *self.scope]),
        )

    # ------------------------------------------------------------ access

    def visit_Attribute(self, node: ast.Attribute) -> tuple[ast.expr, Kind]:
        if node.attr.startswith("_"):
            raise _error(node, f"attributes starting with '_' are not allowed: {node.attr!r}")
        value, kind = self.visit(node.value)
        fields = FIELDS.get(kind)
        if fields is None:
            raise _error(node, f"{kind} values have no fields (reading .{node.attr})")
        if node.attr not in fields:
            raise _error(
                node,
                f"unknown field {node.attr!r} of {kind}" + _suggest(node.attr, list(fields)),
            )
        return ast.Attribute(value, node.attr, ast.Load()), fields[node.attr]

    def visit_Subscript(self, node: ast.Subscript) -> tuple[ast.expr, Kind]:
        value, kind = self.visit(node.value)
        if isinstance(node.slice, ast.Slice):
            if kind not in ("str", "any"):
                raise _error(node, "only text can be sliced, e.g. l.hs_code[:4]")
            parts: list[ast.expr | None] = []
            for part in (node.slice.lower, node.slice.upper, node.slice.step):
                if part is None:
                    parts.append(None)
                    continue
                checked, part_kind = self.visit(part)
                self._need_number(part, part_kind, "slice bounds")
                parts.append(checked)
            return ast.Subscript(value, ast.Slice(*parts), ast.Load()), "str"
        index, index_kind = self.visit(node.slice)
        self._need_number(node.slice, index_kind, "an index")
        element: Kind = {"str": "str", "lines": "line", "strs": "str"}.get(kind, "")  # type: ignore[assignment]
        if not element:
            raise _error(node, f"{kind} values cannot be indexed")
        return ast.Subscript(value, index, ast.Load()), element

    # ------------------------------------------------------------ operators

    def visit_BoolOp(self, node: ast.BoolOp) -> tuple[ast.expr, Kind]:
        values = [self.visit(v) for v in node.values]
        kinds = {k for _, k in values}
        return ast.BoolOp(node.op, [v for v, _ in values]), kinds.pop() if len(
            kinds
        ) == 1 else "any"

    def visit_UnaryOp(self, node: ast.UnaryOp) -> tuple[ast.expr, Kind]:
        operand, kind = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ast.UnaryOp(node.op, operand), "bool"
        if isinstance(node.op, ast.USub | ast.UAdd):
            self._need_number(node, kind, "'-'")
            return ast.UnaryOp(node.op, operand), "num"
        raise _error(node, "'~' is not allowed")

    def visit_BinOp(self, node: ast.BinOp) -> tuple[ast.expr, Kind]:
        if isinstance(node.op, ast.Pow):
            raise _error(node, "'**' is not allowed")
        if not isinstance(node.op, _NUMERIC_OPS):
            raise _error(node, f"operator {type(node.op).__name__} is not allowed")
        left, lk = self.visit(node.left)
        right, rk = self.visit(node.right)
        if isinstance(node.op, ast.Add) and lk == rk == "str":
            return ast.BinOp(left, node.op, right), "str"
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
                  ast.Mod: "%"}[type(node.op)]  # fmt: skip
        if lk != "num" or rk != "num":
            raise _error(node, f"'{symbol}' needs numbers on both sides (got {lk} and {rk})")
        return ast.BinOp(left, node.op, right), "num"

    def visit_Compare(self, node: ast.Compare) -> tuple[ast.expr, Kind]:
        left, _ = self.visit(node.left)
        comparators = []
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot) and not (
                isinstance(comparator, ast.Constant) and comparator.value is None
            ):
                raise _error(comparator, "'is' and 'is not' compare with None only")
            checked, _ = self.visit(comparator)
            comparators.append(checked)
        return ast.Compare(left, node.ops, comparators), "bool"

    def visit_IfExp(self, node: ast.IfExp) -> tuple[ast.expr, Kind]:
        test, _ = self.visit(node.test)
        body, bk = self.visit(node.body)
        orelse, ok = self.visit(node.orelse)
        return ast.IfExp(test, body, orelse), bk if bk == ok else "any"

    def _collection(self, node: ast.Tuple | ast.List | ast.Set) -> tuple[ast.expr, Kind]:
        if len(node.elts) > MAX_COLLECTION:
            raise _error(node, f"more than {MAX_COLLECTION} values in one literal")
        elts = [self.visit(e) for e in node.elts]
        kind: Kind = "strs" if elts and all(k == "str" for _, k in elts) else "any"
        return ast.Tuple([e for e, _ in elts], ast.Load()), kind

    visit_Tuple = visit_List = visit_Set = _collection

    # ------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call) -> tuple[ast.expr, Kind]:
        if not isinstance(node.func, ast.Name):
            raise _error(node, "method calls are not allowed; call a registered function")
        name = node.func.id
        spec = HELPERS.get(name)
        if spec is None:
            raise _error(
                node,
                f"{name!r} is not a rule function; available: {', '.join(sorted(HELPERS))}"
                + _suggest(name, list(HELPERS)),
            )
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg not in spec.keywords:
                raise _error(
                    node, f"{name}() takes no argument {keyword.arg!r}; usage: {spec.usage}"
                )
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise _error(node, f"{name}() called with {count} arguments; usage: {spec.usage}")
        if spec.generator:
            return self._generator_call(node, name, spec.returns_element, spec.returns)
        if any(isinstance(a, ast.GeneratorExp) for a in node.args):
            raise _error(node, f"{name}() does not take a generator; usage: {spec.usage}")
        args = list(node.args)
        func: ast.expr = ast.Name(f"h_{name}", ast.Load())
        if spec.list_arg is not None:
            list_name = self._list_name(node, name, args, spec.list_arg, spec.default_list)
            if spec.list_arg < len(args):
                del args[spec.list_arg]
            func = ast.Name(self.bindings.bind(name, list_name), ast.Load())
        checked_args = [self.visit(a)[0] for a in args]
        keywords = [ast.keyword(k.arg, self.visit(k.value)[0]) for k in node.keywords]
        if spec.stateful:
            checked_args = [ast.Name("S", ast.Load()), ast.Name("item", ast.Load()), *checked_args]
        return ast.Call(func, checked_args, keywords), spec.returns

    def _list_name(
        self, node: ast.Call, helper: str, args: list[ast.expr], at: int, default: str | None
    ) -> str:
        spec = HELPERS[helper]
        if at >= len(args):
            assert default is not None
            list_name = default
        else:
            arg = args[at]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise _error(arg, f"{helper}() needs a list name in quotes; usage: {spec.usage}")
            list_name = arg.value
        kind = self.lists.kind_of(list_name)
        if kind is None:
            raise _error(node, f"{helper}() refers to unknown list {list_name!r}")
        if kind != spec.list_kind:
            raise _error(node, f"{helper}() needs a {spec.list_kind} list; {list_name!r} is {kind}")
        return list_name

    def _generator_call(
        self, node: ast.Call, name: str, returns_element: bool, returns: Kind
    ) -> tuple[ast.expr, Kind]:
        arg = node.args[0]
        if not isinstance(arg, ast.GeneratorExp):
            if name in ("min", "max", "sum"):
                raise _error(node, f"{name}() takes a generator: {name}(x for l in item.lines)")
            raise _error(node, f"{name}() takes a generator: {HELPERS[name].usage}")
        if len(arg.generators) != 1:
            raise _error(arg, "one 'for' per generator")
        comp = arg.generators[0]
        if comp.is_async:
            raise _error(arg, "'async for' is not allowed")
        if not isinstance(comp.target, ast.Name):
            raise _error(comp.target, "the loop variable must be a plain name, e.g. 'l'")
        var = comp.target.id
        if var.startswith("_") or var == "item" or var in HELPERS:
            raise _error(comp.target, f"{var!r} cannot be a loop variable")
        iterable, iter_kind = self.visit(comp.iter)
        element_kind = _ITERABLE.get(iter_kind)
        if element_kind is None:
            raise _error(
                comp.iter, "generators loop over item.lines (or a list field such as item.warnings)"
            )
        unroll = self.lines is not None and _is_item_lines(comp.iter)
        if unroll and name in ("min", "max") and comp.ifs:
            unroll = False  # a filtered min/max needs the generator's "no values" semantics
        names = [f"line{i}" for i in range(self.lines or 0)] if unroll else [f"v_{var}"]
        outer, outer_emitted = dict(self.scope), dict(self.emitted)
        self.scope[var] = element_kind
        per_line: list[tuple[ast.expr, list[ast.expr]]] = []
        kind: Kind = "any"
        counted = self.nodes
        try:
            for emitted in names:
                # Each unrolled copy is checked again; count the source's nodes once.
                self.nodes = counted
                self.emitted[var] = emitted
                ifs = [self.visit(condition)[0] for condition in comp.ifs]
                element, kind = self.visit(arg.elt)
                per_line.append((element, ifs))
        finally:
            self.scope, self.emitted = outer, outer_emitted
        result_kind = kind if returns_element else returns
        if name in ("sum", "min", "max"):
            self._need_number(arg.elt, kind, f"{name}()")
        if unroll:
            return _unrolled(name, per_line), result_kind
        element, ifs = per_line[0]
        generator = ast.GeneratorExp(
            element,
            [ast.comprehension(ast.Name(f"v_{var}", ast.Store()), iterable, ifs, 0)],
        )
        return ast.Call(ast.Name(f"h_{name}", ast.Load()), [generator], []), result_kind

    # ------------------------------------------------------------ checks

    @staticmethod
    def _need_number(node: ast.AST, kind: Kind, what: str) -> None:
        if kind not in ("num", "any"):
            raise _error(node, f"{what} needs a number, not {kind}")


def _is_item_lines(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "lines"
        and isinstance(node.value, ast.Name)
        and node.value.id == "item"
    )


def _unrolled(name: str, per_line: list[tuple[ast.expr, list[ast.expr]]]) -> ast.expr:
    """`any(x for l in item.lines if c)` spelt out for an item of a known, small number of lines.

    Most items have one to four lines, and a generator costs more than the
    conditions it runs; the compiler dispatches on `len(item.lines)`.
    """

    def call(helper: str, *args: ast.expr) -> ast.expr:
        return ast.Call(ast.Name(f"h_{helper}", ast.Load()), list(args), [])

    def condition(ifs: list[ast.expr]) -> ast.expr | None:
        return ifs[0] if len(ifs) == 1 else ast.BoolOp(ast.And(), ifs) if ifs else None

    parts = [(element, condition(ifs)) for element, ifs in per_line]
    if not parts:
        empty_values: dict[str, ast.expr] = {
            "any": ast.Constant(False),
            "all": ast.Constant(True),
            "first": ast.Constant(None),
            "sum": ast.Constant(0),
        }
        return empty_values.get(name) or call("no_values")
    if name in ("any", "all"):
        terms = []
        for element, test in parts:
            if test is None:
                terms.append(element)
            elif name == "any":
                terms.append(ast.BoolOp(ast.And(), [test, element]))
            else:
                terms.append(ast.BoolOp(ast.Or(), [ast.UnaryOp(ast.Not(), test), element]))
        joined = (
            terms[0]
            if len(terms) == 1
            else ast.BoolOp(ast.Or() if name == "any" else ast.And(), terms)
        )
        return call("bool", joined)
    if name == "first":
        result: ast.expr = ast.Constant(None)
        for element, test in reversed(parts):
            result = element if test is None else ast.IfExp(test, element, result)
        return result
    if name == "sum":
        terms = [
            element if test is None else ast.IfExp(test, element, ast.Constant(0))
            for element, test in parts
        ]
        total = terms[0]
        for term in terms[1:]:
            total = ast.BinOp(total, ast.Add(), term)
        return total
    # min / max without conditions (filtered ones keep the generator)
    if len(parts) == 1:
        return parts[0][0]
    return call(name, ast.Tuple([element for element, _ in parts], ast.Load()))


def translate(
    source: str, lists: CompiledLists, bindings: Bindings, *, lines: int | None = None
) -> Translated:
    """Check one expression and return the Python source that computes it.

    With `lines`, generators over `item.lines` are unrolled for an item of
    exactly that many lines, bound to `line0`, `line1`... (see `_unrolled`).
    """
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except RecursionError:
        raise ExpressionError("expression nested too deeply") from None
    except SyntaxError as exc:
        raise ExpressionError(
            f"syntax error: {exc.msg}", exc.lineno or 1, (exc.offset or 1) - 1
        ) from None
    checker = _Checker(lists, bindings, lines=lines)
    try:
        expression, kind = checker.visit(tree.body)
        return Translated(ast.unparse(ast.fix_missing_locations(expression)), kind)
    except RecursionError:
        raise ExpressionError("expression nested too deeply") from None
