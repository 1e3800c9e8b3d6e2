"""What scenario injectors build with: the scene a scenario is drawn in, and helpers
that rebuild an item around new goods while keeping it valid.

A scenario must raise exactly the warnings it is labelled with, so every
rebuilt item gets its totals, gross weight, CN 22/CN 23 form, mail class and
currency made consistent again here, in one place.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from adapters.generator.catalogue import Product
from adapters.generator.defects import EXPRESS_KINDS
from adapters.generator.items import CN22_MAX_EUR, CN22_MAX_KG, SERVICES
from adapters.generator.output import FileKind
from messages.models import ContentPiece, DeclaredItem, Money, Party
from messages.rates import RateTable

CENT = Decimal("0.01")
GRAM = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Scene:
    """Where a scenario is drawn: the message's kind, route and time, how many items still
    fit (`room`), and the run's own means to draw a clean item of a category, a seller
    and a new buyer (one no clean item goes to), so a scenario item looks like its
    neighbours apart from its risk."""

    kind: FileKind
    origin: str
    destination: str
    prepared_at: datetime
    room: int
    rates: RateTable
    draw: Callable[[str | None], DeclaredItem]
    seller: Callable[[], Party]
    buyer: Callable[[], Party]
    #: The earliest posting time still inside the pre-loading limit at base time (None:
    #: unknown, parts then stay within SPLIT_SPREAD), and a new private sender in `origin`.
    earliest: datetime | None = None
    person: Callable[[], Party] | None = None

    @property
    def express(self) -> bool:
        return self.kind in EXPRESS_KINDS


def eur(amount: Decimal) -> Money:
    """Scenario goods are priced in EUR: value thresholds are EUR thresholds."""
    return Money(amount=amount.quantize(CENT), currency="EUR")


def unit_price(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A shop-like price in [low, high]: often x.99, otherwise to the cent."""
    raw = Decimal(str(round(rng.uniform(float(low), float(high)), 2)))
    shop = raw.to_integral_value(ROUND_DOWN) - CENT
    return shop if rng.random() < 0.5 and shop >= low else raw


def goods_line(
    rng: random.Random, scene: Scene, product: Product, quantity: int, value: Decimal
) -> ContentPiece:
    """One content piece of `product`, worth `value` EUR in total, made where such goods are."""
    low, high = product.weight_kg
    unit_kg = Decimal(str(round(rng.uniform(float(low), float(high)), 4)))
    if scene.origin in product.origins and rng.random() < 0.6:
        made_in = scene.origin
    else:
        made_in = rng.choice(product.origins)
    return ContentPiece(
        index=1,
        description=product.description,
        quantity=quantity,
        net_weight=max((unit_kg * quantity).quantize(GRAM), GRAM),
        value=eur(value),
        hs_code=product.hs_code + rng.choices(("", "00", "0000"), weights=(75, 15, 10))[0],
        origin_country=made_in,
    )


def regoods(
    item: DeclaredItem,
    pieces: Sequence[ContentPiece],
    scene: Scene,
    *,
    category: str = "SALE_OF_GOODS",
) -> DeclaredItem:
    """`item` holding `pieces` (EUR) instead of its own goods, with totals, weight, form and
    mail class made consistent again, so the only signal left is the scenario's."""
    numbered = [piece.model_copy(update={"index": n}) for n, piece in enumerate(pieces, 1)]
    total = sum((p.value.amount for p in numbered if p.value and p.value.amount), Decimal(0))
    net = sum((p.net_weight for p in numbered if p.net_weight), Decimal(0))
    gross = (net * Decimal("1.08") + Decimal("0.05")).quantize(GRAM, ROUND_HALF_UP)
    small = total <= CN22_MAX_EUR and gross <= CN22_MAX_KG
    form = "CN22" if small and not scene.express else "CN23"
    rebuilt = item.model_copy(
        update={
            "contents": numbered,
            "category": category,
            "category_explanation": None,
            "total_value": eur(total),
            "total_gross_weight": gross,
            "declaration_form": form,
            "insured_value": eur(total) if item.insured_value and form == "CN23" else None,
            "postal_charges": _charges_in_eur(item, scene.rates),
            "invoice_number": item.invoice_number if category == "SALE_OF_GOODS" else None,
        }
    )
    return _as_parcel(rebuilt) if form == "CN23" and item.mail_class == "U" else rebuilt


