"""Variant families and clean traps: every family is planted, labelled and validates.

A scenario whose risk is always spelt one way makes keyword rules look perfect;
these tests make sure each adversarial family (and each trap kind) really
appears in a run, carries its `variant` label, raises exactly its expected
warnings through the intake adapters and the validate stage, and has the
property its family is about.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.generator import GeneratedFile, GeneratorOptions, Label, generate, message_xml
from adapters.generator.catalogue import CATALOGUE
from adapters.generator.defects import EXPRESS_KINDS
from adapters.generator.held_out import HELD_OUT, HELD_OUT_GOODS
from adapters.generator.scenario_goods import (
    COUNTERFEIT_GOODS,
    DANGEROUS_GOODS,
    OPIOID_GOODS,
    WILDLIFE_GOODS,
)
from adapters.generator.scenario_parties import has_legal_form
from adapters.generator.scenarios import SCENARIOS
from adapters.generator.variant_goods import (
    CATALOGUE_LANGUAGE,
    COUNTERFEIT_LANGUAGE,
    COUNTERFEIT_MISSPELT,
    DANGEROUS_INDIRECT,
    DANGEROUS_LANGUAGE,
    DANGEROUS_MISSPELT,
    DOCUMENT_WORDS,
    IMITATION_CODES,
    LANGUAGES,
    MEDICINE_WORDS,
    OPIOID_LANGUAGE,
    OPIOID_MISSPELT,
    PRECIOUS_JEWELLERY,
    REPLICA_MARKERS,
    TRAP_GOODS,
    WILDLIFE_LANGUAGE,
    WILDLIFE_MISSPELT,
)
from adapters.generator.variants import FAMILIES, NO_PLAIN, TRAPS, name_spelling
from messages import hs
from messages.check import check_message
from messages.codes import is_country
from messages.findings import has_error
from messages.models import DeclaredItem, Party
from messages.rulebook import garbage_reason, is_vague

BASE = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
RUN = GeneratorOptions(items=6000, seed=11, scenarios=True, scenario_rate=0.25, base_time=BASE)
TRAP_KINDS = {t.name for t in TRAPS}
BY_DESCRIPTION = {p.description: p for p in CATALOGUE}


def _descriptions(*tables: object) -> set[str]:
    out: set[str] = set()
    for table in tables:
        groups = table.values() if isinstance(table, dict) else (table,)
        out |= {p.description for goods in groups for p in goods}  # type: ignore[attr-defined]
    return out


#: The goods a listed family's special line comes from (counterfeit misspelt adds markers).
FAMILY_GOODS: dict[tuple[str, str], set[str]] = {
    ("counterfeit", "language"): _descriptions(COUNTERFEIT_LANGUAGE),
    ("dangerous_goods", "misspelt"): _descriptions(DANGEROUS_MISSPELT),
    ("dangerous_goods", "language"): _descriptions(DANGEROUS_LANGUAGE),
    ("dangerous_goods", "indirect"): _descriptions(DANGEROUS_INDIRECT),
    ("wildlife", "misspelt"): _descriptions(WILDLIFE_MISSPELT),
    ("wildlife", "language"): _descriptions(WILDLIFE_LANGUAGE),
    ("opioids", "misspelt"): _descriptions(OPIOID_MISSPELT),
    ("opioids", "language"): _descriptions(OPIOID_LANGUAGE),
    **{(name, "held_out"): _descriptions(HELD_OUT_GOODS[name]) for name in HELD_OUT},
}
PLAIN_GOODS = {
    "counterfeit": COUNTERFEIT_GOODS,
    "dangerous_goods": DANGEROUS_GOODS,
    "wildlife": WILDLIFE_GOODS,
    "opioids": OPIOID_GOODS,
}


@dataclass(frozen=True)
class Seen:
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


def _of(seen: list[Seen], scenario: str | None, variant: str) -> list[Seen]:
    found = [s for s in seen if s.label.scenario == scenario and s.label.variant == variant]
    assert found, (scenario, variant)
    return found


def _total(item: DeclaredItem) -> Decimal:
    assert item.total_value is not None and item.total_value.amount is not None
    return item.total_value.amount


def _address(party: Party | None) -> str:
    assert party is not None and party.address is not None
    return party.address.model_dump_json()


def _by_address(items: list[Seen]) -> dict[tuple[str, str], list[Seen]]:
    """Items per file and addressee address (a new buyer's address is the link)."""
    groups: dict[tuple[str, str], list[Seen]] = defaultdict(list)
    for s in items:
        groups[(s.file.path, _address(s.declared.addressee))].append(s)
    return groups


# ---------------------------------------------------------------- the run as a whole


def test_every_family_and_trap_appears(seen: list[Seen]) -> None:
    found = Counter((s.label.scenario, s.label.variant) for s in seen if s.label.variant)
    wanted = {(name, "plain") for name in SCENARIOS if name not in NO_PLAIN}
    wanted |= {(name, f.name) for name, families in FAMILIES.items() for f in families}
    wanted |= {(name, "held_out") for name in HELD_OUT}
    wanted |= {(None, kind) for kind in TRAP_KINDS}
    assert set(found) == wanted, sorted(wanted ^ set(found), key=str)


def test_labels_carry_the_variant(seen: list[Seen]) -> None:
    for s in seen:
        label = s.label
        if label.scenario is not None:
            assert label.variant is not None, label
        elif label.variant is not None:
            assert label.variant in TRAP_KINDS and label.defect is None, label
            assert label.expected == ()
        assert '"variant": ' in label.to_json()


def test_items_validate_with_exactly_the_expected_warnings(seen: list[Seen]) -> None:
    assert len(seen) == RUN.items
    for s in seen:
        assert not s.errors, (s.file.path, s.label, s.codes)
        assert s.codes == list(s.label.expected), (s.file.path, s.label, s.codes)


def test_family_shares_are_roughly_as_designed(seen: list[Seen]) -> None:
    firsts = [s for s in seen if s.label.scenario in HELD_OUT]
    shares = Counter(s.label.variant for s in firsts)
    total = sum(shares.values())
    assert 0.28 <= shares["plain"] / total <= 0.52, shares
    assert 0.05 <= shares["held_out"] / total <= 0.16, shares
    clean = [s for s in seen if s.label.scenario is None]
    traps = sum(s.label.variant is not None for s in clean)
    assert 0.015 <= traps / len(clean) <= 0.06, traps


def _digest(options: GeneratorOptions) -> str:
    h = hashlib.sha256()
    for f in generate(options):
        h.update(f.path.encode() + b"\0" + f.data + b"\0")
        h.update("".join(label.to_json() for label in f.labels).encode())
    return h.hexdigest()


def test_same_seed_same_output() -> None:
    options = GeneratorOptions(
        items=800, seed=4, scenarios=True, scenario_rate=0.3, defects=True, base_time=BASE
    )
    assert _digest(options) == _digest(options)


def test_traps_never_come_without_scenarios() -> None:
    options = GeneratorOptions(items=1500, seed=9, defects=True, base_time=BASE)
    labels = [label for f in generate(options) for label in f.labels]
    assert all(label.variant is None for label in labels)


# ---------------------------------------------------------------- families


@pytest.mark.parametrize("family", sorted(FAMILY_GOODS), ids="-".join)
def test_listed_families_declare_their_goods(seen: list[Seen], family: tuple[str, str]) -> None:
    plain = {p.description for p in PLAIN_GOODS[family[0]]}
    for s in _of(seen, *family):
        special = [p for p in s.declared.contents if p.description in FAMILY_GOODS[family]]
        assert len(special) == 1, s.declared.contents
        assert not any(p.description in plain for p in s.declared.contents)
        assert s.declared.category == "SALE_OF_GOODS"


def test_counterfeit_misspelt_mangles_the_brand_or_marks_a_replica(seen: list[Seen]) -> None:
    misspelt = _descriptions(COUNTERFEIT_MISSPELT)
    plain = {p.description for p in COUNTERFEIT_GOODS}
    marked = 0
    for s in _of(seen, "counterfeit", "misspelt"):
        fakes = [p for p in s.declared.contents if p.description not in BY_DESCRIPTION]
        assert len(fakes) == 1, s.declared.contents
        text = fakes[0].description or ""
        has_marker = any(marker in text for marker in REPLICA_MARKERS)
        marked += has_marker
        assert text not in plain
        assert text in misspelt or has_marker, text
        assert fakes[0].quantity is not None and fakes[0].value and fakes[0].value.amount
        assert Decimal(4) <= fakes[0].value.amount / fakes[0].quantity <= Decimal(25)
    assert marked


def test_opioid_families_stay_5_to_80_eur(seen: list[Seen]) -> None:
    for variant in ("misspelt", "language", "held_out"):
        for s in _of(seen, "opioids", variant):
            assert Decimal(5) <= _total(s.declared) <= Decimal(80)


def test_precious_jewellery_is_declared_as_imitation(seen: list[Seen]) -> None:
    precious = {p.description: p for p in PRECIOUS_JEWELLERY}
    for s in _of(seen, "hs_mismatch", "precious"):
        (piece,) = s.declared.contents
        product = precious[piece.description or ""]
        assert (piece.hs_code or "")[:6] in IMITATION_CODES and product.hs_code[:4] == "7113"
        assert piece.quantity and piece.value and piece.value.amount
        assert piece.value.amount / piece.quantity >= product.value_eur[0]


def _translated(piece_description: str) -> str:
    """The catalogue code of a translated catalogue description."""
    for goods in CATALOGUE_LANGUAGE.values():
        for p in goods:
            if p.description == piece_description:
                return p.hs_code
    raise AssertionError(piece_description)


def test_foreign_language_goods_keep_or_change_their_chapter(seen: list[Seen]) -> None:
    for s in _of(seen, "hs_mismatch", "language"):
        (piece,) = s.declared.contents
        assert (piece.hs_code or "")[:2] != _translated(piece.description or "")[:2]
    for s in _of(seen, None, "trap_language"):
        translated = [p for p in s.declared.contents if p.description not in BY_DESCRIPTION]
        assert len(translated) == 1
        piece = translated[0]
        assert (piece.hs_code or "")[:6] == _translated(piece.description or "")


def test_linked_split_parts_hide_one_buyer_or_one_warehouse(seen: list[Seen]) -> None:
    groups = _by_address(_of(seen, "splitting", "linked_party"))
    spread = []
    for parts in groups.values():
        assert len(parts) >= 2, [p.label for p in parts]
        assert all(_total(p.declared) < 150 for p in parts)
        assert sum(_total(p.declared) for p in parts) > 150
        names = {p.declared.addressee.name for p in parts if p.declared.addressee}
        senders = [p.declared.sender for p in parts if p.declared.sender]
        shops = {s.business_name for s in senders}
        assert len(names) > 1 or len(shops) > 1
        if len(shops) > 1:
            addresses = {_address(s) for s in senders}
            assert len(addresses) == 1 or len({s.phone for s in senders}) == 1
        times = [p.declared.posting_datetime for p in parts if p.declared.posting_datetime]
        if parts[0].file.kind not in EXPRESS_KINDS:
            spread.append(max(times) - min(times))
    assert max(spread) > timedelta(hours=24)
    assert any(len(parts) == 2 for parts in groups.values())


def test_name_spellings() -> None:
    name = "Anna Müller"
    assert [name_spelling(name, k) for k in ("transliterated", "stripped", "reversed")] == [
        "Anna Mueller",
        "Anna Muller",
        "Müller Anna",
    ]
    assert name_spelling(name, "initial") == "A. Müller"
    assert name_spelling(name, "upper") == "ANNA MÜLLER"
    assert name_spelling("Groß", "transliterated") == "Gross"


def test_linked_gifts_come_from_a_private_sender(seen: list[Seen]) -> None:
    gifts = _of(seen, "gift_misdeclaration", "linked_party")
    invoices: Counter[tuple[str, str]] = Counter()
    senders: Counter[tuple[str, object]] = Counter()
    for s in gifts:
        item = s.declared
        assert item.category == "GIFT" and item.sender and not item.sender.business_name
        if item.invoice_number:
            invoices[(s.file.path, item.invoice_number)] += 1
        senders[(s.file.path, item.sender.name)] += 1
    kinds = Counter()
    for s in gifts:
        item = s.declared
        assert item.sender is not None
        if item.invoice_number and invoices[(s.file.path, item.invoice_number)] >= 2:
            kinds["invoice"] += 1
        elif item.sender.tax_id:
            kinds["tax_id"] += 1
        else:
            assert senders[(s.file.path, item.sender.name)] >= 4, item.sender
            kinds["fan_out"] += 1
    assert set(kinds) == {"invoice", "tax_id", "fan_out"}, kinds


def test_category_abuse_families(seen: list[Seen]) -> None:
    for s in _of(seen, "category_abuse", "documents"):
        item = s.declared
        assert s.file.kind not in EXPRESS_KINDS and item.category == "DOCUMENTS"
        (piece,) = item.contents
        assert piece.description in DOCUMENT_WORDS and piece.net_weight is not None
        assert Decimal("0.5") <= piece.net_weight <= 3
        assert item.insured_value and item.insured_value.amount
        assert item.sender and has_legal_form(item.sender.business_name or "")
        assert item.addressee and not item.addressee.business_name
    for s in _of(seen, "category_abuse", "cn22_business"):
        assert s.declared.declaration_form == "CN22" and _total(s.declared) >= 450
        assert s.label.expected == ("CN22_OVER_LIMIT",)
        assert s.declared.sender and has_legal_form(s.declared.sender.business_name or "")
    express = 0
    for s in _of(seen, "category_abuse", "medicine_private"):
        express += s.file.kind in EXPRESS_KINDS
        assert all(p.description in MEDICINE_WORDS for p in s.declared.contents)
        assert all((p.hs_code or "").startswith("3004") for p in s.declared.contents)
        assert s.declared.addressee and not s.declared.addressee.business_name
    assert express


# ---------------------------------------------------------------- traps


@pytest.mark.parametrize("kind", sorted(TRAP_GOODS))
def test_goods_traps_are_clean_goods_with_their_own_code(seen: list[Seen], kind: str) -> None:
    goods = {p.description: p for p in TRAP_GOODS[kind]}
    for s in _of(seen, None, kind):
        traps = [p for p in s.declared.contents if p.description in goods]
        assert len(traps) == 1, s.declared.contents
        assert (traps[0].hs_code or "")[:6] == goods[traps[0].description or ""].hs_code


def test_household_traps_are_two_people_at_one_address(seen: list[Seen]) -> None:
    for pair in _by_address(_of(seen, None, "trap_household")).values():
        assert len(pair) == 2
        one, two = (s.declared for s in pair)
        assert one.addressee and two.addressee and one.addressee.name != two.addressee.name
        assert one.sender != two.sender
        assert all(p.description in BY_DESCRIPTION for p in one.contents + two.contents)


# ---------------------------------------------------------------- tables


def _all_tables() -> list[object]:
    return [
        COUNTERFEIT_MISSPELT, COUNTERFEIT_LANGUAGE, DANGEROUS_MISSPELT, DANGEROUS_LANGUAGE,
        DANGEROUS_INDIRECT, WILDLIFE_MISSPELT, WILDLIFE_LANGUAGE, OPIOID_MISSPELT,
        OPIOID_LANGUAGE, PRECIOUS_JEWELLERY, CATALOGUE_LANGUAGE, TRAP_GOODS, HELD_OUT_GOODS,
    ]  # fmt: skip


def test_variant_tables_are_real_data() -> None:
    for table in _all_tables():
        groups = table.values() if isinstance(table, dict) else (table,)
        for goods in groups:
            for p in goods:  # type: ignore[attr-defined]
                assert hs.is_subheading(p.hs_code), p
                assert not is_vague(p.description, "SALE_OF_GOODS"), p
                assert garbage_reason(p.description) is None and len(p.description) <= 200
                assert 0 < p.value_eur[0] < p.value_eur[1] and 0 < p.weight_kg[0] < p.weight_kg[1]
                assert all(is_country(c) for c in p.origins), p
    for table in (COUNTERFEIT_LANGUAGE, DANGEROUS_LANGUAGE, WILDLIFE_LANGUAGE, OPIOID_LANGUAGE):
        assert set(LANGUAGES) <= set(table)
    assert set(LANGUAGES) == set(CATALOGUE_LANGUAGE)
    for kind, goods in TRAP_GOODS.items():
        for p in goods:
            assert p.value_eur[0] >= 3, (kind, p)
    for p in COUNTERFEIT_MISSPELT:
        assert Decimal(4) <= p.value_eur[0] and p.value_eur[1] <= Decimal(25), p


def test_catalogue_has_no_alcohol_based_perfume() -> None:
    descriptions = {p.description for p in CATALOGUE}
    assert "Eau de parfum 50 ml" not in descriptions
    assert "Solid perfume balm 15 g" in descriptions
    assert not any("parfum" in d.casefold() or "toilette" in d.casefold() for d in descriptions)
