"""Ruleset files: YAML in, a checked `Ruleset` out, every problem located by line.

The file format is DESIGN.md §5: `ruleset`, `version`, `bands`, `lists`,
`rules` (id, title, when, score, axis, action, reason, enabled, tags, tests).
PyYAML's safe loader builds the data; its node marks give each problem the
line and column where the analyst has to look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from risk.errors import RuleProblem, RulesetError

FISCAL_ACTIONS = ("DOCUMENTS_REQUIRED", "INSPECT", "HOLD")
SECURITY_ACTIONS = ("SCREEN", "DO_NOT_LOAD")
RELEASE = "RELEASE"
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
MAX_FILE_BYTES = 2_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldenTest(_Strict):
    """A case the rule must get right: a partial item (and earlier items) and hit or miss."""

    name: str | None = None
    given: dict[str, Any] = Field(default_factory=dict)
    history: list[dict[str, Any]] = Field(default_factory=list)
    expect: Literal["hit", "miss"]
    reason: str | None = None  # text the rendered reason must contain


class RuleSpec(_Strict):
    id: str
    title: str
    when: str
    score: int = Field(default=0, ge=0, le=100)
    axis: Literal["FISCAL", "SECURITY"] = "FISCAL"
    action: str | None = None
    reason: str
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    tests: list[GoldenTest] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError("rule ids are UPPER_SNAKE_CASE, 2 to 64 characters")
        return value


class RulesetSpec(_Strict):
    ruleset: str = Field(min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=32)
    bands: dict[str, int]
    lists: dict[str, Any] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each rule and each of its fields starts in the file (1-based lines)."""

    rules: list[dict[str, Position]]
    top: dict[str, Position]

    def of(self, rule: int | None, key: str | None = None) -> Position | None:
        if rule is None:
            return self.top.get(key or "", None)
        if rule >= len(self.rules):
            return None
        fields = self.rules[rule]
        return fields.get(key or "", fields.get(""))


def _positions(node: yaml.Node, lines: list[str]) -> dict[str, Position]:
    found = {"": Position(node.start_mark.line + 1, node.start_mark.column + 1)}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = value.start_mark.line + 1
                column = value.start_mark.column + 1
                if isinstance(value, yaml.ScalarNode) and value.style in ("|", ">"):
                    # Block scalars ("when: >-") start on the next line, at its indentation.
                    text = lines[line] if line < len(lines) else ""
                    line, column = line + 1, len(text) - len(text.lstrip(" ")) + 1
                elif isinstance(value, yaml.ScalarNode) and value.style in ("'", '"'):
                    column += 1  # the expression starts after the opening quote
                found[str(key.value)] = Position(line, column)
    return found


