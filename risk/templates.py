"""Reason templates: text with `{expression}` or `{expression:format}` placeholders.

The expression is in the rule language (checked like `when`); the format spec
is the usual one (`.2f`, `>8`, `,.0f`) with bounded width and precision, so a
template cannot render a gigabyte of padding. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from risk.errors import ExpressionError

_SPEC = re.compile(
    r"^(?:.?[<>=^])?[+\- ]?#?0?(?P<width>\d{0,3})[,_]?(?:\.(?P<prec>\d{1,2}))?[bcdeEfFgGnosxX%]?$"
)
_CLOSE = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class Placeholder:
    expression: str
    spec: str
    offset: int
    conversion: str = ""  # "r": show the value quoted, as repr() does  # where the expression starts in the template


def split_template(template: str) -> tuple[list[str], list[Placeholder]]:
    """Literal parts and placeholders: len(parts) == len(placeholders) + 1."""
    parts: list[str] = []
    placeholders: list[Placeholder] = []
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if char == "}":
            if template.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            raise ExpressionError("single '}' in reason; write '}}' for a literal brace", 1, i)
        if char != "{":
            literal.append(char)
            i += 1
            continue
        if template.startswith("{{", i):
            literal.append("{")
            i += 2
            continue
        end, colon = _scan_placeholder(template, i + 1)
        expression = template[i + 1 : colon if colon is not None else end]
        spec = template[colon + 1 : end] if colon is not None else ""
        conversion = ""
        if len(expression) > 2 and expression[-2] == "!" and expression[-1] in "rs":
            expression, conversion = expression[:-2], expression[-1]
        if not expression.strip():
            raise ExpressionError("empty {} in reason", 1, i)
        if not _SPEC.match(spec):
            raise ExpressionError(
                f"format {spec!r} is not allowed (e.g. '.2f', '>10', ',.0f')", 1, i
            )
        parts.append("".join(literal))
        literal = []
        placeholders.append(Placeholder(expression, spec, i + 1, conversion))
        i = end + 1
    parts.append("".join(literal))
    return parts, placeholders


def _scan_placeholder(template: str, start: int) -> tuple[int, int | None]:
    """Index of the closing '}' and of the top-level ':' (format spec), skipping quotes and brackets."""
    stack: list[str] = []
    quote: str | None = None
    colon: int | None = None
    i = start
    while i < len(template):
        char = template[i]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in _CLOSE:
            stack.append(_CLOSE[char])
        elif stack and char == stack[-1]:
            stack.pop()
        elif not stack and char == ":" and colon is None:
            colon = i
        elif not stack and char == "}":
            return i, colon
        i += 1
    raise ExpressionError("'{' in reason is never closed", 1, start - 1)
