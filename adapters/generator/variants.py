"""Adversarial variant families of the risk scenarios, and clean false-positive traps.

A plain scenario spells its risk one way ("Rolex Submariner men's watch"), so
a keyword rule scores perfectly on it and fails on real traffic, where sellers
misspell brands, write in their own language, name dangerous goods by what
they are used for, and split orders over names and shops that only look
different. Each family here builds such items from a clean draw of the run
and states its expected warnings (none unless said); the label's `variant`
names the family, so detection can be scored per family. Traps go the other
way: clean goods a naive keyword rule would flag. Sources per family are in
variant_goods.py; linked parties follow the European Court of Auditors,
special report 12/2019 (split orders, sales declared as gifts), and the EU
VAT e-commerce rules (Directive 2017/2455: gift relief is for private persons
only; an IOSS number belongs to a seller, not to a private gift sender).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from anyascii import anyascii

from adapters.generator.catalogue import CATALOGUE, Product
from adapters.generator.defects import EXPRESS_KINDS
from adapters.generator.geography import EU_DESTINATIONS
from adapters.generator.parties import NAME_MAX, fit
from adapters.generator.scenario_base import (
    CENT,
    GRAM,
    Scene,
    eur,
    goods_line,
    listed_sale,
    regoods,
    spread_posting,
    unit_price,
    units_for,
)
from adapters.generator.scenario_goods import COUNTERFEIT_GOODS
from adapters.generator.scenario_parties import with_legal_form
from adapters.generator.variant_goods import (
    CATALOGUE_LANGUAGE,
    COUNTERFEIT_LANGUAGE,
    COUNTERFEIT_MISSPELT,
    DANGEROUS_INDIRECT,
    DANGEROUS_LANGUAGE,
    DANGEROUS_MISSPELT,
    DOCUMENT_WORDS,
    IMITATION_CODES,
    MEDICINE_CODES,
    MEDICINE_WORDS,
    OPIOID_LANGUAGE,
    OPIOID_MISSPELT,
    PRECIOUS_JEWELLERY,
    REPLICA_MARKERS,
    TRAP_GOODS,
    WILDLIFE_LANGUAGE,
    WILDLIFE_MISSPELT,
)
from messages.findings import Code
from messages.models import ContentPiece, DeclaredItem, Party

NONE: frozenset[Code] = frozenset()
Built = tuple[list[DeclaredItem], frozenset[Code]]
Build = Callable[[Scene, random.Random], Built]
Fits = Callable[[Scene], bool]
PLAIN = "plain"
HELD_OUT_FAMILY = "held_out"
#: Clean item draws that become traps (only with scenarios enabled).
TRAP_RATE = 0.03
#: Split parts and fanned-out gifts are posted over up to this long (within the 72 h limit).
LINKED_SPREAD = timedelta(days=5)


def _always(scene: Scene) -> bool:
    return True


def _postal(scene: Scene) -> bool:
    """CN 22 forms, insured values and invoice numbers exist in postal data only."""
    return scene.kind not in EXPRESS_KINDS


@dataclass(frozen=True, slots=True)
class Family:
    """One adversarial family of a class: `make` builds it where `fits` allows."""

    name: str
    make: Build
    fits: Fits = _always


def _by_language(table: dict[str, tuple[Product, ...]]) -> Callable[[random.Random], Product]:
    languages = sorted(table)

    def pick(rng: random.Random) -> Product:
        return rng.choice(table[rng.choice(languages)])

    return pick


def _from(goods: Sequence[Product]) -> Callable[[random.Random], Product]:
    def pick(rng: random.Random) -> Product:
        return rng.choice(goods)

    return pick


def _listed(pick: Callable[[random.Random], Product]) -> Build:
    def make(scene: Scene, rng: random.Random) -> Built:
        return [listed_sale(scene, rng, pick, cover=0.3, catalogue=CATALOGUE)], NONE

    return make


# ---------------------------------------------------------------- counterfeit


def _replica(rng: random.Random) -> Product:
    """A misspelt or abbreviated brand, or the brand itself with a replica marker; a
    marker is added to some misspelt listings too (OECD/EUIPO 2018)."""
    if rng.random() < 0.3:
        product, marked = rng.choice(COUNTERFEIT_GOODS), True
    else:
        product, marked = rng.choice(COUNTERFEIT_MISSPELT), rng.random() < 0.3
    if not marked:
        return product
    marker = rng.choice(REPLICA_MARKERS)
    text = (
        f"{product.description}, {marker}"
        if rng.random() < 0.6
        else f"{marker} {product.description}"
    )
    return Product(
        product.group, text, product.hs_code, product.value_eur, product.weight_kg, product.origins
    )


# ---------------------------------------------------------------- opioids


def _opioid(pick: Callable[[random.Random], Product]) -> Build:
    """As the plain class: one line of 5-80 EUR, two units when they stay under 80 EUR."""

    def make(scene: Scene, rng: random.Random) -> Built:
        item = scene.draw("SALE_OF_GOODS")
        product = pick(rng)
        unit = unit_price(rng, *product.value_eur)
        quantity = 2 if unit * 2 <= 80 and rng.random() < 0.3 else 1
        line = goods_line(rng, scene, product, quantity, unit * quantity)
        return [regoods(item, [line], scene)], NONE

    return make


# ---------------------------------------------------------------- hs_mismatch


def _precious(scene: Scene, rng: random.Random) -> Built:
    """Hallmarked gold, silver or platinum (7113) declared as imitation jewellery (7117),
    at a precious-metal price: the duty rate or a licence is avoided."""
    item = scene.draw("SALE_OF_GOODS")
    product = rng.choice(PRECIOUS_JEWELLERY)
    quantity = rng.choices((1, 2), weights=(85, 15))[0]
    line = goods_line(rng, scene, product, quantity, unit_price(rng, *product.value_eur) * quantity)
    code = rng.choice(IMITATION_CODES) + (line.hs_code or "")[6:]
    return [regoods(item, [line.model_copy(update={"hs_code": code})], scene)], NONE


def _foreign_mismatch(scene: Scene, rng: random.Random) -> Built:
    """Catalogue goods described in another language under another chapter's code."""
    item = scene.draw("SALE_OF_GOODS")
    product = _by_language(CATALOGUE_LANGUAGE)(rng)
    other = rng.choice(
        [p for p in CATALOGUE if p.group != product.group and p.hs_code[:2] != product.hs_code[:2]]
    )
    quantity = rng.choices((1, 2), weights=(80, 20))[0]
    line = goods_line(rng, scene, product, quantity, unit_price(rng, *product.value_eur) * quantity)
    code = other.hs_code + (line.hs_code or "")[6:]
    return [regoods(item, [line.model_copy(update={"hs_code": code})], scene)], NONE


