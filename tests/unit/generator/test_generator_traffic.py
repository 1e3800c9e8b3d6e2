"""Generated traffic end to end: reproducible, clean when asked, and labelled exactly.

Every file goes through the intake adapters (`message_xml`) and the real
validate-stage check, so "clean" means what `aedex validate` says, not what the
generator believes.
"""

import hashlib
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.generator import GeneratedFile, GeneratorOptions, generate, message_xml
from adapters.generator.defects import ITEM_DEFECTS
from adapters.generator.hostile import HOSTILE_CASES
from adapters.generator.output import MESSAGE_KINDS
from adapters.generator.traffic import FRESH_FOR, MAX_SPAN, allocate
from messages import s10
from messages.check import MessageCheck, check_message
from messages.findings import Code, Finding

BASE = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
CLEAN = GeneratorOptions(items=300, seed=11, items_per_message=12, base_time=BASE)
DEFECTIVE = GeneratorOptions(
    items=600, seed=2026, defects=True, defect_rate=0.3, items_per_message=15, base_time=BASE
)


def _codes(findings: list[Finding]) -> list[str]:
    return sorted({f.code.value for f in findings})


@pytest.fixture(scope="module")
def clean_files() -> list[GeneratedFile]:
    return list(generate(CLEAN))


@pytest.fixture(scope="module")
def defective() -> list[tuple[GeneratedFile, MessageCheck]]:
    return [(f, check_message(message_xml(f))) for f in generate(DEFECTIVE)]


def _digest(options: GeneratorOptions) -> str:
    h = hashlib.sha256()
    for f in generate(options):
        h.update(f.path.encode() + b"\0" + f.data + b"\0")
        h.update("".join(label.to_json() for label in f.labels).encode())
    return h.hexdigest()


# ---------------------------------------------------------------- reproducibility


def test_same_seed_same_bytes() -> None:
    options = GeneratorOptions(items=120, seed=5, defects=True, items_per_message=9)
    first, second = list(generate(options)), list(generate(options))
    assert [(f.path, f.data, f.labels) for f in first] == [
        (f.path, f.data, f.labels) for f in second
    ]


def test_different_seed_differs() -> None:
    a = GeneratorOptions(items=60, seed=1, base_time=BASE)
    b = GeneratorOptions(items=60, seed=2, base_time=BASE)
    assert _digest(a) != _digest(b)


def test_same_seed_and_base_time_same_bytes_other_base_time_other_times() -> None:
    """The base time moves the whole timeline with it."""
    options = GeneratorOptions(items=90, seed=5, defects=True, items_per_message=9, base_time=BASE)
    again = GeneratorOptions(items=90, seed=5, defects=True, items_per_message=9, base_time=BASE)
    later = GeneratorOptions(
        items=90, seed=5, defects=True, items_per_message=9, base_time=BASE + timedelta(days=3)
    )
    assert _digest(options) == _digest(again)
    assert _digest(options) != _digest(later)
    now, shifted = list(generate(options)), list(generate(later))
    assert [f.envelope.prepared_at + timedelta(days=3) for f in now if f.envelope.prepared_at] == [
        f.envelope.prepared_at for f in shifted if f.envelope.prepared_at
    ]


