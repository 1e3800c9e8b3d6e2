"""Defect injectors: one per validation code, each turning a clean item into a bad one.

Each injector changes exactly one thing and states the exact set of finding
codes the rulebook must then report, nothing more: that is what lets tests
and `aedex evaluate` score validation item by item. An injector only applies
where its defect can be carried by the file kind (an express manifest has no
S10 identifier to break, no CN 22 form, one departure time for all shipments).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from adapters.generator.output import FileKind
from adapters.generator.parties import e123_phone
from messages import hs
from messages.codes import is_country
from messages.findings import Code
from messages.models import COMMERCIAL_CATEGORIES, Address, ContentPiece, DeclaredItem, Money, Party
from messages.rates import RateTable
from messages.thresholds import CN22_LIMIT, threshold

CENT = Decimal("0.01")
GRAM = Decimal("0.001")
EXPRESS_KINDS: frozenset[FileKind] = frozenset({"manifest-json", "manifest-csv"})

BAD_COUNTRIES = ("UK", "EL", "XX", "GER", "DEU")
BAD_CURRENCIES = ("RMB", "EURO", "NTD", "UKL", "US$")
BAD_ITEM_ID_COUNTRIES = ("UK", "EL", "XX", "ZZ", "EU")
VAGUE = (
    "Goods", "gift", "Accessories", "CLOTHING", "Spare parts", "Electronics", "Merchandise",
    "Personal effects", "various", "Toys", "Samples", "Goods.",
)  # fmt: skip
GARBAGE_DESCRIPTIONS = ("asdf", "xxx", "12345", "???", "Tshirttttt", "N/A")
GARBAGE_NAMES = ("Test", "xxx", "Aaaaa", "n/a")
GARBAGE_CITIES = ("N/A", "-", "Xxxxx", "TBD")
LATE_AFTER_HOURS = 72


@dataclass(frozen=True, slots=True)
class Where:
    """The item's surroundings an injector may need."""

    kind: FileKind
    prepared_at: datetime
    rates: RateTable = field(default_factory=RateTable.default)


@dataclass(frozen=True, slots=True)
class Injection:
    item: DeclaredItem
    defect: Code
    expected: frozenset[Code]


Inject = Callable[[DeclaredItem, random.Random, Where], DeclaredItem]
Applies = Callable[[DeclaredItem, Where], bool]


@dataclass(frozen=True, slots=True)
class ItemDefect:
    """An injector for `code`; `applies` says whether this item and file kind can carry it."""

    code: Code
    applies: Applies
    inject_fn: Inject

    def inject(self, item: DeclaredItem, rng: random.Random, where: Where) -> Injection:
        return Injection(self.inject_fn(item, rng, where), self.code, frozenset({self.code}))


#: The registry, in a fixed order (the planner's tie-breaks depend on it).
ITEM_DEFECTS: dict[Code, ItemDefect] = {}


def _always(item: DeclaredItem, where: Where) -> bool:
    return True


def _register(code: Code, applies: Applies = _always) -> Callable[[Inject], Inject]:
    def decorate(fn: Inject) -> Inject:
        ITEM_DEFECTS[code] = ItemDefect(code, applies, fn)
        return fn

    return decorate


# ---------------------------------------------------------------- model edits


def _piece(item: DeclaredItem, position: int, **changes: object) -> DeclaredItem:
    contents = list(item.contents)
    contents[position] = contents[position].model_copy(update=changes)
    return item.model_copy(update={"contents": contents})


def _party(item: DeclaredItem, role: str, **changes: object) -> DeclaredItem:
    party: Party = getattr(item, role) or Party()
    return item.model_copy(update={role: party.model_copy(update=changes)})


def _address(item: DeclaredItem, role: str, **changes: object) -> DeclaredItem:
    party: Party = getattr(item, role) or Party()
    address = (party.address or Address()).model_copy(update=changes)
    return _party(item, role, address=address)


def _positions(item: DeclaredItem, test: Callable[[ContentPiece], bool]) -> list[int]:
    return [i for i, piece in enumerate(item.contents) if test(piece)]


