"""Risk scenarios: items that pass validation but carry a risk the risk engine must find.

A defect (defects.py) breaks the data; a scenario keeps the data well formed
and plants a customs risk instead, so risk rules can be scored against
ground truth the way validation is. Each injector builds its item(s) from a
clean draw of the same run (same pools, identifiers, timeline) and states the
validation warnings the item must raise, usually none. Class names are exact:
the risk engine's rules are tagged with them. Public sources per class:

* undervaluation, threshold_value, splitting, gift_misdeclaration: European
  Court of Auditors, special report 12/2019 "E-commerce: many of the
  challenges of collecting VAT and customs duties remain to be resolved"
  (values under the 150 EUR duty threshold, orders split, sales declared as gifts).
* vague_description: PACT / ICS2 guidance on unacceptable goods descriptions
  ("goods", "gift", "parts" and similar stop words).
* hs_mismatch: the same ECA report on misclassification, and the EU ICS2
  requirement that the 6-digit HS code matches the description.
* dangerous_goods: UPU Convention art. 19 and the UPU/ICAO 2013 lithium rule.
* counterfeit: OECD/EUIPO (2018) "Misuse of small parcels for trade in counterfeit goods".
* wildlife: CITES seizures in parcels at Frankfurt airport (oxpeckers.org, 2019).
* opioids: US CBP Strategy to Combat Opioids (2019) on pill presses and dies.
* watchlist: EU consolidated financial sanctions list / OFAC SDN screening
  practice, with spelling variants (watchlist.py).
* high_risk_route: EU sanctions Regulations 833/2014 (RU) and 765/2006 (BY),
  goods re-routed via transit countries.
* late_data: the 72 h pre-loading rule of the rulebook (LATE_DATA).
* data_quality: E.123 phones and totals that disagree with their lines.
* category_abuse: UPU Convention art. 20 and Letter Post Regulations (CN 22 up
  to 300 SDR, item categories), EU VAT e-commerce rules on private imports of
  medicines; goods declared as DOCUMENTS or "Medicine" to escape a look.

Most classes also have adversarial variant families (variants.py) and some a
held-out one (held_out.py); every draw's label names its family.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from adapters.generator.catalogue import CATALOGUE, Product
from adapters.generator.geography import EU_DESTINATIONS
from adapters.generator.held_out import HELD_OUT
from adapters.generator.parties import e123_phone
from adapters.generator.scenario_base import (
    CENT,
    Scene,
    few_eur_off,
    goods_line,
    listed_sale,
    national_phone,
    regoods,
    unit_price,
    units_for,
    with_piece,
)
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
from adapters.generator.scenario_parties import transit_trader, watchlist_party, with_legal_form
from adapters.generator.variants import (
    FAMILIES,
    HELD_OUT_FAMILY,
    NO_PLAIN,
    PLAIN,
    TRAP_RATE,
    stage_trap,
)
from adapters.generator.watchlist import WATCHLIST
from messages.findings import Code
from messages.models import DeclaredItem, Party

NONE: frozenset[Code] = frozenset()
LATE_HOURS = (80, 200)
SPLIT_PARTS = (3, 5)
#: The parts of a split order are posted within this long of each other.
SPLIT_SPREAD = timedelta(hours=2)
_BY_DESCRIPTION = {product.description: product for product in CATALOGUE}
#: Goods worth undervaluing (3-12 % of 20 EUR is still a declared amount, not cents).
_PRICEY = tuple(p for p in CATALOGUE if p.value_eur[0] >= 20)
#: Goods of which a few units are worth 1.6 times 150 EUR.
_THRESHOLD_GOODS = tuple(p for p in CATALOGUE if p.value_eur[0] >= 40)


@dataclass(frozen=True, slots=True)
class Staged:
    """The items of one scenario draw (3-5 for splitting) and the warning codes each raises;
    `variant` is its family ("plain", "misspelt", ...). A clean trap has `scenario` None
    and a `trap_*` variant (staged, so it gets no defect)."""

    scenario: str | None
    items: tuple[DeclaredItem, ...]
    expected: tuple[str, ...]
    variant: str | None = None


Make = Callable[[Scene, random.Random], tuple[list[DeclaredItem], frozenset[Code]]]
Applies = Callable[[Scene], bool]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One class: `make` builds its item(s) and expected codes where `applies` allows."""

    name: str
    make: Make
    applies: Applies


