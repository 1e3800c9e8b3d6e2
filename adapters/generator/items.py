"""One clean declared item: contents from the catalogue, consistent totals and forms.

"Clean" is strict: line value = unit price x quantity to the cent, the total is
exactly the sum of the lines, the gross weight is the net weight plus
packaging, CN 22 only well under the 300 SDR limit, identifiers with valid
check digits. It is strict for the risk engine too: no gift that looks like a
sale, no total just under the EU threshold (the scenarios plant those). Defects
are added later, one at a time, by `defects`; that is what makes the labels exact.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from adapters.generator.catalogue import CATALOGUE, Product
from adapters.generator.geography import EU_DESTINATIONS
from messages import s10
from messages.models import ContentPiece, DeclaredItem, IdType, Money, Party
from messages.rates import RateTable

CENT = Decimal("0.01")
GRAM = Decimal("0.001")
#: CN 22 is chosen well under the 300 SDR limit (about 350 EUR), so rate moves never matter.
CN22_MAX_EUR = Decimal(250)
CN22_MAX_KG = Decimal(2)

POST_CATEGORIES: dict[str, float] = {
    "SALE_OF_GOODS": 80, "GIFT": 7, "COMMERCIAL_SAMPLE": 3, "RETURNED_GOODS": 3,
    "DOCUMENTS": 4, "MIXED_CONTENTS": 1, "OTHER": 2,
}  # fmt: skip
EXPRESS_CATEGORIES: dict[str, float] = {"SALE_OF_GOODS": 92, "COMMERCIAL_SAMPLE": 5, "DOCUMENTS": 3}
#: Categories a private person sends; the others come from shops.
PERSONAL_CATEGORIES = frozenset({"GIFT", "DOCUMENTS", "OTHER", "MIXED_CONTENTS"})
DOCUMENT_DESCRIPTIONS = ("Documents", "Business papers")
OTHER_EXPLANATIONS = (
    "Warranty replacement sent free of charge",
    "Repaired item returned to its owner",
    "Personal belongings after relocation",
    "Prize from an online competition",
)
#: S10 service indicators by mail class (first letter = family, standards.md §4.2).
SERVICES = {
    "U": ("RR", "RX", "LX", "LY", "UA"),
    "C": ("CP", "CX", "CA", "CC"),
    "E": ("EE", "EA", "EM", "EX"),
}
HOME_CURRENCY = {"US": "USD", "GB": "GBP", "CN": "CNY"}
#: Several identical units or a value over the 45 EUR gift relief make a gift look
#: like a sale (the gift_misdeclaration scenario plants that); a clean gift does not
#: (40 EUR leaves room for rates rounding the EUR value).
GIFT_MAX_UNITS = 2
GIFT_MAX_EUR = Decimal(40)
#: A total just under the EU's 150 EUR threshold is the threshold_value scenario's
#: signal; clean goods to the EU are drawn again when they land there (a little wider
#: than the rule's band, as rates round the EUR value). The UK's 135 GBP needs GBP
#: from a GB sender to a GB buyer, which cross-border traffic never is.
EU_NEAR_THRESHOLD = (Decimal(130), Decimal(152))
_ATTEMPTS = 100


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    """One key of `weights`, drawn in proportion to its weight (dict order is fixed)."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Identifiers:
    """Item identifiers unique within one run, without remembering them (memory stays flat
    over millions of items): the k-th identifier's serial is an affine permutation of k,
    so serials look random but never repeat."""

    _S10_SPACE = 10**8
    _HAWB_SPACE = 9 * 10**9

    def __init__(self, rng: random.Random) -> None:
        self._count = 0
        self._s10 = (_unit(rng, self._S10_SPACE), rng.randrange(self._S10_SPACE))
        self._hawb = (_unit(rng, self._HAWB_SPACE), rng.randrange(self._HAWB_SPACE))

    def _next(self, space: int, params: tuple[int, int]) -> int:
        self._count += 1
        factor, offset = params
        return (factor * self._count + offset) % space

    def s10(self, rng: random.Random, mail_class: str, country: str) -> str:
        serial = self._next(self._S10_SPACE, self._s10)
        return s10.make(rng.choice(SERVICES[mail_class]), serial, country)

    def hawb(self, rng: random.Random) -> str:
        return str(10**9 + self._next(self._HAWB_SPACE, self._hawb))


