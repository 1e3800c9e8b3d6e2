"""Assess canonical items with a compiled ruleset: score, actions, and every hit explained.

Fiscal score is the sum of the fiscal hits' scores, capped at 100; the band
it reaches gives the fiscal action, and a hit rule's own `action` is a floor.
Security hits set SCREEN or DO_NOT_LOAD, independent of the score. Reasons
are rendered only for hits, so the clean majority of items costs only the
conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from messages.canonical import Item
from risk.compiler import Ruleset
from risk.ruleset import FISCAL_ACTIONS, RELEASE, SECURITY_ACTIONS
from risk.state import RiskState

_FISCAL_ORDER = {action: n for n, action in enumerate((RELEASE, *FISCAL_ACTIONS))}
_SECURITY_ORDER = {action: n for n, action in enumerate(SECURITY_ACTIONS, start=1)}


# Not frozen: frozen dataclasses set each field through object.__setattr__, which
# costs more than the rules themselves on a clean item. Treat both as read-only.
@dataclass(slots=True)
class Hit:
    rule: str
    title: str
    axis: str
    score: int
    action: str | None
    reason: str
    tags: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "score": self.score, "axis": self.axis, "reason": self.reason}


@dataclass(slots=True)
class Assessment:
    item_id: str
    ruleset: str
    ruleset_version: str
    score: int
    action: str
    security_action: str | None
    hits: tuple[Hit, ...]
    #: Rules that could not be evaluated on this item (missing data), by id.
    skipped: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "score": self.score,
            "action": self.action,
            "security_action": self.security_action,
            "hits": [hit.as_dict() for hit in self.hits],
            "ruleset": f"{self.ruleset} {self.ruleset_version}",
            "skipped": list(self.skipped),
        }


class Engine:
    """One compiled ruleset, ready to assess items against a `RiskState`."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._evaluate = ruleset.evaluate
        self._active = ruleset.active
        self._bands = sorted(ruleset.bands, reverse=True)
        self._observe = ruleset.stateful
        self._name, self._version = ruleset.name, ruleset.version

    def assess(self, item: Item, state: RiskState) -> Assessment:
        """Record the item in the state, then assess it (windows include the item itself)."""
        if self._observe:
            state.observe(item)
        return self._assess(item, state)

    def assess_many(self, items: Iterable[Item], state: RiskState) -> list[Assessment]:
        """Observe a whole batch first, then assess: parts of a split order see each other."""
        batch = list(items)
        if self._observe:
            for item in batch:
                state.observe(item)
        return [self._assess(item, state) for item in batch]

    def _assess(self, item: Item, state: RiskState) -> Assessment:
        hit_indexes, skipped_indexes = self._evaluate(item, state)
        if not hit_indexes and not skipped_indexes:
            # Most items: nothing to explain; bands start at 1, so released, and they
            # teach the references.
            if self._observe:
                state.learn(item)
            return Assessment(item.item_id, self._name, self._version, 0, RELEASE, None, (), ())
        active = self._active
        hits: list[Hit] = []
        score = 0
        floor = RELEASE
        security: str | None = None
        for index in hit_indexes:
            rule = active[index]
            hits.append(
                Hit(rule.id, rule.title, rule.axis, rule.score, rule.action,
                    rule.reason.render(item, state), rule.tags)
            )  # fmt: skip
            if rule.axis == "SECURITY":
                if (
                    security is None
                    or _SECURITY_ORDER[rule.action or ""] > _SECURITY_ORDER[security]
                ):
                    security = rule.action
                continue
            score += rule.score
            if rule.action is not None and _FISCAL_ORDER[rule.action] > _FISCAL_ORDER[floor]:
                floor = rule.action
        score = min(score, 100)
        action = RELEASE
        for threshold, band in self._bands:
            if score >= threshold:
                action = band
                break
        if _FISCAL_ORDER[floor] > _FISCAL_ORDER[action]:
            action = floor
        if self._observe and action == RELEASE and security is None:
            state.learn(item)
        return Assessment(
            item_id=item.item_id,
            ruleset=self.ruleset.name,
            ruleset_version=self.ruleset.version,
            score=score,
            action=action,
            security_action=security,
            hits=tuple(hits),
            skipped=tuple([active[i].id for i in skipped_indexes]) if skipped_indexes else (),
        )