# ---------------------------------------------------------------- linked parties

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
_SPELLINGS = ("transliterated", "stripped", "reversed", "initial", "upper")


def name_spelling(name: str, kind: str) -> str:
    """`name` as another clerk or shop writes it: "Mueller", "Muller", "Müller Anna",
    "A. Müller", "ANNA MÜLLER" (German umlaut transliteration, DIN 5007-2)."""
    words = name.split()
    if kind == "transliterated":
        return "".join(_UMLAUTS.get(ch, ch) for ch in name)
    if kind == "stripped":
        return str(anyascii(name))
    if kind == "reversed" and len(words) >= 2:
        return " ".join([words[-1], *words[:-1]])
    if kind == "initial" and len(words) >= 2:
        return f"{words[0][0]}. {' '.join(words[1:])}"
    return name.upper()


def _respelt(party: Party, rng: random.Random, used: set[str]) -> Party:
    """`party` under a spelling of its name not `used` yet (when one is left)."""
    name = party.name or ""
    options = [s for k in _SPELLINGS if (s := name_spelling(name, k)) not in used]
    spelt = rng.choice(options) if options else name
    used.add(spelt)
    return party.model_copy(update={"name": fit(spelt, NAME_MAX)})


def _shops(scene: Scene, first: Party, count: int, rng: random.Random) -> list[Party]:
    """`count` shop names behind one warehouse: the same street address, or the same phone."""
    shops = [first]
    share_phone = first.phone is not None and rng.random() < 0.4
    names = {first.business_name}
    for _ in range(count * 5):
        if len(shops) == count:
            break
        other = scene.seller()
        if other.business_name in names:
            continue
        names.add(other.business_name)
        shared = {"phone": first.phone} if share_phone else {"address": first.address}
        shops.append(other.model_copy(update=shared))
    return shops