def read_yaml(text: str) -> tuple[Any, SourceMap]:
    """Safe-load YAML and record positions of rules and their fields."""
    # libyaml: the same nodes and marks, several times faster on a large ruleset.
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, SourceMap([], {})
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    lines = text.splitlines()
    top = _positions(node, lines)
    rules: list[dict[str, Position]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "rules" and isinstance(value, yaml.SequenceNode):
                rules = [_positions(rule, lines) for rule in value.value]
    return data, SourceMap(rules, top)


def _rule_id(data: Any, index: int) -> str | None:
    try:
        rule_id = data["rules"][index]["id"]
    except (KeyError, IndexError, TypeError):
        return None
    return str(rule_id)


def parse_spec(text: str) -> tuple[RulesetSpec, SourceMap, list[RuleProblem]]:
    """Structure checks only (types, required fields, bands); expressions come later.

    A rule with schema problems is reported and left out, so the other rules
    are still checked and one run lists every problem of the file.
    """
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise RulesetError(
            [RuleProblem(None, None, None, f"file larger than {MAX_FILE_BYTES} bytes")]
        )
    try:
        data, where = read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise RulesetError([RuleProblem(None, line, column, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise RulesetError([RuleProblem(None, 1, 1, "a ruleset is a YAML mapping with 'rules'")])
    try:
        spec = RulesetSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = error["loc"]
            rule_index = (
                loc[1] if len(loc) > 1 and loc[0] == "rules" and isinstance(loc[1], int) else None
            )
            key = (
                str(loc[2])
                if rule_index is not None and len(loc) > 2
                else (str(loc[0]) if loc else None)
            )
            position = where.of(rule_index, key)
            field = ".".join(str(part) for part in (loc[2:] if rule_index is not None else loc))
            problems.append(
                RuleProblem(
                    _rule_id(data, rule_index) if rule_index is not None else None,
                    position.line if position else None,
                    position.column if position else None,
                    f"{field or 'ruleset'}: {error['msg']}",
                )
            )
        bad_rules = {
            loc[1]
            for loc in (e["loc"] for e in exc.errors())
            if len(loc) > 1 and loc[0] == "rules" and isinstance(loc[1], int)
        }
        top_level = any(
            not (len(e["loc"]) > 1 and e["loc"][0] == "rules" and isinstance(e["loc"][1], int))
            for e in exc.errors()
        )
        rules = data.get("rules")
        if top_level or not isinstance(rules, list) or len(bad_rules) >= len(rules):
            raise RulesetError(problems) from None
        kept = [i for i in range(len(rules)) if i not in bad_rules]
        try:
            spec = RulesetSpec.model_validate({**data, "rules": [rules[i] for i in kept]})
        except ValidationError:
            raise RulesetError(problems) from None
        kept_where = SourceMap([where.rules[i] for i in kept if i < len(where.rules)], where.top)
        return spec, kept_where, problems
    return spec, where, []


def structural_problems(
    spec: RulesetSpec, where: SourceMap, *, require_tests: bool = True
) -> list[RuleProblem]:
    """Bands, actions, ids and scores that the schema alone cannot check."""
    problems: list[RuleProblem] = []

    def top(key: str, message: str) -> None:
        position = where.of(None, key)
        problems.append(
            RuleProblem(
                None,
                position.line if position else None,
                position.column if position else None,
                message,
            )
        )

    unknown = set(spec.bands) - set(FISCAL_ACTIONS)
    if unknown:
        top("bands", f"unknown band {sorted(unknown)}; bands are {', '.join(FISCAL_ACTIONS)}")
    thresholds = [spec.bands[a] for a in FISCAL_ACTIONS if a in spec.bands]
    if thresholds != sorted(set(thresholds)) or any(not 1 <= t <= 100 for t in thresholds):
        top("bands", "band thresholds must rise from DOCUMENTS_REQUIRED to HOLD, within 1..100")
    seen: dict[str, int] = {}
    for index, rule in enumerate(spec.rules):

        def add(key: str, message: str, rule: RuleSpec = rule, index: int = index) -> None:
            position = where.of(index, key)
            problems.append(
                RuleProblem(
                    rule.id,
                    position.line if position else None,
                    position.column if position else None,
                    message,
                )
            )

        if rule.id in seen:
            add("id", f"duplicate rule id (first at rule #{seen[rule.id] + 1})")
        seen.setdefault(rule.id, index)
        if rule.axis == "SECURITY":
            if rule.action not in SECURITY_ACTIONS:
                add("action", f"a SECURITY rule needs action {' or '.join(SECURITY_ACTIONS)}")
            if rule.score:
                add("score", "a SECURITY rule sets an action, not a fiscal score; remove 'score'")
        else:
            if rule.action is not None and rule.action not in spec.bands:
                add(
                    "action",
                    f"action {rule.action!r} is not a band of this ruleset ({', '.join(spec.bands)})",
                )
            if not rule.score and rule.action is None:
                add("score", "a FISCAL rule needs a score or an action")
        if not require_tests:
            continue
        if not rule.tests and rule.enabled:
            add("tests", "every enabled rule needs golden tests (at least one hit and one miss)")
        elif rule.enabled and {t.expect for t in rule.tests} != {"hit", "miss"}:
            add("tests", "golden tests need at least one 'hit' and one 'miss' case")
    return problems


def read_ruleset_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")