#: The registry, in a fixed order (draws pick by position).
SCENARIOS: dict[str, Scenario] = {}


def _always(scene: Scene) -> bool:
    return True


def _register(name: str, applies: Applies = _always) -> Callable[[Make], Make]:
    def decorate(fn: Make) -> Make:
        SCENARIOS[name] = Scenario(name, fn, applies)
        return fn

    return decorate


class ScenarioPlanner:
    """Turns about `rate` of the item draws into scenarios, the class uniform among those
    the scene can carry. Disabled, it never touches the rng (clean runs stay byte-identical)."""

    def __init__(self, *, enabled: bool, rate: float) -> None:
        self.enabled = enabled
        self.rate = rate

    def wants(self, rng: random.Random) -> bool:
        return self.enabled and rng.random() < self.rate

    def wants_trap(self, rng: random.Random) -> bool:
        """About TRAP_RATE of the clean draws become traps; never when disabled."""
        return self.enabled and rng.random() < TRAP_RATE

    def stage(self, scene: Scene, rng: random.Random) -> Staged:
        scenario = rng.choice([s for s in SCENARIOS.values() if s.applies(scene)])
        family = pick_family(scenario.name, scene, rng)
        if family == PLAIN:
            items, expected = scenario.make(scene, rng)
        elif family == HELD_OUT_FAMILY:
            items, expected = HELD_OUT[scenario.name](scene, rng)
        else:
            chosen = next(f for f in FAMILIES[scenario.name] if f.name == family)
            items, expected = chosen.make(scene, rng)
        codes = tuple(sorted(c.value for c in expected))
        return Staged(scenario.name, tuple(items), codes, family)

    def trap(self, scene: Scene, rng: random.Random) -> Staged:
        """A clean item (or two) that a naive keyword or party rule would flag."""
        kind, items = stage_trap(scene, rng)
        return Staged(None, tuple(items), (), kind)


def pick_family(name: str, scene: Scene, rng: random.Random) -> str:
    """About 40 % plain, 50 % one of the class's families that fit the scene, 10 %
    held-out where the class has one (plain takes the held-out share otherwise)."""
    families = [f.name for f in FAMILIES.get(name, ()) if f.fits(scene)]
    if name in NO_PLAIN:
        return rng.choice(families)
    if not families and name not in HELD_OUT:
        return PLAIN
    draw = rng.random()
    if name in HELD_OUT and draw < 0.1:
        return HELD_OUT_FAMILY
    if draw < 0.5 or not families:
        return PLAIN
    return rng.choice(families)


# ---------------------------------------------------------------- value fraud


