"""Risk evaluation throughput, per core, side by side with zen-engine and CEL.

Three measurements on the same canonical items, in one run, interleaved
round by round so the ratios survive a noisy machine:

1. the default ruleset (all rules, windows and references in an
   `InMemoryState`), items/s per core, in batches of 50 as the pipeline does,
   beside the ruleset it replaced (2026.11.1: English word lists only, no
   party links; kept in benchmarks/data) on the same engine: the cost of the
   multilingual lists, misspelling reading, contexts and linked windows. The
   sample is generated with scenarios, so adversarial spellings are in it;
   one more pass runs a freshly compiled ruleset, whose word caches are cold,
   as they are for descriptions never seen before;
2. the 10 comparison rules of `benchmarks.risk_baselines` compiled by our
   engine, against the same 10 rules as one zen-engine decision table and as
   10 CEL programs. The baselines read prepared dicts (the conversion from
   `Item` is not timed, which favours them); ours reads the `Item`.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from adapters.generator import generate, itmatt_only
from benchmarks.risk_baselines import (
    COMPARISON_RULES,
    CelBaseline,
    ZenBaseline,
    item_document,
)
from messages.canonical import Item
from messages.check import check_message
from risk import Engine, InMemoryState, compile_ruleset, default_ruleset

ITEMS = 4_000
BATCH = 50
TARGET_ITEMS_PER_S = 50_000
TARGET_VS_ZEN = 10.0
TARGET_VS_CEL = 5.0
RESULTS = Path(__file__).parent / "results" / "risk_engine.json"
PREVIOUS_RULESET = Path(__file__).parent / "data" / "default-2026.11.1.yaml"
#: The default ruleset may cost at most this many times the one it replaced (issue 14).
MAX_SLOWDOWN = 2.0


def sample_items() -> list[Item]:
    options = itmatt_only(ITEMS, 11, scenarios=True)
    items: list[Item] = []
    for generated in generate(options):
        check = check_message(generated.data)
        items += [c.item for c in check.items if c.item is not None]
    return items


def comparison_ruleset_yaml() -> str:
    return yaml.safe_dump(
        {
            "ruleset": "comparison",
            "version": "1",
            "bands": {"DOCUMENTS_REQUIRED": 30, "INSPECT": 60, "HOLD": 80},
            "rules": [
                {"id": rule.id, "title": rule.id, "when": rule.when, "score": 10, "reason": rule.id}
                for rule in COMPARISON_RULES
            ],
        },
        sort_keys=False,
    )


def _rate(work: Callable[[], int], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while True:
        done += work()
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def _cold_rate(items: list[Item]) -> float:
    """Items/s of a freshly compiled default ruleset on its first pass: every word-list
    answer is computed, none remembered (the worst case for the matching)."""
    engine = Engine(default_ruleset())
    state = InMemoryState()
    started = time.perf_counter()
    for i in range(0, len(items), BATCH):
        engine.assess_many(items[i : i + BATCH], state)
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    items = sample_items()
    documents = [item_document(item) for item in items]
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    default = Engine(default_ruleset())
    previous = Engine(compile_ruleset(PREVIOUS_RULESET.read_text("utf-8")))
    comparison_ruleset = compile_ruleset(comparison_ruleset_yaml(), require_tests=False)
    comparison = Engine(comparison_ruleset)
    zen, cel = ZenBaseline(), CelBaseline()
    stateless = InMemoryState(learn=False)

    # The three comparison engines must agree before their speed means anything.
    for item, doc in zip(items, documents, strict=True):
        fired = {h.rule for h in comparison.assess(item, stateless).hits}
        if not fired == zen.evaluate(doc) == cel.evaluate(doc):
            raise SystemExit(f"engines disagree on {item.item_id}: {fired}")

    # One long-lived state, as in a running stage: references loaded and learned once.
    state = InMemoryState()

    def run_default() -> int:
        for batch in batches:
            default.assess_many(batch, state)
        return len(items)

    previous_state = InMemoryState()

    def run_previous() -> int:
        for batch in batches:
            previous.assess_many(batch, previous_state)
        return len(items)

    def run_ours() -> int:
        for batch in batches:
            comparison.assess_many(batch, stateless)
        return len(items)

    def run_zen() -> int:
        for doc in documents:
            zen.evaluate(doc)
        return len(documents)

    def run_cel() -> int:
        for doc in documents:
            cel.evaluate(doc)
        return len(documents)

    rows: dict[str, Callable[[], int]] = {
        f"default ruleset ({len(default.ruleset.active)} rules)": run_default,
        f"previous default 2026.11.1 ({len(previous.ruleset.active)} rules)": run_previous,
        "10 rules, aedex engine": run_ours,
        "10 rules, zen-engine decision table": run_zen,
        "10 rules, CEL (cel-expr-python)": run_cel,
    }
    best = dict.fromkeys(rows, 0.0)
    for work in rows.values():
        work()  # warm caches
    for _ in range(5):
        for name, work in rows.items():
            best[name] = max(best[name], _rate(work, 1.0))

    names = list(rows)
    ours, zen_rate, cel_rate = best[names[2]], best[names[3]], best[names[4]]
    cold = _cold_rate(items)
    print(f"\nrisk evaluation, {len(items)} generated items, 1 core")  # noqa: T201
    print(f"{'engine':44s} {'items/s':>10s} {'µs/rule':>8s}")  # noqa: T201
    for name in names:
        rules = {
            names[0]: len(default.ruleset.active),
            names[1]: len(previous.ruleset.active),
        }.get(name, len(COMPARISON_RULES))
        per_rule = 1e6 / best[name] / rules
        print(f"{name:44s} {best[name]:>10,.0f} {per_rule:>8.3f}")  # noqa: T201
    vs_zen, vs_cel = ours / zen_rate, ours / cel_rate
    verdict = "meets" if best[names[0]] >= TARGET_ITEMS_PER_S else "MISSES"
    slowdown = best[names[1]] / best[names[0]]
    print(  # noqa: T201
        f"default ruleset vs the one it replaced: {slowdown:.2f}x the time per item "
        f"({'within' if slowdown <= MAX_SLOWDOWN else 'OVER'} the {MAX_SLOWDOWN:.0f}x bound); "
        f"cold word caches (every description new): {cold:,.0f} items/s"
    )
    print(  # noqa: T201
        f"\nfigure: default ruleset {best[names[0]]:,.0f} items/s per core ({verdict} the "
        f"{TARGET_ITEMS_PER_S:,} target); same 10 rules: {vs_zen:.1f}x zen-engine "
        f"(target {TARGET_VS_ZEN:.0f}x), {vs_cel:.1f}x CEL (target {TARGET_VS_CEL:.0f}x)"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "items": len(items),
                "items_per_s": {name: round(rate) for name, rate in best.items()},
                "slowdown_vs_previous": round(slowdown, 2),
                "cold_caches_items_per_s": round(cold),
                "vs_zen": round(vs_zen, 2),
                "vs_cel": round(vs_cel, 2),
            },
            indent=2,
        )
    )