def test_reproducible_across_processes_and_hash_seeds() -> None:
    """No set or dict-hash order leaks into the output."""
    code = (
        "import hashlib\n"
        "from adapters.generator import GeneratorOptions, generate\n"
        "h = hashlib.sha256()\n"
        "from datetime import datetime\n"
        "base = datetime.fromisoformat('2026-12-02T09:30:00+00:00')\n"
        "options = GeneratorOptions(items=80, seed=3, defects=True, items_per_message=8,\n"
        "                           base_time=base)\n"
        "for f in generate(options):\n"
        "    h.update(f.path.encode() + f.data + ''.join(l.to_json() for l in f.labels).encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


# ---------------------------------------------------------------- shape of the traffic


def test_allocation_follows_shares() -> None:
    counts = allocate(1000, GeneratorOptions(items=1000, seed=1).shares())
    assert sum(counts.values()) == 1000
    assert counts["itmatt-1.2"] == 350 and counts["cn23-csv"] == 100
    assert allocate(7, dict.fromkeys(MESSAGE_KINDS, 1.0))["itmatt-1.2"] == 2


def test_every_format_and_item_count(clean_files: list[GeneratedFile]) -> None:
    kinds = Counter(f.kind for f in clean_files)
    assert set(kinds) == set(MESSAGE_KINDS)
    assert sum(len(f.labels) for f in clean_files) == CLEAN.items
    assert all(len(f.labels) <= CLEAN.items_per_message for f in clean_files)


def test_identifiers_are_valid_and_unique(clean_files: list[GeneratedFile]) -> None:
    item_ids = [label.item_id for f in clean_files for label in f.labels]
    assert len(set(item_ids)) == len(item_ids)
    message_ids = [f.envelope.message_id for f in clean_files]
    assert len(set(message_ids)) == len(message_ids)
    assert all(m is not None and len(m) <= 35 for m in message_ids)
    s10_ids = [
        label.item_id
        for f in clean_files
        if not f.kind.startswith("manifest")
        for label in f.labels
    ]
    assert s10_ids and all(s10.check(i or "").ok for i in s10_ids)
    hawbs = [
        label.item_id for f in clean_files if f.kind.startswith("manifest") for label in f.labels
    ]
    assert hawbs and all(h is not None and len(h) == 10 and h.isdigit() for h in hawbs)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="defect_rate"):
        GeneratorOptions(items=1, seed=1, defect_rate=1.5)
    with pytest.raises(ValueError, match="items_per_message"):
        GeneratorOptions(items=1, seed=1, items_per_message=0)
    with pytest.raises(ValueError, match="UTC offset"):
        GeneratorOptions(items=1, seed=1, base_time=datetime(2026, 11, 20))
    with pytest.raises(ValueError, match="shares"):
        GeneratorOptions(
            items=1,
            seed=1,
            share_itmatt_12=0,
            share_itmatt_11=0,
            share_cusitm=0,
            share_manifest_json=0,
            share_manifest_csv=0,
            share_cn23_csv=0,
        )


def test_timeline_ends_at_the_base_time(clean_files: list[GeneratedFile]) -> None:
    times = [f.envelope.prepared_at for f in clean_files]
    assert all(t is not None and BASE - MAX_SPAN <= t <= BASE for t in times)
    assert times[-1] == BASE
    assert times == sorted(times, key=lambda t: t.astimezone(UTC) if t else BASE)


def test_the_default_base_time_is_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    options = GeneratorOptions(items=1, seed=1)
    assert before <= options.base_time <= datetime.now(UTC)
    assert options.base_time.microsecond == 0


@pytest.mark.parametrize("items", [400, 12_000])
def test_traffic_is_current_at_its_base_time(items: int) -> None:
    """Received at base time, or up to FRESH_FOR later, only items labelled LATE_DATA are
    late; a long run is laid out closer together rather than reaching further back."""
    options = GeneratorOptions(
        items=items, seed=17, defects=True, defect_rate=0.05, scenarios=True, base_time=BASE
    )
    late_labels = seen = 0
    for f in generate(options):
        if f.kind == "hostile":
            continue
        assert f.envelope.prepared_at is not None
        assert BASE - MAX_SPAN <= f.envelope.prepared_at <= BASE, f.path
        data = message_xml(f)
        labels = {label.item_index: label for label in f.labels if label.item_index}
        for received in (BASE, BASE + FRESH_FOR - timedelta(seconds=1), None):
            for item in check_message(data, received_at=received).items:
                late = any(x.code is Code.LATE_DATA for x in item.findings)
                expected = Code.LATE_DATA.value in labels[item.index].expected
                assert late == expected, (f.path, item.index, received, item.findings)
                late_labels += expected
                seen += 1
    assert late_labels and seen == 3 * items
    # Just past FRESH_FOR the earliest expected arrivals are behind: the files are stale.
    stale = BASE + timedelta(hours=40)
    late_now = sum(
        any(x.code is Code.LATE_DATA for x in item.findings)
        for f in generate(options)
        if f.kind == "cusitm"
        for item in check_message(f.data, received_at=stale).items
    )
    assert late_now > 0