@_register("undervaluation")
def _undervaluation(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Declared at 3-12 % of the catalogue's lowest unit price: duty and VAT evaded."""
    item = scene.draw("SALE_OF_GOODS")
    product = rng.choice(_PRICEY)
    quantity = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    share = Decimal(rng.randrange(300, 1201)) / 10_000
    value = max((product.value_eur[0] * quantity * share).quantize(CENT, ROUND_DOWN), CENT)
    return [regoods(item, [goods_line(rng, scene, product, quantity, value)], scene)], NONE


def _to_eu(scene: Scene) -> bool:
    return scene.destination in EU_DESTINATIONS


@_register("threshold_value", _to_eu)
def _threshold_value(
    scene: Scene, rng: random.Random
) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Declared just under the 150 EUR duty relief for goods worth at least 1.6 times that."""
    item = scene.draw("SALE_OF_GOODS")
    declared = Decimal(rng.randrange(13_500, 15_000)) / 100
    product = rng.choice(_THRESHOLD_GOODS)
    quantity = math.ceil(Decimal("1.6") * declared / product.value_eur[0]) + rng.randrange(2)
    return [regoods(item, [goods_line(rng, scene, product, quantity, declared)], scene)], NONE


def _has_room_for_a_split(scene: Scene) -> bool:
    return scene.room >= SPLIT_PARTS[0]


@_register("splitting", _has_room_for_a_split)
def _splitting(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """One order of more than 150 EUR sent as 3-5 items of 60-149 EUR each, same seller and
    buyer, posted within two hours: each part alone stays under the duty relief. The buyer
    is new, so only the parts count in the windows."""
    size = min(rng.randint(*SPLIT_PARTS), scene.room)
    buyer = scene.buyer()
    first = scene.draw("SALE_OF_GOODS")
    posted = first.posting_datetime
    assert posted is not None
    parts = []
    for n in range(size):
        base = first if n == 0 else scene.draw("SALE_OF_GOODS")
        when = (
            posted
            if n == 0 or scene.express
            else posted - timedelta(seconds=rng.randrange(int(SPLIT_SPREAD.total_seconds())))
        )
        base = base.model_copy(
            update={"sender": first.sender, "addressee": buyer, "posting_datetime": when}
        )
        target = Decimal(rng.randrange(6_000, 14_900)) / 100
        product, quantity, unit = units_for(rng, target, (1, 2, 3, 4), CATALOGUE)
        parts.append(
            regoods(base, [goods_line(rng, scene, product, quantity, unit * quantity)], scene)
        )
    return parts, NONE


@_register("gift_misdeclaration")
def _gift_misdeclaration(
    scene: Scene, rng: random.Random
) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """A shop's sale declared as a GIFT (gifts between private persons are relieved): a
    business sender and several identical units give it away."""
    item = scene.draw("GIFT")
    target = Decimal(rng.randrange(5_100, 14_000)) / 100
    product, quantity, unit = units_for(rng, target, range(3, 9), CATALOGUE)
    piece = goods_line(rng, scene, product, quantity, unit * quantity)
    gift = regoods(item, [piece], scene, category="GIFT")
    return [gift.model_copy(update={"sender": with_legal_form(scene.seller(), scene.origin)})], NONE


# ---------------------------------------------------------------- description and classification


@_register("vague_description")
def _vague_description(
    scene: Scene, rng: random.Random
) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """One line described by a stop word only; HS code and values stay real."""
    category = "SALE_OF_GOODS" if scene.express else rng.choice(("SALE_OF_GOODS", "GIFT"))
    item = scene.draw(category)
    position = rng.randrange(len(item.contents))
    product = _BY_DESCRIPTION.get(item.contents[position].description or "")
    words = VAGUE_BY_GROUP.get(product.group, ()) if product else ()
    words += VAGUE_GENERIC + (("Gift", "Present") if category == "GIFT" else ())
    return [with_piece(item, position, description=rng.choice(words))], frozenset(
        {Code.DESCRIPTION_VAGUE}
    )


@_register("hs_mismatch")
def _hs_mismatch(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """A real HS code of another chapter under an unchanged description (lower duty rate,
    or goods kept away from a prohibition)."""
    item = scene.draw("SALE_OF_GOODS")
    position = rng.randrange(len(item.contents))
    piece = item.contents[position]
    product = _BY_DESCRIPTION[piece.description or ""]
    other = rng.choice(
        [p for p in CATALOGUE if p.group != product.group and p.hs_code[:2] != product.hs_code[:2]]
    )
    code = other.hs_code + (piece.hs_code or "")[6:]
    return [with_piece(item, position, hs_code=code)], NONE


# ---------------------------------------------------------------- prohibited and restricted goods


def _listed(
    scene: Scene, rng: random.Random, goods: Sequence[Product], *, cover: float
) -> DeclaredItem:
    """A sale of one of `goods`, sometimes alongside an ordinary catalogue line as cover."""
    return listed_sale(scene, rng, lambda r: r.choice(goods), cover=cover, catalogue=CATALOGUE)


@_register("dangerous_goods")
def _dangerous_goods(
    scene: Scene, rng: random.Random
) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Loose lithium cells, power banks, vapes, lighter gas, aerosols: refused by posts."""
    return [_listed(scene, rng, DANGEROUS_GOODS, cover=0.3)], NONE


@_register("counterfeit")
def _counterfeit(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Famous brands at 4-25 EUR a unit: the price gives the fake away."""
    return [_listed(scene, rng, COUNTERFEIT_GOODS, cover=0.3)], NONE


@_register("wildlife")
def _wildlife(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """CITES-listed animals and their parts, declared as ordinary goods."""
    return [_listed(scene, rng, WILDLIFE_GOODS, cover=0.3)], NONE


@_register("opioids")
def _opioids(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Pill presses, dies, precursors and tablets at 5-80 EUR declared."""
    item = scene.draw("SALE_OF_GOODS")
    product = rng.choice(OPIOID_GOODS)
    unit = unit_price(rng, *product.value_eur)
    quantity = 2 if unit * 2 <= 80 and rng.random() < 0.3 else 1
    return [
        regoods(item, [goods_line(rng, scene, product, quantity, unit * quantity)], scene)
    ], NONE


# ---------------------------------------------------------------- parties and routes


@_register("watchlist")
def _watchlist(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Sent by a (fictional) listed person or company, under a variant of the listed name."""
    entry = rng.choice(WATCHLIST)
    personal = entry.kind == "person" and not scene.express and rng.random() < 0.4
    item = scene.draw("GIFT" if personal else "SALE_OF_GOODS")
    sender, _variant = watchlist_party(entry, rng)
    return [item.model_copy(update={"sender": sender})], NONE


@_register("high_risk_route")
def _high_risk_route(
    scene: Scene, rng: random.Random
) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Goods of sanctioned origin re-exported by a trader in a transit country."""
    item = scene.draw("SALE_OF_GOODS")
    origin = rng.choice(HIGH_RISK_ORIGINS)
    contents = [piece.model_copy(update={"origin_country": origin}) for piece in item.contents]
    sender = transit_trader(rng.choice(TRANSIT_COUNTRIES), rng)
    return [item.model_copy(update={"contents": contents, "sender": sender})], NONE


# ---------------------------------------------------------------- timing and data quality


def _postal(scene: Scene) -> bool:
    """Express manifests have one departure time for all shipments: no single late item."""
    return not scene.express


@_register("late_data", _postal)
def _late_data(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Data sent 80-200 h after posting: past the 72 h limit, too late for pre-loading risk."""
    item = scene.draw(None)
    posted = item.posting_datetime
    assert posted is not None
    low, high = LATE_HOURS
    late = scene.prepared_at - timedelta(seconds=rng.randrange(low * 3600, high * 3600 + 1))
    return [item.model_copy(update={"posting_datetime": late.astimezone(posted.tzinfo)})], (
        frozenset({Code.LATE_DATA})
    )


@_register("data_quality")
def _data_quality(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """A sender phone in national form and a total a few EUR off its lines: careless data,
    the kind that correlates with careless (or evasive) declarants."""
    item = scene.draw("SALE_OF_GOODS")
    sender = item.sender or Party()
    country = sender.address.country if sender.address and sender.address.country else "CN"
    phone = national_phone(sender.phone or e123_phone(country, rng), rng)
    total = item.total_value
    assert total is not None and total.amount is not None and total.currency is not None
    off = few_eur_off(item, total.amount, total.currency, scene.rates, rng)
    return [
        item.model_copy(
            update={
                "sender": sender.model_copy(update={"phone": phone}),
                "total_value": total.model_copy(update={"amount": total.amount + off}),
            }
        )
    ], frozenset({Code.PHONE_FORMAT, Code.TOTAL_VALUE_MISMATCH})


# ---------------------------------------------------------------- declared categories


@_register("category_abuse")
def _no_plain(scene: Scene, rng: random.Random) -> tuple[list[DeclaredItem], frozenset[Code]]:
    """Every category_abuse draw is one of its families (variants.py)."""
    raise AssertionError("category_abuse has no plain family")  # pragma: no cover