def _charges_in_eur(item: DeclaredItem, rates: RateTable) -> Money | None:
    """Postal charges in EUR: a CN 23 CSV or manifest has one currency per item."""
    charges = item.postal_charges
    if charges is None or charges.amount is None or charges.currency in (None, "EUR"):
        return charges
    day = item.posting_datetime.date() if item.posting_datetime else None
    in_eur = rates.to_eur(charges.amount, charges.currency, day) if day else None
    return None if in_eur is None else eur(max(in_eur, CENT))


def _as_parcel(item: DeclaredItem) -> DeclaredItem:
    """A letter-class (U) item grown into a CN 23 parcel: class C and a parcel S10 service
    indicator (the check digit covers only the serial, so it stays valid)."""
    item_id = item.item_id or ""
    service = SERVICES["C"][int(item_id[9]) % len(SERVICES["C"])] if len(item_id) == 13 else ""
    return item.model_copy(
        update={"mail_class": "C", "item_id": service + item_id[2:] if service else item.item_id}
    )


def listed_sale(
    scene: Scene,
    rng: random.Random,
    pick: Callable[[random.Random], Product],
    *,
    cover: float,
    catalogue: Sequence[Product],
) -> DeclaredItem:
    """A sale of one `pick`ed product, sometimes alongside an ordinary catalogue line as cover."""
    item = scene.draw("SALE_OF_GOODS")
    product = pick(rng)
    quantity = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    unit = unit_price(rng, *product.value_eur)
    pieces = [goods_line(rng, scene, product, quantity, unit * quantity)]
    if rng.random() < cover:
        ordinary = rng.choice(catalogue)
        pieces.append(goods_line(rng, scene, ordinary, 1, unit_price(rng, *ordinary.value_eur)))
        rng.shuffle(pieces)
    return regoods(item, pieces, scene)


def spread_posting(
    rng: random.Random, scene: Scene, posted: datetime, longest: timedelta
) -> datetime:
    """A posting time up to `longest` before the message is prepared, never earlier than
    the pre-loading limit allows (`scene.earliest`), so a spread part is not LATE_DATA."""
    latest = scene.prepared_at - timedelta(hours=1)
    earliest = scene.earliest or posted - timedelta(hours=2)
    low = max(earliest, latest - longest)
    seconds = max(int((latest - low).total_seconds()), 1)
    return (low + timedelta(seconds=rng.randrange(seconds))).astimezone(posted.tzinfo)


def with_piece(item: DeclaredItem, position: int, **changes: object) -> DeclaredItem:
    """`item` with one content piece changed (models are frozen)."""
    contents = list(item.contents)
    contents[position] = contents[position].model_copy(update=changes)
    return item.model_copy(update={"contents": contents})


def units_for(
    rng: random.Random, target: Decimal, quantities: Sequence[int], goods: Sequence[Product]
) -> tuple[Product, int, Decimal]:
    """A product, a quantity and an in-range unit price whose line value is just under `target`."""
    for _ in range(500):
        product = rng.choice(goods)
        quantity = rng.choice(quantities)
        unit = (target / quantity).quantize(CENT, ROUND_DOWN)
        if product.value_eur[0] <= unit <= product.value_eur[1]:
            return product, quantity, unit
    raise RuntimeError(f"no catalogue product fits {target} EUR")  # pragma: no cover


# ---------------------------------------------------------------- data quality


def national_phone(good: str, rng: random.Random) -> str:
    """`good` ("+86 1327 684 2684") as clerks write it: "0086 ...", "0...", or hyphenated."""
    calling_code, _, national = good[1:].partition(" ")
    digits = national.replace(" ", "")
    return rng.choice(
        (
            f"00{calling_code} {national}",
            f"0{national}",
            f"+{calling_code}-{digits[:3]}-{digits[3:]}",
        )
    )


def few_eur_off(
    item: DeclaredItem, lines: Decimal, currency: str, rates: RateTable, rng: random.Random
) -> Decimal:
    """A signed difference worth 2-8 EUR, at most 20 % of the lines, always above the
    rulebook's rounding tolerance of one cent per line."""
    day = item.posting_datetime.date() if item.posting_datetime else None
    off_eur = Decimal(rng.randrange(200, 801)) / 100
    off = rates.convert(off_eur, "EUR", currency, day) if day and currency != "EUR" else off_eur
    off = min(off or off_eur, lines / 5).quantize(CENT, ROUND_DOWN)
    off = max(off, CENT * (len(item.contents) + 2))
    return off if rng.random() < 0.5 else -off