def _linked_split(scene: Scene, rng: random.Random) -> Built:
    """A split order whose links are hidden: the buyer's name spelt differently per part
    and/or 2-3 shop names sharing a warehouse address or phone, posted over days
    (as far as the 72 h pre-loading limit lets parts of one message be apart);
    sometimes just two parts, each under 150 EUR, together over it."""
    pair = rng.random() < 0.3
    size = 2 if pair else min(rng.randint(3, 5), scene.room)
    mode = rng.choice(("buyer", "shops", "both"))
    buyer = scene.buyer()
    first = scene.draw("SALE_OF_GOODS")
    assert first.sender is not None and first.posting_datetime is not None
    shops = (
        _shops(scene, first.sender, min(rng.randint(2, 3), size), rng)
        if mode != "buyer"
        else [first.sender]
    )
    used = {buyer.name or ""}
    parts = []
    for n in range(size):
        base = first if n == 0 else scene.draw("SALE_OF_GOODS")
        posted = first.posting_datetime
        when = (
            posted if n == 0 or scene.express else spread_posting(rng, scene, posted, LINKED_SPREAD)
        )
        addressee = buyer if n == 0 or mode == "shops" else _respelt(buyer, rng, used)
        base = base.model_copy(
            update={
                "sender": shops[n % len(shops)],
                "addressee": addressee,
                "posting_datetime": when,
            }
        )
        target = Decimal(rng.randrange(7_600 if pair else 6_000, 14_900)) / 100
        product, quantity, unit = units_for(rng, target, (1, 2, 3, 4), CATALOGUE)
        line = goods_line(rng, scene, product, quantity, unit * quantity)
        parts.append(regoods(base, [line], scene))
    return parts, NONE


def _private(scene: Scene, fallback: Party | None) -> Party:
    """A new private person in the origin country (no business name)."""
    person = scene.person() if scene.person is not None else fallback or Party()
    return person.model_copy(update={"business_name": None})


def _tax_number(scene: Scene, rng: random.Random) -> str:
    """An IOSS number (IM + member state + 7 digits) or a VAT number of the origin."""
    if rng.random() < 0.6:
        state = rng.choice(("276", "528", "372", "250", "380", "724", "056", "442"))
        return f"IM{state}{rng.randrange(10**7):07d}"
    return f"{scene.origin}{rng.randrange(10**9):09d}"


def _gift_invoice(scene: Scene, rng: random.Random) -> list[DeclaredItem]:
    """(a) One invoice number on 2-4 gifts from one private sender to different people."""
    count = rng.randint(2, min(4, scene.room))
    first = scene.draw("GIFT")
    sender = _private(scene, first.sender)
    assert first.posting_datetime is not None
    invoice = f"INV-{first.posting_datetime:%Y}-{rng.randrange(10**6):06d}"
    return [
        (first if n == 0 else scene.draw("GIFT")).model_copy(
            update={"sender": sender, "addressee": scene.buyer(), "invoice_number": invoice}
        )
        for n in range(count)
    ]


def _gift_tax_id(scene: Scene, rng: random.Random) -> list[DeclaredItem]:
    """(b) A private gift sender carrying a seller's tax or IOSS number."""
    item = scene.draw("GIFT")
    sender = _private(scene, item.sender).model_copy(update={"tax_id": _tax_number(scene, rng)})
    return [item.model_copy(update={"sender": sender})]


