"""Detection quality of a ruleset on labelled generated traffic (`aedex evaluate`).

For each scenario class C: an item is *detected as C* when the hits tagged C
would flag it by themselves: their scores reach the first band, or one of
them carries a fiscal action floor or a security action. A weak secondary
signal (a 5-point route hint on a watchlist hit) does not count as detecting
its class. Precision is the share of items detected as C that are
labelled C; recall is the share of items labelled C (and accepted by
validation) that are detected as C. The false-positive rate is the share of
clean items (no scenario, no defect) that are flagged at all.

Labels name a variant family too (plain, misspelt, language, ...; clean
false-positive traps are `trap_*`). Scores are kept per group as well:
`plain`, `adversarial` (every other family, traps included: a trap that is
flagged counts against the precision of the class it was flagged as) and
`held_out`, the family no rule was written against: the honest figure.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from risk import Assessment, Engine, InMemoryState, Ruleset
from service.cli.assessing import assess_check, generated_traffic
from service.cli.failures import CliFailure


@dataclass
class ClassScore:
    labelled: int = 0
    detected: int = 0
    true_positives: int = 0

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.detected if self.detected else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None


GROUPS = ("plain", "adversarial", "held_out")


def variant_group(variant: str | None) -> str:
    if variant in (None, "plain"):
        return "plain"
    return "held_out" if variant == "held_out" else "adversarial"


@dataclass
class Evaluation:
    classes: dict[str, ClassScore] = field(default_factory=dict)
    #: The same scores per variant group (plain, adversarial, held_out).
    groups: dict[str, dict[str, ClassScore]] = field(default_factory=dict)
    #: Per variant family (scenario items): (labelled, detected as their class).
    variants: dict[str, ClassScore] = field(default_factory=dict)
    #: Clean trap families: (items, flagged).
    traps: dict[str, list[int]] = field(default_factory=dict)
    clean_items: int = 0
    clean_flagged: int = 0
    items: int = 0
    rejected: int = 0
    seconds: float = 0.0
    #: For misses and false alarms: (label, detected classes) -> count.
    confusion: Counter[tuple[str, tuple[str, ...]]] = field(default_factory=Counter)

    @property
    def false_positive_rate(self) -> float:
        return self.clean_flagged / self.clean_items if self.clean_items else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "rejected": self.rejected,
            "clean_items": self.clean_items,
            "clean_flagged": self.clean_flagged,
            "false_positive_rate": round(self.false_positive_rate, 4),
            "seconds": round(self.seconds, 2),
            "classes": _scores(self.classes),
            "groups": {group: _scores(scores) for group, scores in sorted(self.groups.items())},
            "variants": _scores(self.variants),
            "traps": {
                name: {"items": items, "flagged": flagged}
                for name, (items, flagged) in sorted(self.traps.items())
            },
        }


def _scores(scores: dict[str, ClassScore]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "labelled": score.labelled,
            "detected": score.detected,
            "true_positives": score.true_positives,
            "precision": None if score.precision is None else round(score.precision, 4),
            "recall": None if score.recall is None else round(score.recall, 4),
        }
        for name, score in sorted(scores.items())
    }


def _detected_classes(assessment: Assessment, first_band: int) -> tuple[str, ...]:
    scores: Counter[str] = Counter()
    decisive: set[str] = set()
    for hit in assessment.hits:
        for tag in hit.tags:
            scores[tag] += hit.score
            if hit.action is not None:
                decisive.add(tag)
    return tuple(sorted(tag for tag in scores if tag in decisive or scores[tag] >= first_band))


def read_labels(root: Path) -> dict[tuple[str, str], dict[str, Any]]:
    labels: dict[tuple[str, str], dict[str, Any]] = {}
    path = root / "labels.jsonl"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            label = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CliFailure(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(label, dict):
            raise CliFailure(f"{path} line {number}: not a label object")
        if label.get("item_id"):
            labels[(label["file"], label["item_id"])] = label
    return labels


def evaluate_directory(root: Path, ruleset: Ruleset) -> Evaluation:
    labels = read_labels(root)
    engine = Engine(ruleset)
    state = InMemoryState(learn=False)  # as the assess stage scores (service.stages.windows)
    result = Evaluation()
    classes = {tag for rule in ruleset.active for tag in rule.tags}
    first_band = min(threshold for threshold, _ in ruleset.bands)
    started = time.perf_counter()
    for file, check in generated_traffic(root):
        if check is None:
            continue
        for assessed in assess_check(file, check, engine, state):
            label = labels.get((file, assessed.item_id or ""), {})
            scenario: str | None = label.get("scenario")
            variant: str | None = label.get("variant")
            group = result.groups.setdefault(variant_group(variant), {})
            result.items += 1
            if assessed.assessment is None:
                result.rejected += 1
                continue
            assessment = assessed.assessment
            flagged = assessment.action != "RELEASE" or assessment.security_action is not None
            detected = _detected_classes(assessment, first_band)
            if scenario is not None:
                classes.add(scenario)
                result.classes.setdefault(scenario, ClassScore()).labelled += 1
                group.setdefault(scenario, ClassScore()).labelled += 1
                family = result.variants.setdefault(
                    f"{scenario}/{variant or 'plain'}", ClassScore()
                )
                family.labelled += 1
                family.detected += scenario in detected
                family.true_positives += scenario in detected
            for tag in detected:
                for scores in (result.classes, group):
                    score = scores.setdefault(tag, ClassScore())
                    score.detected += 1
                    if tag == scenario:
                        score.true_positives += 1
            if scenario is None and label.get("defect") is None:
                result.clean_items += 1
                result.clean_flagged += flagged
                if variant is not None:
                    trap = result.traps.setdefault(variant, [0, 0])
                    trap[0] += 1
                    trap[1] += flagged
            if (scenario is not None and scenario not in detected) or (
                detected and set(detected) != {scenario}
            ):
                result.confusion[(scenario or "clean", detected)] += 1
    for name in classes:
        result.classes.setdefault(name, ClassScore())
    result.seconds = time.perf_counter() - started
    return result
