"""Errors a rule author sees: each names the rule, the line and the column.

A ruleset is written by customs risk analysts, not programmers. Every problem
found at load time is collected (not just the first), so one `aedex rules
check` run lists everything to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One thing wrong with a ruleset, located in its YAML file."""

    rule: str | None
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "ruleset"
        if self.line is not None and self.column is not None:
            where += f", column {self.column}"
        subject = f"rule {self.rule}" if self.rule else "ruleset"
        return f"{subject} ({where}): {self.message}"


class RulesetError(Exception):
    """A ruleset that cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ExpressionError(Exception):
    """An expression refused by the rule language, with its position in the expression."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(f"{message} (line {line}, column {column})")
