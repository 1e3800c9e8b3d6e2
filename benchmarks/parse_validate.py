"""Parse + validate throughput for 50-item ITMATT messages, per core.

Measures `messages.check.check_message` (safe parse, XSD, decode, rulebook,
canonical items: everything the validate stage does per message) against a
plain `lxml.etree.fromstring` of the same bytes in the same run. The ratio is
the figure that survives a noisy machine; items/s is printed beside it. One
process, so "per core" is what it says. Stages are timed cumulatively to
show where the time goes.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from adapters.generator import generate, itmatt_only
from messages.canonical import to_canonical
from messages.check import check_message
from messages.codec import itmatt_from_tree
from messages.models import ItmattMessage
from messages.rates import RateTable
from messages.rulebook import ItemContext, validate_item
from messages.schema import validate_tree
from messages.xml import parse_untrusted

ITEMS_PER_MESSAGE = 50
MESSAGES = 40
TARGET_ITEMS_PER_S = 20_000
RESULTS = Path(__file__).parent / "results" / "parse_validate.json"


def sample_messages() -> list[bytes]:
    options = itmatt_only(ITEMS_PER_MESSAGE * MESSAGES, 7, items_per_message=ITEMS_PER_MESSAGE)
    messages = [f.data for f in generate(options) if f.path.startswith("itmatt")]
    assert messages, "generator produced no ITMATT"
    return messages


def one_pass(work: Callable[[bytes], object], messages: list[bytes], seconds: float) -> float:
    """Items per second over one timed pass of at least `seconds`."""
    items = 0
    started = time.perf_counter()
    while True:
        for data in messages:
            work(data)
            items += ITEMS_PER_MESSAGE
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return items / elapsed


def best_rates(
    rows: list[tuple[str, Callable[[bytes], object]]],
    messages: list[bytes],
    rounds: int = 5,
    seconds: float = 1.0,
) -> dict[str, float]:
    """Best pass per stage, with stages interleaved round by round.

    Interleaving puts every stage through the same machine conditions, so the
    ratios hold even when a shared machine speeds up or slows down mid-run.
    """
    for _, work in rows:
        work(messages[0])  # warm caches (schemas, code lists, rates)
    best = {name: 0.0 for name, _ in rows}
    for _ in range(rounds):
        for name, work in rows:
            best[name] = max(best[name], one_pass(work, messages, seconds))
    return best


def _through_xsd(data: bytes) -> object:
    root = parse_untrusted(data)
    return validate_tree(root, "itmatt-1.2.xsd")


def _through_decode(data: bytes) -> ItmattMessage:
    root = parse_untrusted(data)
    validate_tree(root, "itmatt-1.2.xsd")
    return itmatt_from_tree(root)


def _through_rulebook(data: bytes) -> object:
    message = _through_decode(data)
    received = message.header.prepared_at
    return [
        validate_item(item, ItemContext(index=i, received_at=received))
        for i, item in enumerate(message.items, start=1)
    ]


def _floor_walk(data: bytes) -> object:
    """The least any Python decoder must do after XSD: read each element's tag and text."""
    root = parse_untrusted(data)
    validate_tree(root, "itmatt-1.2.xsd")
    return [(el.tag, el.text) for el in root.iter()]


_RATES = RateTable.default()


def _through_canonical(data: bytes) -> object:
    root = parse_untrusted(data)
    validate_tree(root, "itmatt-1.2.xsd")
    message = itmatt_from_tree(root)
    received = message.header.prepared_at
    assert received is not None
    out = []
    for i, item in enumerate(message.items, start=1):
        validate_item(item, ItemContext(index=i, received_at=received, rates=_RATES))
        out.append(to_canonical(item, message, received_at=received, rates=_RATES))
    return out


def main() -> None:
    messages = sample_messages()
    size = sum(map(len, messages)) / len(messages)
    clean = check_message(messages[0])
    assert not clean.all_findings(), "benchmark traffic must be clean"
    rows: list[tuple[str, Callable[[bytes], object]]] = [
        ("lxml.etree.fromstring (baseline)", etree.fromstring),
        ("+ safe entry (messages.xml)", parse_untrusted),
        ("+ XSD validation", _through_xsd),
        ("+ decode to pydantic models", _through_decode),
        ("+ rulebook (all §4 checks)", _through_rulebook),
        ("+ canonical items (EUR, keys)", _through_canonical),
        ("check_message (the figure)", check_message),
        ("reference: XSD + read tag/text only", _floor_walk),
    ]
    results = best_rates(rows, messages)
    baseline = results[rows[0][0]]
    figure = results["check_message (the figure)"]
    floor = results["reference: XSD + read tag/text only"]
    print(
        f"\nparse + validate, {ITEMS_PER_MESSAGE}-item ITMATT 1.2 ({size / 1024:.0f} KiB), 1 core"
    )
    print(f"{'stage (cumulative)':38} {'items/s':>10} {'vs lxml':>8}")
    for name, rate in results.items():
        print(f"{name:38} {rate:>10,.0f} {rate / baseline:>8.3f}")
    print(
        f"\nceiling of this stack: {floor:,.0f} items/s per core for safe parse + XSD + reading "
        "every element's tag and text in Python, with no models and no rules"
    )
    verdict = "meets" if figure >= TARGET_ITEMS_PER_S else "MISSES"
    print(
        f"\nfigure: {figure:,.0f} items/s per core = {figure / baseline:.3f} x plain lxml parse; "
        f"{verdict} the {TARGET_ITEMS_PER_S:,} items/s target (DESIGN.md §11)"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "parse_validate",
                "python": platform.python_version(),
                "items_per_message": ITEMS_PER_MESSAGE,
                "items_per_second": results,
                "ratio_vs_lxml": figure / baseline,
                "ceiling_items_per_second": floor,
                "target_items_per_second": TARGET_ITEMS_PER_S,
            },
            indent=2,
        )
    )
