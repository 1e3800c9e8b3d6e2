"""Clean generated items carry no risk signal: the default ruleset releases every one.

A label "clean" is ground truth for the risk engine as much as for validation:
a clean item that looks like a planted scenario (a repeat buyer like a split
order, a gift of several units, a total just under a relief threshold, cheap
goods of a counterfeit-prone heading) would be a false positive the generator
made, and the demo's clean items would not come back RELEASE. Clean traps
(`trap_*` variants, variants.py) are clean too and must keep out of the
scenarios' signals, but they are made to trip naive keyword rules: whether the
ruleset releases them is the risk engine's score, not the generator's.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.generator import GeneratedFile, GeneratorOptions, generate, message_xml
from adapters.generator.geography import EU_DESTINATIONS
from messages.canonical import Item
from messages.check import check_message
from risk import Engine, InMemoryState, default_ruleset
from service.cli.assessing import assess_check

RUN = GeneratorOptions(
    items=4000, seed=77, base_time=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    scenarios=True, scenario_rate=0.1, defects=True, defect_rate=0.05,
)  # fmt: skip


def _clean_files() -> list[GeneratedFile]:
    """Files without a message-level case (those are refused whole on purpose)."""
    return [
        f
        for f in generate(RUN)
        if f.kind != "hostile" and all(label.item_index is not None for label in f.labels)
    ]


@pytest.fixture(scope="module")
def assessed() -> list[tuple[Item, str, str | None, tuple[str, ...], bool]]:
    """(item, action, security action, rules hit, is a trap) of every clean item, assessed
    in file order."""
    engine, state = Engine(default_ruleset()), InMemoryState()
    out = []
    for file in _clean_files():
        labels = {label.item_index: label for label in file.labels}
        for result in assess_check(file.path, check_message(message_xml(file)), engine, state):
            label = labels[result.check.index]
            if label.defect is not None or label.scenario is not None:
                continue
            assert result.check.item is not None and result.assessment is not None, label
            assessment = result.assessment
            hits = tuple(hit.rule for hit in assessment.hits)
            trap = label.variant is not None
            out.append(
                (result.check.item, assessment.action, assessment.security_action, hits, trap)
            )
    return out


def test_the_default_ruleset_releases_every_clean_item(
    assessed: list[tuple[Item, str, str | None, tuple[str, ...], bool]],
) -> None:
    assert len(assessed) > 3000 and any(trap for *_, trap in assessed)
    held = [
        (item.item_id, action, security, hits)
        for item, action, security, hits, trap in assessed
        if not trap
    ]
    assert [h for h in held if h[1] != "RELEASE" or h[2] is not None] == []


def test_clean_items_keep_out_of_the_scenarios_signals(
    assessed: list[tuple[Item, str, str | None, tuple[str, ...], bool]],
) -> None:
    items = [item for item, *_ in assessed]
    buyers = Counter(item.addressee_key for item in items)
    assert max(buyers.values()) == 2  # repeat buyers, but never three parcels in a run
    gifts = [item for item in items if item.category == "GIFT"]
    assert gifts and all(item.total_value_eur <= 45 for item in gifts)
    assert all(line.quantity <= 2 for item in gifts for line in item.lines)
    to_eu = [item for item in items if item.addressee.country in EU_DESTINATIONS]
    assert to_eu and not any(Decimal(135) <= item.total_value_eur < 150 for item in to_eu)
