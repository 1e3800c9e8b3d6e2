"""The engine's arithmetic (scores, bands, floors, security axis) and the state it reads."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from messages.canonical import Item
from risk import Engine, InMemoryState, build_item, compile_ruleset, default_ruleset
from tests.unit.risk.rulesets import Case, rule_yaml, ruleset_yaml


def _on(code: str, rule_id: str, **options: object) -> str:
    """A rule that fires when the item carries the warning `code`."""
    return rule_yaml(
        f'"{code}" in item.warnings',
        rule_id=rule_id,
        reason=f"{rule_id} on {{len(item.warnings)}} warnings",
        hit=Case({"warnings": [code]}),
        **options,  # type: ignore[arg-type]
    )


# warning code -> (rule id, options); bands: DOCUMENTS_REQUIRED 30, INSPECT 60, HOLD 80.
TRIGGERS: dict[str, tuple[str, dict[str, object]]] = {
    "A": ("SCORE_40", {"score": 40}),
    "B": ("SCORE_30", {"score": 30}),
    "C": ("SCORE_50", {"score": 50}),
    "D": ("SCORE_20", {"score": 20}),
    "FLOOR_HOLD": ("FLOOR_HOLD", {"score": 5, "action": "HOLD"}),
    "FLOOR_DOCS": ("FLOOR_DOCS", {"score": None, "action": "DOCUMENTS_REQUIRED"}),
    "SCREEN_1": ("SCREEN_FIRST", {"score": None, "axis": "SECURITY", "action": "SCREEN"}),
    "NO_LOAD": ("DO_NOT_LOAD", {"score": None, "axis": "SECURITY", "action": "DO_NOT_LOAD"}),
    "SCREEN_2": ("SCREEN_LAST", {"score": None, "axis": "SECURITY", "action": "SCREEN"}),
}
SCORING = compile_ruleset(
    ruleset_yaml(*(_on(code, rule_id, **options) for code, (rule_id, options) in TRIGGERS.items()))
)

# (warnings on the item, expected score, action, security action)
SCORES = [
    ([], 0, "RELEASE", None),
    (["D"], 20, "RELEASE", None),
    (["B"], 30, "DOCUMENTS_REQUIRED", None),
    (["B", "D"], 50, "DOCUMENTS_REQUIRED", None),
    (["A", "D"], 60, "INSPECT", None),
    (["A", "B"], 70, "INSPECT", None),
    (["B", "C"], 80, "HOLD", None),
    (["A", "C"], 90, "HOLD", None),
    (["A", "B", "C", "D"], 100, "HOLD", None),
    (["FLOOR_HOLD"], 5, "HOLD", None),
    (["FLOOR_DOCS"], 0, "DOCUMENTS_REQUIRED", None),
    (["FLOOR_DOCS", "A", "B"], 70, "INSPECT", None),
    (["SCREEN_1"], 0, "RELEASE", "SCREEN"),
    (["SCREEN_1", "A"], 40, "DOCUMENTS_REQUIRED", "SCREEN"),
    (["SCREEN_1", "NO_LOAD"], 0, "RELEASE", "DO_NOT_LOAD"),
    (["NO_LOAD", "SCREEN_2"], 0, "RELEASE", "DO_NOT_LOAD"),
    (["SCREEN_1", "NO_LOAD", "SCREEN_2", "FLOOR_HOLD"], 5, "HOLD", "DO_NOT_LOAD"),
]
SCORE_IDS = [
    "nothing", "20 releases", "30 is the documents band", "50 documents", "60 is the inspect band",
    "70 inspect", "80 is the hold band", "90 hold", "120 capped at 100", "hold floor over score 5",
    "documents floor over score 0", "band above the floor wins", "screen adds no score",
    "screen beside a fiscal score", "do-not-load beats an earlier screen",
    "do-not-load beats a later screen", "both axes at once",
]  # fmt: skip


@pytest.mark.parametrize(("warnings", "score", "action", "security"), SCORES, ids=SCORE_IDS)
def test_scoring(warnings: list[str], score: int, action: str, security: str | None) -> None:
    assessment = Engine(SCORING).assess(
        build_item({"warnings": warnings}), InMemoryState(learn=False)
    )
    assert (assessment.score, assessment.action, assessment.security_action) == (
        score,
        action,
        security,
    )
    assert {hit.rule for hit in assessment.hits} == {TRIGGERS[code][0] for code in warnings}


def test_hits_are_explained_in_rule_order() -> None:
    assessment = Engine(SCORING).assess(
        build_item({"warnings": ["C", "A"]}), InMemoryState(learn=False)
    )
    assert [(h.rule, h.score, h.axis, h.reason) for h in assessment.hits] == [
        ("SCORE_40", 40, "FISCAL", "SCORE_40 on 2 warnings"),
        ("SCORE_50", 50, "FISCAL", "SCORE_50 on 2 warnings"),
    ]


def test_as_dict_shape() -> None:
    assessment = Engine(SCORING).assess(
        build_item({"warnings": ["A", "SCREEN_1"]}), InMemoryState(learn=False)
    )
    data = assessment.as_dict()
    assert {"item_id", "score", "action", "security_action", "hits"} <= set(data)
    assert data["item_id"] == "CP123456785CN"
    assert (data["score"], data["action"], data["security_action"]) == (
        40,
        "DOCUMENTS_REQUIRED",
        "SCREEN",
    )
    assert data["hits"] == [
        {"rule": "SCORE_40", "score": 40, "axis": "FISCAL", "reason": "SCORE_40 on 2 warnings"},
        {"rule": "SCREEN_FIRST", "score": 0, "axis": "SECURITY", "reason": "SCREEN_FIRST on 2 warnings"},
    ]  # fmt: skip
    assert json.loads(json.dumps(data)) == data


# ------------------------------------------------------------------ windows and batches

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

SPLIT = compile_ruleset(
    ruleset_yaml(
        rule_yaml(
            "window_count(item.addressee_key, 24) >= 3",
            rule_id="SPLIT_PARTS",
            reason="{window_count(item.addressee_key, 24)} parts",
            hit=Case(history=({}, {})),
        )
    )
)


def _parts(values: tuple[int, ...] = (60, 60, 60)) -> list[Item]:
    return [
        build_item(
            {"total_value_eur": value, "posting_at": (T0 + timedelta(hours=n)).isoformat()},
            item_id=f"PART{n}",
        )
        for n, value in enumerate(values)
    ]


def test_batch_is_observed_before_it_is_assessed() -> None:
    assessments = Engine(SPLIT).assess_many(_parts(), InMemoryState(learn=False))
    assert [[h.reason for h in a.hits] for a in assessments] == [["3 parts"]] * 3


def test_one_by_one_only_the_last_part_sees_the_others() -> None:
    engine, state = Engine(SPLIT), InMemoryState(learn=False)
    hits = [bool(engine.assess(part, state).hits) for part in _parts()]
    assert hits == [False, False, True]


def test_default_split_rule_catches_every_part_of_a_batch() -> None:
    assessments = Engine(default_ruleset()).assess_many(_parts(), InMemoryState(learn=False))
    for assessment in assessments:
        assert "SPLIT_CONSIGNMENT" in [h.rule for h in assessment.hits], assessment.item_id


def test_reassessing_the_same_item_does_not_count_it_twice() -> None:
    engine, state = Engine(SPLIT), InMemoryState(learn=False)
    item = _parts()[0]
    for _ in range(3):
        assessment = engine.assess(item, state)
    assert assessment.hits == ()
    assert state.window(item.addressee_key, T0, 24) == (1, Decimal(60))


def test_reobserving_an_item_keeps_its_latest_value() -> None:
    state = InMemoryState(learn=False)
    first = build_item({"total_value_eur": 60}, item_id="SAME")
    state.observe(first)
    state.observe(build_item({"total_value_eur": 25}, item_id="SAME"))
    assert state.window(first.addressee_key, T0, 24) == (1, Decimal(25))


def _entries_per_item() -> int:
    """Window entries one item makes (one per key the state tracks it under)."""
    state = InMemoryState(learn=False)
    state.observe(_keyed("ONE", T0))
    return state.size()


def _keyed(item_id: str, at: datetime, key: str = "A") -> Item:
    base = build_item({"total_value_eur": 10})
    return base.model_copy(
        update={"item_id": item_id, "posting_at": at, "addressee_key": key, "sender_key": "S" + key}
    )


@pytest.mark.parametrize(
    ("offset_hours", "counted"),
    [(-25, 0), (-23, 1), (0, 1), (23, 1), (25, 0)],
    ids=["day before", "within a day before", "same time", "within a day after", "day after"],
)
def test_window_is_symmetric_around_the_event_time(offset_hours: int, counted: int) -> None:
    state = InMemoryState(learn=False)
    state.observe(_keyed("ONE", T0))
    assert state.window("A", T0 + timedelta(hours=offset_hours), 24)[0] == counted


def test_window_counts_only_its_key() -> None:
    state = InMemoryState(learn=False)
    state.observe(_keyed("ONE", T0, key="A"))
    state.observe(_keyed("TWO", T0, key="B"))
    assert state.window("A", T0, 24) == (1, Decimal(10))
    assert state.window("nobody", T0, 24) == (0, Decimal(0))


@pytest.mark.parametrize(
    ("later_days", "remembered"), [(6, True), (7.1, False)], ids=["6 days", "over 7 days"]
)
def test_old_entries_are_forgotten_after_seven_days_of_newer_events(
    later_days: float, remembered: bool
) -> None:
    state = InMemoryState(learn=False)
    state.observe(_keyed("OLD", T0, key="A"))
    state.observe(_keyed("NEW", T0 + timedelta(days=later_days), key="B"))
    assert (state.window("A", T0, 1)[0] == 1) is remembered
    assert state.size() == _entries_per_item() * (2 if remembered else 1)


def test_a_corrected_item_is_forgotten_too() -> None:
    """An item re-sent with a later event time still leaves the window once it is old."""
    state = InMemoryState(learn=False)
    state.observe(_keyed("CORRECTED", T0, key="A"))
    state.observe(_keyed("CORRECTED", T0 + timedelta(hours=1), key="A"))
    for hour in range(1, 30 * 24):
        state.observe(_keyed(f"LATER{hour}", T0 + timedelta(hours=hour), key=f"B{hour}"))
    assert state.window("A", T0, 2) == (0, Decimal(0))


def test_size_stays_bounded_over_a_month_of_traffic() -> None:
    """20,000 items over 30 days, a little out of order: only about 7 days are kept."""
    rng = random.Random(7)
    per_day = 20_000 / 30
    state = InMemoryState(learn=False)
    base = build_item({"total_value_eur": 10})
    largest = 0
    for n in range(20_000):
        at = T0 + timedelta(days=n / per_day, minutes=rng.uniform(-120, 120))
        state.observe(
            base.model_copy(
                update={
                    "item_id": f"I{n}",
                    "posting_at": at,
                    "addressee_key": f"A{n % 3000}",
                    "sender_key": f"S{n % 50}",
                }
            )
        )
        if n % 100 == 0:
            largest = max(largest, state.size())
    per_item = _entries_per_item()
    assert largest <= per_item * per_day * 8  # seven days, plus one of slack
    assert state.size() >= per_item * per_day * 6


def test_only_released_items_teach_the_reference_values() -> None:
    """Flagged goods must not drag the reference down: undervaluation would hide itself."""
    ruleset = compile_ruleset(
        'ruleset: t\nversion: "1"\nbands: {DOCUMENTS_REQUIRED: 30}\nrules:\n'
        "  - id: GIFTS\n    title: t\n    score: 30\n    reason: r\n"
        '    when: item.category == "GIFT" and window_count(item.addressee_key, 1) >= 0\n',
        require_tests=False,
    )
    engine = Engine(ruleset)
    state = InMemoryState(references={})
    flagged = [
        build_item({"category": "GIFT", "lines": [{"value_eur": "0.10"}]}, item_id=f"G{n}")
        for n in range(40)
    ]
    engine.assess_many(flagged, state)
    assert state.reference("610910", "CN") is None
    released = [build_item({"lines": [{"value_eur": "20"}]}, item_id=f"S{n}") for n in range(40)]
    engine.assess_many(released, state)
    learned = state.reference("610910", "CN")
    assert learned is not None and learned.value_per_unit == 10.0