def _line_sum(item: DeclaredItem) -> Decimal:
    return sum((p.value.amount for p in item.contents if p.value and p.value.amount), Decimal(0))


def _net_sum(item: DeclaredItem) -> Decimal:
    return sum((p.net_weight for p in item.contents if p.net_weight), Decimal(0))


def _s10(item: DeclaredItem, where: Where) -> bool:
    return item.id_type == "S10" and item.item_id is not None


def _postal(item: DeclaredItem, where: Where) -> bool:
    return where.kind not in EXPRESS_KINDS


def _has_hs(item: DeclaredItem, where: Where) -> bool:
    return bool(_positions(item, lambda p: p.hs_code is not None))


# ---------------------------------------------------------------- identifiers


@_register(Code.ITEM_ID_FORMAT, _s10)
def _item_id_format(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    good = item.item_id or ""
    bad = rng.choice(
        (
            good[:10] + good[11:],  # check digit left out
            good.lower(),
            f"{good[:2]} {good[2:5]} {good[5:8]} {good[8:11]} {good[11:]}",  # as printed
            good[:11],  # country left out
        )
    )
    return item.model_copy(update={"item_id": bad})


@_register(Code.ITEM_ID_CHECK_DIGIT, _s10)
def _item_id_check_digit(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    good = item.item_id or ""
    digit = (int(good[10]) + rng.randrange(1, 10)) % 10
    return item.model_copy(update={"item_id": f"{good[:10]}{digit}{good[11:]}"})


@_register(Code.ITEM_ID_COUNTRY, _s10)
def _item_id_country(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    good = item.item_id or ""
    return item.model_copy(update={"item_id": good[:11] + rng.choice(BAD_ITEM_ID_COUNTRIES)})


# ---------------------------------------------------------------- codes


@_register(Code.COUNTRY_CODE)
def _country_code(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    bad = rng.choice(BAD_COUNTRIES)
    with_origin = _positions(item, lambda p: p.origin_country is not None)
    target = rng.choice(["addressee", "sender", *(["origin"] if with_origin else [])])
    if target == "origin":
        return _piece(item, rng.choice(with_origin), origin_country=bad)
    return _address(item, target, country=bad)


@_register(Code.CURRENCY_CODE)
def _currency_code(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    # Every amount of the item together: CN 23 CSV and manifests have one currency per item.
    bad = rng.choice(BAD_CURRENCIES)

    def swap(money: Money | None) -> Money | None:
        return None if money is None else money.model_copy(update={"currency": bad})

    contents = [p.model_copy(update={"value": swap(p.value)}) for p in item.contents]
    return item.model_copy(
        update={
            "total_value": swap(item.total_value),
            "postal_charges": swap(item.postal_charges),
            "insured_value": swap(item.insured_value),
            "contents": contents,
        }
    )


@_register(Code.HS_FORMAT, _has_hs)
def _hs_format(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    position = rng.choice(_positions(item, lambda p: p.hs_code is not None))
    code = item.contents[position].hs_code or ""
    bad = rng.choice(
        (
            f"{code[:4]}.{code[4:6]}",  # dotted, as printed in tariffs
            code[:5],  # a digit short
            f"HS{code[:6]}",
            code[:6] + "00000",  # 11 digits
        )
    )
    return _piece(item, position, hs_code=bad)


@_register(Code.HS_UNKNOWN, _has_hs)
def _hs_unknown(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    position = rng.choice(_positions(item, lambda p: p.hs_code is not None))
    code = item.contents[position].hs_code or ""
    if rng.random() < 0.2:
        return _piece(item, position, hs_code="999999")  # Comtrade's "not specified", not HS
    suffixes = [f"{n:02d}" for n in range(100)]
    rng.shuffle(suffixes)
    bad6 = next(code[:4] + s for s in suffixes if not hs.is_subheading(code[:4] + s))
    return _piece(item, position, hs_code=bad6 + code[6:])


def _commercial_with(test: Callable[[ContentPiece], bool]) -> Applies:
    def applies(item: DeclaredItem, where: Where) -> bool:
        return item.category in COMMERCIAL_CATEGORIES and bool(_positions(item, test))

    return applies


@_register(Code.HS_MISSING, _commercial_with(lambda p: p.hs_code is not None))
def _hs_missing(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    position = rng.choice(_positions(item, lambda p: p.hs_code is not None))
    return _piece(item, position, hs_code=None)


@_register(Code.ORIGIN_MISSING, _commercial_with(lambda p: p.origin_country is not None))
def _origin_missing(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    position = rng.choice(_positions(item, lambda p: p.origin_country is not None))
    return _piece(item, position, origin_country=None)


# ---------------------------------------------------------------- mandatory data


@_register(Code.MANDATORY_MISSING)
def _mandatory_missing(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    position = rng.randrange(len(item.contents))
    variants: list[Callable[[], DeclaredItem]] = [
        lambda: _piece(item, position, description=None),
        lambda: _piece(item, position, net_weight=None),
        lambda: _piece(item, position, value=None),
        lambda: item.model_copy(update={"total_value": None}),
        lambda: item.model_copy(update={"total_gross_weight": None}),
        lambda: _address(item, "addressee", street=None, house_number=None, lines=[], city=None),
    ]
    addressee = item.addressee
    if addressee is not None and addressee.business_name is None:
        variants.append(lambda: _party(item, "addressee", name=None))
    return rng.choice(variants)()


@_register(Code.CATEGORY_EXPLANATION, lambda item, where: item.category != "DOCUMENTS")
def _category_explanation(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    # Not for DOCUMENTS: "Documents" under OTHER would also be DESCRIPTION_VAGUE.
    return item.model_copy(update={"category": "OTHER", "category_explanation": None})


# ---------------------------------------------------------------- totals


@_register(Code.TOTAL_VALUE_MISMATCH, lambda item, where: _line_sum(item) >= 1)
def _total_value_mismatch(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    total = item.total_value or Money()
    lines = _line_sum(item)
    if item.declaration_form == "CN23" and rng.random() < 0.3:
        factor = Decimal(rng.randrange(110, 150)) / 100  # shipping added to the total
    else:
        factor = Decimal(rng.randrange(30, 71)) / 100  # undervalued total, lines honest
    wrong = (lines * factor).quantize(CENT)
    return item.model_copy(update={"total_value": total.model_copy(update={"amount": wrong})})


@_register(Code.WEIGHT_INCONSISTENT, lambda item, where: _net_sum(item) >= Decimal("0.01"))
def _weight_inconsistent(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    net = _net_sum(item)
    gross = (net * Decimal(rng.randrange(40, 91)) / 100).quantize(GRAM, ROUND_DOWN)
    return item.model_copy(update={"total_gross_weight": gross})


def _cn22_applies(item: DeclaredItem, where: Where) -> bool:
    total = item.total_value
    return (
        _postal(item, where)
        and item.category != "DOCUMENTS"
        and total is not None
        and total.amount is not None
        and total.amount > 0
    )


@_register(Code.CN22_OVER_LIMIT, _cn22_applies)
def _cn22_over_limit(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    total = item.total_value or Money()
    assert total.amount is not None and total.currency is not None
    day = (item.posting_datetime or where.prepared_at).date()
    total_eur = where.rates.to_eur(total.amount, total.currency, day) or total.amount
    target = Decimal(rng.randrange(420, 900))
    factor = max(2, math.ceil(target / max(total_eur, CENT)))
    contents = [
        p.model_copy(
            update={"value": p.value.model_copy(update={"amount": p.value.amount * factor})}
        )
        if p.value is not None and p.value.amount is not None
        else p
        for p in item.contents
    ]
    new_total = total.model_copy(update={"amount": total.amount * factor})
    limit = threshold(CN22_LIMIT, day)
    assert limit is not None and new_total.amount is not None
    in_limit = where.rates.convert(new_total.amount, total.currency, limit.currency, day)
    assert in_limit is not None and in_limit > limit.amount, "CN22 defect must exceed the limit"
    return item.model_copy(
        update={"declaration_form": "CN22", "total_value": new_total, "contents": contents}
    )


# ---------------------------------------------------------------- text


@_register(Code.DESCRIPTION_VAGUE)
def _description_vague(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    return _piece(item, rng.randrange(len(item.contents)), description=rng.choice(VAGUE))


@_register(Code.TEXT_GARBAGE)
def _text_garbage(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    target = rng.choice(("description", "name", "city"))
    if target == "description":
        position = rng.randrange(len(item.contents))
        return _piece(item, position, description=rng.choice(GARBAGE_DESCRIPTIONS))
    if target == "name":
        return _party(item, "addressee", name=rng.choice(GARBAGE_NAMES))
    return _address(item, rng.choice(("addressee", "sender")), city=rng.choice(GARBAGE_CITIES))


@_register(Code.PHONE_FORMAT)
def _phone_format(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    role = rng.choice(("addressee", "sender"))
    party: Party = getattr(item, role) or Party()
    country = party.address.country if party.address and party.address.country else "DE"
    good = party.phone or e123_phone(country if is_country(country) else "DE", rng)
    calling_code, _, national = good[1:].partition(" ")
    digits = national.replace(" ", "")
    bad = rng.choice(
        (
            f"0{national}",  # national form, trunk prefix instead of +CC
            f"00{calling_code} {national}",  # international prefix instead of +
            f"+{calling_code}-{digits[:3]}-{digits[3:]}",  # hyphens
            f"+{calling_code} (0) {national}",  # the trunk zero in brackets
            f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",  # North American style
        )
    )
    return _party(item, role, phone=bad)


# ---------------------------------------------------------------- time and schema


@_register(Code.LATE_DATA, _postal)
def _late_data(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    posted = item.posting_datetime or where.prepared_at
    late = where.prepared_at - timedelta(hours=rng.randrange(LATE_AFTER_HOURS + 1, 240))
    return item.model_copy(update={"posting_datetime": late.astimezone(posted.tzinfo)})


@_register(Code.SCHEMA)
def _schema(item: DeclaredItem, rng: random.Random, where: Where) -> DeclaredItem:
    # Only values the XSD refuses but no rule looks at, so SCHEMA is the only finding.
    position = rng.randrange(len(item.contents))
    piece = item.contents[position]
    variant = rng.randrange(4)
    if variant == 0:
        return _piece(item, position, quantity=0)
    if variant == 1:
        return _piece(item, position, quantity=-rng.randrange(1, 4))
    if variant == 2 and piece.net_weight is not None:
        # a fourth decimal (0.1 g): the XSD allows 3; the total gross weight still covers it
        return _piece(item, position, net_weight=piece.net_weight + Decimal("0.0005"))
    blurb = (piece.description or "Gift set") + " - premium quality, free shipping, 30-day returns"
    while len(blurb) <= 200:
        blurb += ", ideal for home and office use"
    return _piece(item, position, description=blurb[:230].rstrip(" ,"))


# ---------------------------------------------------------------- message level


def bad_awb(awb: str, rng: random.Random) -> str:
    """`awb` (a valid NNN-NNNNNNNN) with a wrong check digit: AWB_CHECK_DIGIT."""
    right = int(awb[-1])
    wrong = rng.choice([d for d in range(10) if d != right])
    return f"{awb[:-1]}{wrong}"


# ---------------------------------------------------------------- planning


class DefectPlanner:
    """Picks which items get a defect (about `rate` of them) and which one.

    Classes are spread evenly: each defective item gets, among the classes its
    item and file kind can carry, one of those used least so far.
    """

    def __init__(self, *, enabled: bool, rate: float) -> None:
        self.enabled = enabled
        self.rate = rate
        self.counts: dict[Code, int] = dict.fromkeys(ITEM_DEFECTS, 0)

    def apply(self, item: DeclaredItem, rng: random.Random, where: Where) -> Injection | None:
        if not self.enabled or rng.random() >= self.rate:
            return None
        candidates = [d for d in ITEM_DEFECTS.values() if d.applies(item, where)]
        if not candidates:
            return None
        fewest = min(self.counts[d.code] for d in candidates)
        defect = rng.choice([d for d in candidates if self.counts[d.code] == fewest])
        self.counts[defect.code] += 1
        return defect.inject(item, rng, where)
