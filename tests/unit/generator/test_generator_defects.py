"""Every injector, on every file kind that can carry it, triggers exactly its code.

Clean generated files are taken apart, one item is made defective, and the
file is rebuilt through its own format (CSV and manifests round-trip through
their adapters) and checked by the real validate-stage check.
"""

import random
from dataclasses import replace

import pytest

from adapters.express import (
    Manifest,
    manifest_from_csv,
    manifest_from_json,
    manifest_to_csv,
    manifest_to_cusitm,
    manifest_to_json,
)
from adapters.generator import GeneratedFile, GeneratorOptions, generate, message_xml
from adapters.generator.defects import (
    BAD_COUNTRIES,
    BAD_CURRENCIES,
    BAD_ITEM_ID_COUNTRIES,
    EXPRESS_KINDS,
    ITEM_DEFECTS,
    DefectPlanner,
    Where,
    bad_awb,
)
from adapters.generator.formats import shipment_of
from adapters.generator.hostile import HOSTILE_CASES, HostileCase
from adapters.generator.output import MESSAGE_KINDS, FileKind
from adapters.post import cn23_csv_to_itmatt, itmatt_to_cn23_csv
from messages.awb import awb_problem, make_awb
from messages.check import check_message
from messages.codec import encode_cusitm, encode_itmatt
from messages.codes import is_country, is_currency
from messages.findings import Code
from messages.models import CusitmMessage, DeclaredItem, ItmattMessage

SEEDS = range(4)
#: Defects a file kind cannot carry (see the `applies` of each injector).
NOT_ON_EXPRESS = {
    Code.ITEM_ID_FORMAT,
    Code.ITEM_ID_CHECK_DIGIT,
    Code.ITEM_ID_COUNTRY,
    Code.LATE_DATA,
    Code.CN22_OVER_LIMIT,
}


@pytest.fixture(scope="module")
def clean_files() -> list[GeneratedFile]:
    return list(generate(GeneratorOptions(items=240, seed=99, items_per_message=8)))


def _decoded(file: GeneratedFile) -> ItmattMessage | CusitmMessage:
    message = check_message(message_xml(file)).message
    assert message is not None
    return message


def _rebuilt(file: GeneratedFile, item: DeclaredItem) -> bytes:
    """`file` holding only `item`, written in the file's own format and read back."""
    envelope = file.envelope
    assert envelope.prepared_at is not None and envelope.message_id is not None
    if file.kind in EXPRESS_KINDS:
        parse = manifest_from_json if file.kind == "manifest-json" else _from_csv
        manifest = parse(file.data)
        original = next(s for s in manifest.shipments if s.hawb == item.item_id)
        single = replace(manifest, shipments=(shipment_of(item, ioss=original.ioss),))
        data = manifest_to_json(single) if file.kind == "manifest-json" else _to_csv(single)
        assert envelope.customs_office is not None
        cusitm = manifest_to_cusitm(
            parse(data), customs_office=envelope.customs_office, prepared_at=envelope.prepared_at
        )
        return encode_cusitm(cusitm)
    message = _decoded(file).model_copy(update={"items": [item]})
    if isinstance(message, CusitmMessage):
        return encode_cusitm(message)
    if file.kind == "cn23-csv":
        assert envelope.sender_operator and envelope.recipient_operator
        message = cn23_csv_to_itmatt(
            itmatt_to_cn23_csv(message),
            message_id=envelope.message_id,
            sender_operator=envelope.sender_operator,
            recipient_operator=envelope.recipient_operator,
            prepared_at=envelope.prepared_at,
        )
    return encode_itmatt(message)


def _from_csv(data: bytes) -> Manifest:
    return manifest_from_csv(data.decode())


def _to_csv(manifest: Manifest) -> bytes:
    return manifest_to_csv(manifest).encode()


def test_each_defect_triggers_exactly_its_code_on_each_kind(
    clean_files: list[GeneratedFile],
) -> None:
    exercised: set[tuple[Code, FileKind]] = set()
    per_kind = {kind: [f for f in clean_files if f.kind == kind][:3] for kind in MESSAGE_KINDS}
    for file in (f for files in per_kind.values() for f in files):
        envelope = file.envelope
        assert envelope.prepared_at is not None
        where = Where(kind=file.kind, prepared_at=envelope.prepared_at)
        items = _decoded(file).items
        for code, defect in ITEM_DEFECTS.items():
            item = next((i for i in items if defect.applies(i, where)), None)
            if item is None:
                continue
            exercised.add((code, file.kind))
            for seed in SEEDS:
                injection = defect.inject(item, random.Random(f"{code}-{seed}"), where)
                check = check_message(_rebuilt(file, injection.item))
                assert check.findings == [], (file.path, code, check.findings)
                found = sorted({f.code for f in check.items[0].findings})
                assert found == sorted(injection.expected) == [code], (
                    file.kind,
                    code,
                    seed,
                    [(f.path, f.message) for f in check.items[0].findings],
                )
    wanted = {
        (code, kind)
        for code in ITEM_DEFECTS
        for kind in MESSAGE_KINDS
        if not (kind in EXPRESS_KINDS and code in NOT_ON_EXPRESS)
    }
    assert wanted <= exercised, sorted(wanted - exercised)


def test_planner_spreads_defects_evenly(clean_files: list[GeneratedFile]) -> None:
    planner = DefectPlanner(enabled=True, rate=1.0)
    rng = random.Random(3)
    for file in clean_files[:12]:
        assert file.envelope.prepared_at is not None
        where = Where(kind=file.kind, prepared_at=file.envelope.prepared_at)
        for item in _decoded(file).items:
            assert planner.apply(item, rng, where) is not None
    counts = [planner.counts[code] for code in ITEM_DEFECTS]
    assert max(counts) - min(counts) <= 2


def test_planner_off_or_rate_zero_injects_nothing(clean_files: list[GeneratedFile]) -> None:
    file = clean_files[0]
    assert file.envelope.prepared_at is not None
    where = Where(kind=file.kind, prepared_at=file.envelope.prepared_at)
    for planner in (DefectPlanner(enabled=False, rate=1.0), DefectPlanner(enabled=True, rate=0)):
        assert all(planner.apply(i, random.Random(1), where) is None for i in _decoded(file).items)


def test_bad_codes_are_really_bad() -> None:
    assert not any(is_country(c) for c in (*BAD_COUNTRIES, *BAD_ITEM_ID_COUNTRIES))
    assert not any(is_currency(c) for c in BAD_CURRENCIES)


def test_bad_awb_fails_only_the_check_digit() -> None:
    rng = random.Random(8)
    for serial in range(0, 9_999_999, 123_457):
        awb = make_awb(615, serial)
        wrong = bad_awb(awb, rng)
        assert awb_problem(awb) is None
        assert wrong[:-1] == awb[:-1]
        problem = awb_problem(wrong)
        assert problem is not None and "check digit" in problem


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=lambda c: c.name)
def test_hostile_case_is_refused_with_its_code(
    case: HostileCase, clean_files: list[GeneratedFile]
) -> None:
    base = next(f for f in clean_files if f.kind == "itmatt-1.2").data
    hostile = case.make(base, random.Random(1))
    assert [f.code for f in check_message(hostile).findings] == [case.code]