def _gift_fan_out(scene: Scene, rng: random.Random) -> list[DeclaredItem]:
    """(c) One private sender gifting to 4-8 unrelated people within a few days."""
    count = rng.randint(4, min(8, scene.room))
    first = scene.draw("GIFT")
    sender = _private(scene, first.sender)
    assert first.posting_datetime is not None
    gifts = []
    for n in range(count):
        base = first if n == 0 else scene.draw("GIFT")
        posted = base.posting_datetime or first.posting_datetime
        when = (
            posted
            if n == 0 or scene.express
            else spread_posting(rng, scene, first.posting_datetime, LINKED_SPREAD)
        )
        gifts.append(
            base.model_copy(
                update={"sender": sender, "addressee": scene.buyer(), "posting_datetime": when}
            )
        )
    return gifts


def _linked_gift(scene: Scene, rng: random.Random) -> Built:
    """A sale declared as gifts, given away by the links between parcels, not the parcel."""
    options: list[Callable[[Scene, random.Random], list[DeclaredItem]]] = []
    if _postal(scene) and scene.room >= 2:
        options.append(_gift_invoice)
    if scene.kind != "cn23-csv":  # the CN 23 CSV has no tax id column
        options.append(_gift_tax_id)
    if scene.room >= 4:
        options.append(_gift_fan_out)
    return rng.choice(options)(scene, rng), NONE


def _linked_gift_fits(scene: Scene) -> bool:
    return (_postal(scene) and scene.room >= 2) or scene.kind != "cn23-csv" or scene.room >= 4


# ---------------------------------------------------------------- category_abuse


def _documents(scene: Scene, rng: random.Random) -> Built:
    """DOCUMENTS of 0.5-3 kg, insured, from a business to a private person: papers are
    light and worth nothing to insure, so goods travel under the document category."""
    item = scene.draw("DOCUMENTS")
    kg = Decimal(rng.randrange(500, 3001)) * GRAM
    piece = ContentPiece(
        index=1,
        description=rng.choice(DOCUMENT_WORDS),
        quantity=1,
        net_weight=kg,
        value=eur(CENT * 0),
    )
    rebuilt = regoods(item, [piece], scene, category="DOCUMENTS")
    insured = eur(Decimal(rng.randrange(5_000, 50_001)) / 100)
    sender = with_legal_form(scene.seller(), scene.origin)
    return [rebuilt.model_copy(update={"insured_value": insured, "sender": sender})], NONE


#: Light, pricey catalogue goods: a few of them exceed the CN 22 limit and still weigh < 2 kg.
_CN22_GOODS = tuple(
    p for p in CATALOGUE if p.value_eur[1] >= 150 and p.weight_kg[1] <= Decimal("0.3")
)


def _cn22_business(scene: Scene, rng: random.Random) -> Built:
    """A shop's sale of 450-900 EUR on a CN 22, which is for up to 300 SDR (UPU Letter Post
    Regulations): the rulebook warns CN22_OVER_LIMIT, and a CN 22 carries less detail."""
    item = scene.draw("SALE_OF_GOODS")
    target = Decimal(rng.randrange(45_000, 90_000)) / 100
    product, quantity, unit = units_for(rng, target, (1, 2, 3, 4), _CN22_GOODS)
    line = goods_line(rng, scene, product, quantity, unit * quantity)
    rebuilt = regoods(item, [line], scene).model_copy(
        update={"declaration_form": "CN22", "insured_value": None}
    )
    sender = with_legal_form(rebuilt.sender or scene.seller(), scene.origin)
    return [rebuilt.model_copy(update={"sender": sender})], frozenset({Code.CN22_OVER_LIMIT})


def _medicine(scene: Scene, rng: random.Random) -> Built:
    """Lines described only as "Medicine", "Pills" (or a translation) under HS 3004, to a
    private person: prescription drugs and controlled substances hide in that word."""
    category = "SALE_OF_GOODS" if scene.express or rng.random() < 0.7 else "GIFT"
    item = scene.draw(category)
    pieces = []
    for _ in range(rng.choices((1, 2), weights=(75, 25))[0]):
        product = Product(
            "medicine",
            rng.choice(MEDICINE_WORDS),
            rng.choice(MEDICINE_CODES),
            (Decimal(8), Decimal(20) if category == "GIFT" else Decimal(60)),
            (Decimal("0.03"), Decimal("0.30")),
            ("IN", "CN", "TR", "US", "DE"),
        )
        pieces.append(goods_line(rng, scene, product, 1, unit_price(rng, *product.value_eur)))
    return [regoods(item, pieces, scene, category=category)], NONE


