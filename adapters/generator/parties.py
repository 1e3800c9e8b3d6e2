"""Senders and addressees: locale-true names and addresses from Faker, E.123 phones.

Risk rules link items by addressee and sender (consignment splitting, repeat
shippers), so parties come from pools and are reused across items rather than
drawn fresh every time. Every text is cut to its XSD maximum and checked
against the rulebook's own garbage test, so a clean party never trips a rule.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable
from functools import cache

import phonenumbers
from anyascii import anyascii
from faker import Faker

from adapters.generator.geography import COUNTRIES, Country
from messages.models import Address, Party
from messages.rulebook import garbage_reason

#: XSD maximum lengths (item-common.xsd).
NAME_MAX = 70
STREET_MAX = 70
HOUSE_NUMBER_MAX = 35
POSTCODE_MAX = 20
CITY_MAX = 50
REGION_MAX = 50
LINE_MAX = 70

#: ISO 3166-1 numeric codes of EU states that issue IOSS numbers (IM + 3 digits + 7 digits).
_IOSS_STATES = ("276", "528", "372", "250", "380", "724", "056", "442")
_NO_POSTCODE = frozenset({"HK"})
_EMAIL_WORD = re.compile(r"[a-z]+")
_ATTEMPTS = 20


def fit(text: str | None, limit: int) -> str | None:
    """`text` cut to `limit` characters, trimmed; blank becomes None (absent, as in XML)."""
    if text is None:
        return None
    cut = text.strip()[:limit].strip()
    return cut or None


@cache
def _mobile_shape(country: str) -> tuple[int, str]:
    """ITU calling code and an example mobile number (national significant number)."""
    example = phonenumbers.example_number_for_type(
        country, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(country)
    national = str(example.national_number) if example is not None else "1512345678"
    return phonenumbers.country_code_for_region(country), national


def e123_phone(country: str, rng: random.Random) -> str:
    """An E.123 international number, "+CC NNN NNNN", shaped like the country's mobiles.

    Faker's phone formats are national ("030 1234567", "(201) 555-0123"), which the
    PHONE_FORMAT rule rightly refuses, so numbers are built here from the ITU
    calling code and the example mobile number's prefix and length.
    """
    calling_code, national = _mobile_shape(country)
    digits = national[:2] + "".join(str(rng.randrange(10)) for _ in national[2:])
    groups = [digits[-4:]]
    rest = digits[:-4]
    while len(rest) > 4:
        groups.insert(0, rest[-3:])
        rest = rest[:-3]
    if rest:
        groups.insert(0, rest)
    return f"+{calling_code} " + " ".join(groups)


def _email_local(name: str, rng: random.Random) -> str:
    words = _EMAIL_WORD.findall(anyascii(name).casefold())
    local = ".".join(words[:2]) or "customer"
    if rng.random() < 0.5:
        local += str(rng.randrange(1, 100))
    return local


def _slug(text: str) -> str:
    words = _EMAIL_WORD.findall(anyascii(text).casefold())
    return "-".join(words[:3])[:24].strip("-") or "shop"


class PartyFactory:
    """Makes parties with one Faker per locale, re-seeded from the caller's rng per party,
    so the output depends only on that rng, not on how many parties came before."""

    def __init__(self) -> None:
        self._fakers: dict[str, Faker] = {}

    def _faker(self, country: Country, rng: random.Random) -> Faker:
        fake = self._fakers.get(country.locale)
        if fake is None:
            fake = self._fakers[country.locale] = _stable(Faker(country.locale))
        fake.seed_instance(rng.getrandbits(64))
        return fake

    def person(self, country_code: str, rng: random.Random) -> Party:
        """A private person: a buyer, or someone sending a gift or documents."""
        return self._make(country_code, rng, business=False)

    def seller(self, country_code: str, rng: random.Random) -> Party:
        """A web shop or marketplace seller, sometimes with only its business name."""
        return self._make(country_code, rng, business=True)

    def _make(self, country_code: str, rng: random.Random, *, business: bool) -> Party:
        country = COUNTRIES[country_code]
        for _ in range(_ATTEMPTS):
            party = self._draw(country, rng, business=business)
            if _looks_real(party):
                return party
        raise RuntimeError(f"could not draw a clean party for {country_code}")  # pragma: no cover

    def _draw(self, country: Country, rng: random.Random, *, business: bool) -> Party:
        fake = self._faker(country, rng)
        name: str | None = fake.name()
        business_name = fit(fake.company(), NAME_MAX) if business else None
        if business and rng.random() < 0.3:
            name = None  # many shops declare only the business name
        region = None
        if country.native_address:
            try:
                region = fit(fake.administrative_unit(), REGION_MAX)
            except AttributeError:
                region = None
        address = Address(
            street=fit(fake.street_name(), STREET_MAX),
            house_number=fit(fake.building_number(), HOUSE_NUMBER_MAX),
            postcode=None if country.code in _NO_POSTCODE else fit(fake.postcode(), POSTCODE_MAX),
            city=fit(fake.city(), CITY_MAX),
            region=region if rng.random() < 0.6 else None,
            country=country.code,
        )
        if business_name is not None:
            email = f"{rng.choice(('sales', 'shop', 'orders', 'service'))}@{_slug(business_name)}"
            email += rng.choice((".com", ".net", f".{country.code.lower()}"))
        else:
            email = f"{_email_local(name or 'customer', rng)}@{fake.free_email_domain()}"
        return Party(
            name=fit(name, NAME_MAX),
            business_name=business_name,
            address=address,
            phone=e123_phone(country.code, rng) if business or rng.random() < 0.85 else None,
            email=email if business or rng.random() < 0.8 else None,
            tax_id=_ioss(rng) if business and rng.random() < 0.4 else None,
        )


def _stable(fake: Faker) -> Faker:
    """`fake` with its draws independent of PYTHONHASHSEED.

    Faker's it_IT address provider builds its city list from a set, so the same
    seed picks a different city in every process; sorting it (on the provider
    instance, not the shared class) makes the output reproducible.
    """
    for provider in fake.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)
    return fake


def _ioss(rng: random.Random) -> str:
    return f"IM{rng.choice(_IOSS_STATES)}{rng.randrange(10**7):07d}"


def _looks_real(party: Party) -> bool:
    """True when no text of `party` is what TEXT_GARBAGE flags (Faker can draw "Na")."""
    address = party.address or Address()
    texts = (party.name, party.business_name, address.city, address.region)
    if any(t is not None and garbage_reason(t) is not None for t in texts):
        return False
    street = address.street
    return street is None or garbage_reason(street, digits_allowed=True) is None


def legacy_address(address: Address) -> Address:
    """The ITMATT 1.1 layout of a structured address: street line, region line, postcode,
    city, country; house number placed where the country writes it."""
    country = COUNTRIES.get(address.country or "")
    street_first = country.street_first if country is not None else True
    parts = (address.street, address.house_number)
    first = " ".join(p for p in (parts if street_first else parts[::-1]) if p)
    lines = [line for line in (fit(first, LINE_MAX), fit(address.region, LINE_MAX)) if line]
    return Address(
        lines=lines, postcode=address.postcode, city=address.city, country=address.country
    )


class PartyPool:
    """Parties reused across items: the same buyer orders again, the same shop ships daily.

    With probability `reuse` a recent party of the country is picked again;
    otherwise a new one is made. Shops (`recent_bias`) ship daily, so the most
    recent ones are picked most often; buyers order again over weeks, so any of
    the last `window` is equally likely. With `uses`, a party is picked at most
    that many times: a whole run lies within the 72 h windows of the risk rules
    (`traffic.MAX_SPAN`), so a clean buyer with two parcels stays below every
    splitting rule (3 from one shop, 6 in all), which the splitting scenario
    plants on purpose, with a new buyer. Only the last `window` parties per
    country are kept, so memory stays flat on long runs.
    """

    def __init__(
        self,
        make: Callable[[str, random.Random], Party],
        *,
        reuse: float,
        window: int = 200,
        recent_bias: bool = True,
        uses: int | None = None,
    ) -> None:
        self._make = make
        self._reuse = reuse
        self._window = window
        self._recent_bias = recent_bias
        self._uses = uses
        self._recent: dict[str, deque[_Pooled]] = {}

    def pick(self, country: str, rng: random.Random) -> Party:
        recent = self._recent.get(country)
        if recent is None:
            recent = self._recent[country] = deque(maxlen=self._window)
        if recent and rng.random() < self._reuse:
            draw = rng.random()
            index = -1 - int(len(recent) * (draw**2 if self._recent_bias else draw))
            pooled = recent[index]
            pooled.uses += 1
            if self._uses is not None and pooled.uses >= self._uses:
                del recent[index]
            return pooled.party
        party = self._make(country, rng)
        if self._uses is None or self._uses > 1:
            recent.append(_Pooled(party))
        return party


class _Pooled:
    """A pooled party and how often it has been picked."""

    __slots__ = ("party", "uses")

    def __init__(self, party: Party) -> None:
        self.party = party
        self.uses = 1
