"""Risk scenarios: every class is planted, validates as labelled, and carries its risk.

Scenario files go through the intake adapters (`message_xml`) and the real
validate-stage check like all generated traffic; the per-class checks then
look at the item as intake sees it, so a property that a format loses would
show up here.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.generator import GeneratedFile, GeneratorOptions, Label, generate, message_xml
from adapters.generator.catalogue import CATALOGUE
from adapters.generator.defects import EXPRESS_KINDS
from adapters.generator.geography import EU_DESTINATIONS
from adapters.generator.output import MESSAGE_KINDS
from adapters.generator.scenario_goods import (
    COUNTERFEIT_GOODS,
    DANGEROUS_GOODS,
    HIGH_RISK_ORIGINS,
    OPIOID_GOODS,
    TRANSIT_COUNTRIES,
    VAGUE_BY_GROUP,
    VAGUE_GENERIC,
    WILDLIFE_GOODS,
)
from adapters.generator.scenario_parties import has_legal_form, places
from adapters.generator.scenarios import SCENARIOS
from adapters.generator.watchlist import VARIANTS, WATCHLIST, WatchlistEntry, name_variant
from messages import hs
from messages.check import check_message
from messages.codes import is_country
from messages.findings import has_error
from messages.models import DeclaredItem
from messages.rulebook import garbage_reason, is_vague
from messages.text import fold
from service.cli.main import app

CLASSES = (
    "undervaluation", "threshold_value", "splitting", "gift_misdeclaration",
    "vague_description", "hs_mismatch", "dangerous_goods", "counterfeit", "wildlife",
    "opioids", "watchlist", "high_risk_route", "late_data", "data_quality", "category_abuse",
)  # fmt: skip
BASE = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
RUN = GeneratorOptions(items=3000, seed=2027, scenarios=True, scenario_rate=0.3, base_time=BASE)
BY_DESCRIPTION = {p.description: p for p in CATALOGUE}
SCENARIO_GOODS = {
    "dangerous_goods": DANGEROUS_GOODS,
    "counterfeit": COUNTERFEIT_GOODS,
    "wildlife": WILDLIFE_GOODS,
    "opioids": OPIOID_GOODS,
}
BRANDS = (
    "rolex", "nike", "jordan", "louis vuitton", "chanel", "apple", "airpods", "iphone",
    "ray-ban", "gucci", "adidas", "yeezy", "pandora", "beats", "hermes", "hermès", "dior",
    "cartier", "canada goose", "prada", "samsung", "sony", "lego", "versace", "swarovski",
)  # fmt: skip
RISKY_WORDS = re.compile(r"\b(battery|batteries|lithium|vape|ivory|powder)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Seen:
    """One scenario item as intake and validation saw it."""

    file: GeneratedFile
    label: Label
    declared: DeclaredItem
    codes: list[str]
    errors: bool


@pytest.fixture(scope="module")
def seen() -> list[Seen]:
    out = []
    for file in generate(RUN):
        check = check_message(message_xml(file))
        assert check.findings == [], (file.path, check.findings)
        labels = {label.item_index: label for label in file.labels if label.item_index}
        for item in check.items:
            label = labels[item.index]
            codes = sorted({f.code.value for f in item.findings})
            out.append(Seen(file, label, item.declared, codes, has_error(item.findings)))
    return out


def _of(seen: list[Seen], scenario: str, variant: str | None = "plain") -> list[Seen]:
    """The items of `scenario` (of its `variant` family; None: of every family)."""
    found = [s for s in seen if s.label.scenario == scenario and variant in (None, s.label.variant)]
    assert found, (scenario, variant)
    return found


def _eur_total(item: DeclaredItem) -> Decimal:
    assert item.total_value is not None and item.total_value.currency == "EUR"
    assert item.total_value.amount is not None
    return item.total_value.amount


def _line_value(item: DeclaredItem, position: int = 0) -> Decimal:
    value = item.contents[position].value
    assert value is not None and value.amount is not None and value.currency == "EUR"
    return value.amount


def _sender_name(item: DeclaredItem) -> str:
    assert item.sender is not None
    name = item.sender.business_name or item.sender.name
    assert name is not None
    return name


def _sender_country(item: DeclaredItem) -> str | None:
    return item.sender.address.country if item.sender and item.sender.address else None


def _digest(options: GeneratorOptions) -> str:
    h = hashlib.sha256()
    for f in generate(options):
        h.update(f.path.encode() + b"\0" + f.data + b"\0")
        h.update("".join(label.to_json() for label in f.labels).encode())
    return h.hexdigest()


# ---------------------------------------------------------------- the run as a whole


def test_the_fifteen_classes_are_registered() -> None:
    assert tuple(SCENARIOS) == CLASSES


def test_every_class_appears_in_every_format_that_can_carry_it(seen: list[Seen]) -> None:
    per_kind = Counter((s.label.scenario, s.file.kind) for s in seen if s.label.scenario)
    wanted = {
        (name, kind)
        for name in CLASSES
        for kind in MESSAGE_KINDS
        if not (name == "late_data" and kind in EXPRESS_KINDS)
    }
    assert wanted <= set(per_kind), sorted(wanted - set(per_kind))
    assert not any(per_kind[("late_data", kind)] for kind in EXPRESS_KINDS)


def test_items_validate_with_exactly_the_expected_warnings(seen: list[Seen]) -> None:
    assert len(seen) == RUN.items
    for s in seen:
        assert not s.errors, (s.file.path, s.label, s.codes)
        assert s.codes == list(s.label.expected), (s.file.path, s.label, s.codes)
        assert s.label.defect is None
        assert s.label.scenario is not None or s.codes == []


def test_expected_warnings_per_class(seen: list[Seen]) -> None:
    expected: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for s in seen:
        if s.label.scenario:
            expected[s.label.scenario].add(s.label.expected)
    assert expected == {
        **{name: {()} for name in CLASSES},
        "vague_description": {("DESCRIPTION_VAGUE",)},
        "late_data": {("LATE_DATA",)},
        "data_quality": {("PHONE_FORMAT", "TOTAL_VALUE_MISMATCH")},
        "category_abuse": {(), ("CN22_OVER_LIMIT",)},
    }


def test_scenarios_with_defects_never_overlap_and_match_their_labels() -> None:
    options = GeneratorOptions(
        items=900, seed=8, defects=True, defect_rate=0.2, scenarios=True, scenario_rate=0.2
    )
    kinds: Counter[str] = Counter()
    for file in generate(options):
        if file.kind == "hostile":
            continue
        check = check_message(message_xml(file))
        labels = {label.item_index: label for label in file.labels if label.item_index}
        for item in check.items:
            label = labels[item.index]
            assert label.defect is None or label.scenario is None, label
            assert sorted({f.code.value for f in item.findings}) == list(label.expected), label
            kinds["defect" if label.defect else label.scenario or "clean"] += 1
    assert kinds["defect"] and kinds["clean"] and len(kinds) > 10


def test_scenarios_off_is_byte_identical() -> None:
    base = GeneratorOptions(items=300, seed=5, defects=True, items_per_message=20, base_time=BASE)
    off = GeneratorOptions(
        items=300,
        seed=5,
        defects=True,
        items_per_message=20,
        scenarios=False,
        scenario_rate=0.9,
        base_time=BASE,
    )
    assert _digest(base) == _digest(off)
    labels = [label for f in generate(base) for label in f.labels]
    assert all(label.scenario is None and label.variant is None for label in labels)


def test_rate_is_honoured_roughly() -> None:
    options = GeneratorOptions(items=5000, seed=31, scenarios=True)
    labels = [label for f in generate(options) for label in f.labels if label.item_index]
    assert len(labels) == 5000
    share = sum(label.scenario is not None for label in labels) / len(labels)
    assert 0.03 <= share <= 0.06, share


def test_scenario_rate_is_checked() -> None:
    with pytest.raises(ValueError, match="scenario_rate"):
        GeneratorOptions(items=1, seed=1, scenario_rate=1.5)
    with pytest.raises(ValueError, match="scenario_rate"):
        GeneratorOptions(items=1, seed=1, scenario_rate=-0.1)


# ---------------------------------------------------------------- value fraud


def test_undervaluation_is_a_fraction_of_the_catalogue_low(seen: list[Seen]) -> None:
    for s in _of(seen, "undervaluation"):
        item = s.declared
        (piece,) = item.contents
        product = BY_DESCRIPTION[piece.description or ""]
        assert piece.quantity is not None
        per_unit = _line_value(item) / piece.quantity
        assert per_unit <= product.value_eur[0] * Decimal("0.12"), (piece, product)
        assert per_unit >= product.value_eur[0] * Decimal("0.029"), (piece, product)
        assert _eur_total(item) == _line_value(item) and item.category == "SALE_OF_GOODS"


def test_threshold_value_sits_under_150_eur_for_goods_worth_far_more(seen: list[Seen]) -> None:
    for s in _of(seen, "threshold_value"):
        item = s.declared
        (piece,) = item.contents
        assert item.addressee and item.addressee.address
        assert item.addressee.address.country in EU_DESTINATIONS
        assert Decimal("135.00") <= _eur_total(item) <= Decimal("149.99")
        product = BY_DESCRIPTION[piece.description or ""]
        assert piece.quantity is not None
        assert product.value_eur[0] * piece.quantity >= Decimal("1.6") * _eur_total(item)
        assert item.category == "SALE_OF_GOODS"


def test_splitting_parts_share_message_parties_and_time(seen: list[Seen]) -> None:
    parts = _of(seen, "splitting")
    by_file: dict[str, list[Seen]] = defaultdict(list)
    for s in parts:
        by_file[s.file.path].append(s)
        assert Decimal(60) <= _eur_total(s.declared) <= Decimal(149)
        assert s.declared.category == "SALE_OF_GOODS"
    for s in parts:
        item = s.declared
        assert item.posting_datetime is not None
        companions = [
            o
            for o in by_file[s.file.path]
            if o.declared.sender == item.sender
            and o.declared.addressee == item.addressee
            and o.declared.posting_datetime is not None
            and abs(o.declared.posting_datetime - item.posting_datetime) <= timedelta(hours=2)
        ]
        assert len(companions) >= 3, (s.file.path, s.label.item_index)
        assert sum(_eur_total(o.declared) for o in companions) > 150


def test_gift_misdeclaration_is_a_shop_sending_several_units(seen: list[Seen]) -> None:
    for s in _of(seen, "gift_misdeclaration"):
        item = s.declared
        (piece,) = item.contents
        assert item.category == "GIFT"
        assert item.sender and item.sender.business_name
        assert has_legal_form(item.sender.business_name), item.sender.business_name
        assert piece.quantity is not None and piece.quantity >= 3
        assert Decimal(50) <= _eur_total(item) <= Decimal(140)


# ---------------------------------------------------------------- descriptions and codes


def test_vague_description_keeps_a_real_hs_code(seen: list[Seen]) -> None:
    for s in _of(seen, "vague_description"):
        vague = [p for p in s.declared.contents if is_vague(p.description or "", "x")]
        assert len(vague) == 1
        assert vague[0].hs_code and hs.is_subheading(vague[0].hs_code[:6])
        assert vague[0].value and vague[0].value.amount


def test_hs_mismatch_code_is_from_another_group_and_chapter(seen: list[Seen]) -> None:
    groups_of_code = defaultdict(set)
    for p in CATALOGUE:
        groups_of_code[p.hs_code].add(p.group)
    for s in _of(seen, "hs_mismatch"):
        assert s.declared.category == "SALE_OF_GOODS"
        mismatched = []
        for piece in s.declared.contents:
            product = BY_DESCRIPTION[piece.description or ""]
            code = (piece.hs_code or "")[:6]
            if code != product.hs_code:
                assert code[:2] != product.hs_code[:2]
                assert groups_of_code[code] - {product.group}
                mismatched.append(piece)
        assert len(mismatched) == 1


@pytest.mark.parametrize("scenario", sorted(SCENARIO_GOODS))
def test_listed_goods_are_declared(seen: list[Seen], scenario: str) -> None:
    descriptions = {p.description for p in SCENARIO_GOODS[scenario]}
    for s in _of(seen, scenario):
        listed = [p for p in s.declared.contents if p.description in descriptions]
        assert len(listed) == 1, s.declared.contents
        assert s.declared.category == "SALE_OF_GOODS"


def test_counterfeits_are_cheap_and_opioid_kit_is_5_to_80_eur(seen: list[Seen]) -> None:
    fakes = {p.description for p in COUNTERFEIT_GOODS}
    for s in _of(seen, "counterfeit"):
        for position, piece in enumerate(s.declared.contents):
            if piece.description in fakes:
                assert piece.quantity is not None
                unit = _line_value(s.declared, position) / piece.quantity
                assert Decimal(4) <= unit <= Decimal(25)
    for s in _of(seen, "opioids"):
        assert Decimal(5) <= _eur_total(s.declared) <= Decimal(80)


def test_scenario_goods_tables_are_real_data() -> None:
    assert len(COUNTERFEIT_GOODS) >= 10
    for goods in SCENARIO_GOODS.values():
        for p in goods:
            assert hs.is_subheading(p.hs_code), p
            assert not is_vague(p.description, "SALE_OF_GOODS") and not garbage_reason(
                p.description
            )
            assert 0 < p.value_eur[0] < p.value_eur[1] and 0 < p.weight_kg[0] < p.weight_kg[1]
            assert all(is_country(c) for c in p.origins), p
    for p in COUNTERFEIT_GOODS:
        assert Decimal(4) <= p.value_eur[0] and p.value_eur[1] <= Decimal(25), p
    words = {w for group in VAGUE_BY_GROUP.values() for w in group} | set(VAGUE_GENERIC)
    assert all(is_vague(w, "SALE_OF_GOODS") for w in words | {"Gift", "Present"})


def test_clean_catalogue_carries_no_risk_signal() -> None:
    for product in CATALOGUE:
        text = product.description.casefold()
        assert not RISKY_WORDS.search(text), product.description
        assert not any(re.search(rf"\b{re.escape(b)}\b", text) for b in BRANDS), text
    descriptions = {p.description for p in CATALOGUE}
    assert "Power bank 10000 mAh" not in descriptions and "Quartz wall clock" in descriptions
    listed = {p.description for goods in SCENARIO_GOODS.values() for p in goods}
    assert not descriptions & listed


# ---------------------------------------------------------------- parties and routes

_FORM_TOKENS = {
    "llc", "llp", "ltd", "limited", "corp", "corporation", "ojsc", "jsc", "oao", "co",
    "company", "sarl", "sal", "doo", "sti", "sirketi", "liability",
}  # fmt: skip


def _stem(name: str) -> list[str]:
    """Folded name words without trailing legal-form words ("L.L.C." folds to "l l c")."""
    words = name.split()
    while words and re.sub(r"[^a-z]", "", fold(words[-1])) in _FORM_TOKENS:
        words.pop()
    return fold(" ".join(words)).split()


def _is_variant(name: str, entry: WatchlistEntry) -> bool:
    ours, listed = _stem(name), _stem(entry.name)
    if sorted(ours) == sorted(listed):  # exact, word order, accents, legal form
        return True
    initial, surname = ours[:1], ours[1:]
    if initial == [listed[0][:1]] and surname and surname == listed[-len(surname) :]:
        return True  # "V. Dragunov", "R. Al-Haddadin"
    return SequenceMatcher(None, " ".join(ours), " ".join(listed)).ratio() >= 0.85


def test_watchlist_is_fictional_and_complete() -> None:
    assert len(WATCHLIST) == 30
    assert len({e.ref for e in WATCHLIST}) == 30 and all(
        e.ref.startswith("FICT-") for e in WATCHLIST
    )
    assert {e.kind for e in WATCHLIST} == {"person", "company"}
    assert any(not e.name.isascii() for e in WATCHLIST)
    assert all(is_country(e.country) and e.country in places() for e in WATCHLIST)
    assert set(TRANSIT_COUNTRIES) <= places()
    assert all(has_legal_form(e.name) for e in WATCHLIST if e.kind == "company")


@pytest.mark.parametrize("entry", WATCHLIST, ids=lambda e: e.ref)
def test_every_variant_of_every_entry_is_a_recognisable_clean_name(entry: WatchlistEntry) -> None:
    rng = random.Random(entry.ref)
    for kind, variant in VARIANTS[entry.kind].items():
        for _ in range(5):
            name = variant(entry.name, rng)
            assert (name == entry.name) == (kind == "exact"), (kind, name)
            assert garbage_reason(name) is None and len(name) <= 70, name
            assert _is_variant(name, entry), (kind, name)
    kinds = Counter(name_variant(entry, rng)[0] for _ in range(200))
    assert set(kinds) == set(VARIANTS[entry.kind])


def test_watchlist_senders_are_variants_from_the_entry_country(seen: list[Seen]) -> None:
    exact = 0
    items = _of(seen, "watchlist")
    for s in items:
        name = _sender_name(s.declared)
        entries = [e for e in WATCHLIST if _is_variant(name, e)]
        assert entries, name
        assert _sender_country(s.declared) in {e.country for e in entries}
        exact += any(name == e.name for e in entries)
    assert 0 < exact < len(items)


def test_high_risk_route_origin_and_transit_sender(seen: list[Seen]) -> None:
    for s in _of(seen, "high_risk_route"):
        assert s.declared.category == "SALE_OF_GOODS"
        assert _sender_country(s.declared) in TRANSIT_COUNTRIES
        origins = {p.origin_country for p in s.declared.contents}
        assert len(origins) == 1 and origins <= set(HIGH_RISK_ORIGINS)
        assert all(p.description in BY_DESCRIPTION for p in s.declared.contents)


# ---------------------------------------------------------------- timing and data quality


def test_late_data_is_posted_80_to_200_hours_before_preparation(seen: list[Seen]) -> None:
    for s in _of(seen, "late_data"):
        prepared, posted = s.file.envelope.prepared_at, s.declared.posting_datetime
        assert prepared is not None and posted is not None
        assert timedelta(hours=80) <= prepared - posted <= timedelta(hours=200)


def test_data_quality_total_is_a_little_off(seen: list[Seen]) -> None:
    for s in _of(seen, "data_quality"):
        item = s.declared
        assert item.total_value and item.total_value.amount is not None
        lines = sum(p.value.amount for p in item.contents if p.value and p.value.amount)
        off = abs(item.total_value.amount - lines)
        assert 0 < off <= lines * Decimal("0.2"), (off, lines)


# ---------------------------------------------------------------- command line


def test_cli_generate_prints_scenario_counts(tmp_path: Path) -> None:
    out = tmp_path / "traffic"
    args = ["generate", "--items", "200", "--seed", "3", "--scenarios", "--scenario-rate", "0.3"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "items carry a risk scenario:" in result.output
    assert '"scenario": "' in (out / "labels.jsonl").read_text()
    quiet = CliRunner().invoke(app, ["generate", "--items", "20", "--out", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and "risk scenario" not in quiet.output