def _unit(rng: random.Random, modulus: int) -> int:
    """A random multiplier coprime to `modulus`, so k -> factor*k mod modulus is a bijection."""
    while True:
        factor = rng.randrange(modulus // 10, modulus)
        if math.gcd(factor, modulus) == 1:
            return factor


def pick_category(rng: random.Random, *, express: bool) -> str:
    return weighted(rng, EXPRESS_CATEGORIES if express else POST_CATEGORIES)


def pick_currency(rng: random.Random, origin: str) -> str:
    """Mostly EUR (sellers price for EU buyers); some home-currency and USD declarations."""
    home = HOME_CURRENCY.get(origin)
    if home is not None and rng.random() < 0.3:
        return home
    return "USD" if rng.random() < 0.05 else "EUR"


def _price(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A shop-like unit price: 12.99, 15.50 or just 13.27."""
    raw = Decimal(str(round(rng.uniform(float(low), float(high)), 2)))
    style = rng.random()
    if style < 0.5:
        return max(raw.to_integral_value() - Decimal("0.01"), Decimal("0.99"))
    if style < 0.8:
        return max((raw * 2).to_integral_value() / 2, Decimal("0.50")).quantize(CENT)
    return raw


def _weight(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    return Decimal(str(round(rng.uniform(float(low), float(high)), 4)))


def _in(amount_eur: Decimal, currency: str, rates: RateTable, day: date) -> Decimal:
    if currency == "EUR":
        return amount_eur
    converted = rates.convert(amount_eur, "EUR", currency, day)
    if converted is None:  # pragma: no cover - currencies are picked from the rate table
        raise ValueError(f"no EUR rate for {currency} on {day}")
    return max(converted, CENT)


class ItemBuilder:
    """Builds clean items; `rates` prices non-EUR declarations on the posting day."""

    def __init__(self, rates: RateTable, ids: Identifiers) -> None:
        self.rates = rates
        self.ids = ids

    def build(
        self,
        rng: random.Random,
        *,
        category: str,
        sender: Party,
        addressee: Party,
        posted: datetime,
        origin: str,
        express: bool,
    ) -> DeclaredItem:
        currency = pick_currency(rng, origin)
        day = posted.date()
        destination = addressee.address.country if addressee.address else None
        if category == "DOCUMENTS":
            pieces, total_eur = self._documents(rng, currency), Decimal(0)
        else:
            pieces, total_eur = self._clean_goods(rng, currency, day, origin, category, destination)
        net = sum((p.net_weight for p in pieces if p.net_weight is not None), Decimal(0))
        packaging = Decimal("0.02") + net * Decimal("0.08") + Decimal(rng.randrange(0, 100)) * GRAM
        gross = (net + packaging).quantize(GRAM, ROUND_HALF_UP)
        total = _total(pieces)
        id_type: IdType = "HAWB" if express else "S10"
        if express:
            mail_class, form = "C", "CN23"
            item_id = self.ids.hawb(rng)
        else:
            cn22 = total_eur <= CN22_MAX_EUR and gross <= CN22_MAX_KG
            form = "CN22" if cn22 else "CN23"
            if rng.random() < 0.08:
                mail_class = "E"
            elif cn22 and (category == "DOCUMENTS" or rng.random() < 0.5):
                mail_class = "U"
            else:
                mail_class = "C"
            item_id = self.ids.s10(rng, mail_class, origin)
        return DeclaredItem(
            item_id=item_id,
            id_type=id_type,
            posting_datetime=posted,
            mail_class=mail_class,
            mail_category=None if express else _mail_category(rng),
            declaration_form=form,
            category=category,
            category_explanation=rng.choice(OTHER_EXPLANATIONS) if category == "OTHER" else None,
            total_value=Money(amount=total, currency=currency),
            total_gross_weight=gross,
            postal_charges=self._charges(rng, currency, day) if not express else None,
            insured_value=(
                Money(amount=total, currency=currency)
                if not express and form == "CN23" and rng.random() < 0.05
                else None
            ),
            invoice_number=(
                f"INV-{posted:%Y}-{rng.randrange(10**6):06d}"
                if not express and category == "SALE_OF_GOODS" and rng.random() < 0.35
                else None
            ),
            sender=sender,
            addressee=addressee,
            contents=pieces,
        )

    def _documents(self, rng: random.Random, currency: str) -> list[ContentPiece]:
        return [
            ContentPiece(
                index=1,
                description=rng.choice(DOCUMENT_DESCRIPTIONS),
                quantity=1,
                net_weight=_weight(rng, Decimal("0.02"), Decimal("0.4")).quantize(GRAM),
                value=Money(amount=Decimal("0.00"), currency=currency),
            )
        ]

    def _clean_goods(
        self,
        rng: random.Random,
        currency: str,
        day: date,
        origin: str,
        category: str,
        destination: str | None,
    ) -> tuple[list[ContentPiece], Decimal]:
        """Goods drawn again while their total carries a scenario's signal (see the bands)."""
        gift = category == "GIFT"
        for _ in range(_ATTEMPTS):
            pieces, total_eur = self._goods(rng, currency, day, origin, gift=gift)
            if gift and total_eur > GIFT_MAX_EUR:
                continue
            if destination in EU_DESTINATIONS and _within(total_eur, EU_NEAR_THRESHOLD):
                continue
            return pieces, total_eur
        raise RuntimeError(f"no clean {category} goods in {_ATTEMPTS} draws")  # pragma: no cover

    def _goods(
        self, rng: random.Random, currency: str, day: date, origin: str, *, gift: bool
    ) -> tuple[list[ContentPiece], Decimal]:
        count = rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]
        products: list[Product] = rng.sample(CATALOGUE, count)
        pieces: list[ContentPiece] = []
        total_eur = Decimal(0)
        for index, product in enumerate(products, start=1):
            quantity = rng.choices((1, 2, 3, 4, 5), weights=(60, 20, 10, 5, 5))[0]
            if gift:
                quantity = min(quantity, GIFT_MAX_UNITS)
            unit_eur = _price(rng, *product.value_eur)
            total_eur += unit_eur * quantity
            unit = _in(unit_eur, currency, self.rates, day)
            net = max((_weight(rng, *product.weight_kg) * quantity).quantize(GRAM), GRAM)
            if origin in product.origins and rng.random() < 0.6:
                made_in = origin
            else:
                made_in = rng.choice(product.origins)
            extension = rng.choices(("", "00", "0000"), weights=(75, 15, 10))[0]
            pieces.append(
                ContentPiece(
                    index=index,
                    description=product.description,
                    quantity=quantity,
                    net_weight=net,
                    value=Money(amount=(unit * quantity).quantize(CENT), currency=currency),
                    hs_code=product.hs_code + extension,
                    origin_country=made_in,
                )
            )
        return pieces, total_eur

    def _charges(self, rng: random.Random, currency: str, day: date) -> Money | None:
        if rng.random() >= 0.4:
            return None
        eur = Decimal(rng.randrange(250, 2500)) * CENT
        return Money(amount=_in(eur, currency, self.rates, day), currency=currency)


def _total(pieces: list[ContentPiece]) -> Decimal:
    total = sum((p.value.amount for p in pieces if p.value and p.value.amount), Decimal(0))
    return total.quantize(CENT)


def _within(amount: Decimal, band: tuple[Decimal, Decimal]) -> bool:
    return band[0] <= amount < band[1]


def _mail_category(rng: random.Random) -> str | None:
    return rng.choices(("A", "B", None), weights=(65, 25, 10))[0]