# ---------------------------------------------------------------- clean traffic


def test_clean_traffic_has_no_findings_at_all(clean_files: list[GeneratedFile]) -> None:
    for f in clean_files:
        check = check_message(message_xml(f))
        assert check.findings == [], (f.path, check.findings)
        assert len(check.items) == len(f.labels)
        dirty = [(c.index, c.findings) for c in check.items if c.findings]
        assert dirty == [], f.path
        assert all(c.item is not None for c in check.items)  # canonical items for risk
        assert all(label.defect is None and label.expected == () for label in f.labels)


def test_clean_traffic_has_variety(clean_files: list[GeneratedFile]) -> None:
    checks = [check_message(message_xml(f)) for f in clean_files]
    items = [c.item for check in checks for c in check.items if c.item is not None]
    assert {i.currency for i in items} >= {"EUR", "USD"}
    assert {i.declaration_form for i in items} == {"CN22", "CN23"}
    assert {i.mail_class for i in items} == {"U", "C", "E"}
    assert {"SALE_OF_GOODS", "GIFT", "DOCUMENTS"} <= {i.category for i in items}
    assert len({i.addressee.country for i in items}) >= 6
    assert len({i.sender.country for i in items}) >= 8
    # Buyers order again, but a clean buyer gets at most two parcels in a run (a run lies
    # within the 72 h windows): clean traffic never looks like a split consignment.
    per_addressee = Counter(i.addressee_key for i in items)
    assert max(per_addressee.values()) == 2
    assert any(len(i.lines) > 1 for i in items)
    for item in items:
        if item.category == "DOCUMENTS":
            assert [line.description for line in item.lines] in (["Documents"], ["Business papers"])


# ---------------------------------------------------------------- defective traffic


def test_every_item_reports_exactly_its_label(
    defective: list[tuple[GeneratedFile, MessageCheck]],
) -> None:
    for f, check in defective:
        if f.kind == "hostile":
            continue
        by_index = {label.item_index: label for label in f.labels if label.item_index}
        assert len(by_index) == len(check.items), f.path
        for item in check.items:
            label = by_index[item.index]
            assert _codes(item.findings) == list(label.expected), (
                f.path,
                item.index,
                label.defect,
                [(x.path, x.message) for x in item.findings],
            )


def test_message_level_labels_match(defective: list[tuple[GeneratedFile, MessageCheck]]) -> None:
    for f, check in defective:
        expected = sorted(label.defect or "" for label in f.labels if label.item_index is None)
        assert _codes(check.findings) == expected, (f.path, check.findings)


def test_every_defect_class_appears(defective: list[tuple[GeneratedFile, MessageCheck]]) -> None:
    seen = Counter(label.defect for f, _ in defective for label in f.labels if label.defect)
    wanted = {code.value for code in ITEM_DEFECTS} | {"AWB_CHECK_DIGIT"}
    wanted |= {case.code.value for case in HOSTILE_CASES}
    assert wanted <= set(seen), wanted - set(seen)
    item_counts = [seen[code.value] for code in ITEM_DEFECTS]
    assert max(item_counts) - min(item_counts) <= 2  # spread evenly


def test_defect_rate_is_respected(defective: list[tuple[GeneratedFile, MessageCheck]]) -> None:
    labels = [label for f, _ in defective for label in f.labels if label.item_index]
    assert len(labels) == DEFECTIVE.items
    share = sum(label.defect is not None for label in labels) / len(labels)
    assert 0.24 < share < 0.36


def test_hostile_files_are_refused_with_their_code(
    defective: list[tuple[GeneratedFile, MessageCheck]],
) -> None:
    hostile = [(f, check) for f, check in defective if f.kind == "hostile"]
    assert len(hostile) == len(HOSTILE_CASES)
    for (f, check), case in zip(hostile, HOSTILE_CASES, strict=True):
        assert [x.code for x in check.findings] == [case.code], f.path
        assert check.message is None and check.items == []
        assert [label.expected for label in f.labels] == [(case.code.value,)]


def test_no_hostile_files_without_defects(clean_files: list[GeneratedFile]) -> None:
    assert not any(f.kind == "hostile" for f in clean_files)