# ---------------------------------------------------------------- the families

FAMILIES: dict[str, tuple[Family, ...]] = {
    "counterfeit": (
        Family("misspelt", _listed(_replica)),
        Family("language", _listed(_by_language(COUNTERFEIT_LANGUAGE))),
    ),
    "dangerous_goods": (
        Family("misspelt", _listed(_from(DANGEROUS_MISSPELT))),
        Family("language", _listed(_by_language(DANGEROUS_LANGUAGE))),
        Family("indirect", _listed(_from(DANGEROUS_INDIRECT))),
    ),
    "wildlife": (
        Family("misspelt", _listed(_from(WILDLIFE_MISSPELT))),
        Family("language", _listed(_by_language(WILDLIFE_LANGUAGE))),
    ),
    "opioids": (
        Family("misspelt", _opioid(_from(OPIOID_MISSPELT))),
        Family("language", _opioid(_by_language(OPIOID_LANGUAGE))),
    ),
    "hs_mismatch": (Family("precious", _precious), Family("language", _foreign_mismatch)),
    "splitting": (Family("linked_party", _linked_split),),
    "gift_misdeclaration": (Family("linked_party", _linked_gift, _linked_gift_fits),),
    "category_abuse": (
        Family("documents", _documents, _postal),
        Family("cn22_business", _cn22_business, _postal),
        Family("medicine_private", _medicine),
    ),
}
#: Classes whose every draw is one of their families (no plain spelling exists).
NO_PLAIN = frozenset({"category_abuse"})


# ---------------------------------------------------------------- traps


def _trap_goods(table: Callable[[random.Random], Product]) -> Build:
    """A sale of trap goods (1-2 units, catalogue-like), sometimes with a catalogue line,
    its total kept out of the EU threshold band like clean goods (items.py)."""

    def make(scene: Scene, rng: random.Random) -> Built:
        item = scene.draw("SALE_OF_GOODS")
        for _ in range(50):
            product = table(rng)
            quantity = rng.choices((1, 2), weights=(80, 20))[0]
            pieces = [
                goods_line(
                    rng, scene, product, quantity, unit_price(rng, *product.value_eur) * quantity
                )
            ]
            if rng.random() < 0.3:
                ordinary = rng.choice(CATALOGUE)
                pieces.append(
                    goods_line(rng, scene, ordinary, 1, unit_price(rng, *ordinary.value_eur))
                )
            total = sum((p.value.amount for p in pieces if p.value and p.value.amount), Decimal(0))
            if scene.destination not in EU_DESTINATIONS or not Decimal(130) <= total < Decimal(152):
                break
        return [regoods(item, pieces, scene)], NONE

    return make


def _household(scene: Scene, rng: random.Random) -> Built:
    """Two people at one address, each receiving ordinary goods from a different shop."""
    first, second = scene.buyer(), scene.buyer()
    second = second.model_copy(update={"address": first.address})
    one = scene.draw("SALE_OF_GOODS")
    two = scene.draw("SALE_OF_GOODS")
    for _ in range(5):
        if two.sender != one.sender:
            break
        two = scene.draw("SALE_OF_GOODS")
    return [
        one.model_copy(update={"addressee": first}),
        two.model_copy(update={"addressee": second}),
    ], NONE


def _has_two(scene: Scene) -> bool:
    return scene.room >= 2


TRAPS: tuple[Family, ...] = (
    *(Family(kind, _trap_goods(_from(goods))) for kind, goods in TRAP_GOODS.items()),
    Family("trap_language", _trap_goods(_by_language(CATALOGUE_LANGUAGE))),
    Family("trap_household", _household, _has_two),
)


def stage_trap(scene: Scene, rng: random.Random) -> tuple[str, list[DeclaredItem]]:
    """A clean trap: its kind and item(s), which must raise no warning."""
    trap = rng.choice([t for t in TRAPS if t.fits(scene)])
    items, _ = trap.make(scene, rng)
    return trap.name, items
