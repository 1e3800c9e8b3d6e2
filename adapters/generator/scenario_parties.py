"""Parties for risk scenarios: listed senders, transit-country traders, shops with a legal form.

The clean generator only knows the countries of its routes; watchlisted and
transit senders live elsewhere (RU, AE, KZ, ...), so their addresses come from
a small table of real cities and streets written as such senders write them on
an international label (Latin script). Phones are E.123, so a scenario party
never adds a PHONE_FORMAT or TEXT_GARBAGE finding of its own.
"""

from __future__ import annotations

import random
import re

from anyascii import anyascii

from adapters.generator.parties import NAME_MAX, e123_phone, fit
from adapters.generator.watchlist import WatchlistEntry, name_variant
from messages.models import Address, Party
from messages.text import LEGAL_FORMS as KEY_LEGAL_FORMS

#: country -> (city, postcode pattern with # for digits or "" for none, streets)
_PLACES: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "RU": (("Moscow", "125###", ("Tverskaya ulitsa", "Leninsky prospekt", "Kutuzovsky prospekt")),
           ("Saint Petersburg", "191###", ("Nevsky prospekt", "Ulitsa Marata")),
           ("Novosibirsk", "630###", ("Krasny prospekt",))),
    "BY": (("Minsk", "220###", ("Prospekt Nezavisimosti", "Ulitsa Nemiga")),
           ("Brest", "224###", ("Ulitsa Sovetskaya",))),
    "AE": (("Dubai", "", ("Sheikh Zayed Road", "Al Maktoum Road", "Al Rigga Street")),
           ("Sharjah", "", ("Al Wahda Street", "King Faisal Street"))),
    "TR": (("Istanbul", "34###", ("Istiklal Caddesi", "Bagdat Caddesi", "Halaskargazi Caddesi")),
           ("Mersin", "33###", ("Gazi Mustafa Kemal Bulvari",))),
    "KZ": (("Almaty", "050###", ("Abay Avenue", "Dostyk Avenue")),
           ("Astana", "010###", ("Kabanbay Batyr Avenue",))),
    "AM": (("Yerevan", "00##", ("Mashtots Avenue", "Tigran Mets Avenue")),
           ("Gyumri", "31##", ("Rijkov Street",))),
    "GE": (("Tbilisi", "01##", ("Rustaveli Avenue", "Aghmashenebeli Avenue")),
           ("Batumi", "60##", ("Chavchavadze Street",))),
    "IR": (("Tehran", "15########", ("Valiasr Street", "Enghelab Street")),
           ("Isfahan", "81########", ("Chaharbagh Abbasi Street",))),
    "SY": (("Damascus", "", ("Baghdad Street", "Al Thawra Street")),
           ("Aleppo", "", ("Baron Street",))),
    "KP": (("Pyongyang", "", ("Sungri Street", "Ryomyong Street")),),
    "HK": (("Hong Kong", "", ("Nathan Road", "Des Voeux Road Central", "Hennessy Road")),),
    "CN": (("Shenzhen", "518###", ("Shennan Road", "Huaqiang North Road")),
           ("Guangzhou", "510###", ("Tianhe Road",))),
    "VE": (("Caracas", "10##", ("Avenida Francisco de Miranda", "Avenida Libertador")),
           ("Maracaibo", "40##", ("Avenida Bella Vista",))),
    "CO": (("Bogota", "1101##", ("Carrera 7", "Calle 72")),
           ("Medellin", "0500##", ("Carrera 43A",))),
    "CY": (("Limassol", "3###", ("Makariou III Avenue", "Anexartisias Street")),
           ("Nicosia", "1###", ("Stasikratous Street",))),
    "LB": (("Beirut", "", ("Hamra Street", "Rue Verdun")),),
    "RS": (("Belgrade", "11###", ("Knez Mihailova", "Bulevar kralja Aleksandra")),
           ("Novi Sad", "21###", ("Bulevar oslobodjenja",))),
}  # fmt: skip

#: Trader names in transit countries, and the legal form each country uses.
_TRADER_STEMS: dict[str, tuple[str, ...]] = {
    "TR": ("Anadolu Kapi", "Bosphorus Yildiz", "Marmara Koprü", "Kapadokya Global"),
    "AE": ("Desert Falcon", "Gulf Horizon", "Al Noor Bridge", "Palm Crest"),
    "KZ": ("Steppe Line", "Altyn Zhol", "Caspian Gate", "Turan Supply"),
    "AM": ("Sevan Trade", "Arax Import", "Vanadzor Logistics", "Dilijan Commerce"),
    "GE": ("Colchis Logistics", "Iberia Transit", "Black Sea Supply", "Mtkvari Commerce"),
}
_TRADER_FORMS: dict[str, tuple[str, ...]] = {
    "TR": ("Dış Ticaret Ltd. Şti.", "İthalat İhracat A.Ş."),
    "AE": ("General Trading LLC", "FZE", "FZCO"),
    "KZ": ("LLP",),
    "AM": ("LLC",),
    "GE": ("LLC",),
}

#: Legal forms written in a script or phrase that is not one dotted token.
_PHRASE_FORMS = (
    "有限公司", "株式会社", "合同会社", "有限会社", "주식회사", "(주)", "유한회사", "(유)",
    "TNHH", "Cổ phần", "Trách nhiệm hữu hạn", "Doanh nghiệp tư nhân", "จำกัด", "บมจ.",
)  # fmt: skip
#: Dotted or short legal forms, compared with dots and case removed ("S.A." -> "sa").
_TOKEN_FORMS = KEY_LEGAL_FORMS | {
    "sti", "san", "fze", "fzco", "ojsc", "doo", "sal", "ca", "scp", "scom", "slne", "spj",
    "spk", "sc", "hb", "vof", "commv", "pvt", "tic", "srl",
}  # fmt: skip
#: The form appended to a seller's name that has none, by the seller's country.
_APPEND_FORM: dict[str, str] = {
    "CN": "有限公司", "HK": "有限公司", "JP": "株式会社", "US": " LLC", "GB": " Ltd",
    "IN": " Pvt Ltd", "TR": " A.Ş.", "DE": " GmbH", "AT": " GmbH", "FR": " SARL",
    "IT": " S.r.l.", "PL": " Sp. z o.o.", "BR": " Ltda.", "CA": " Inc.", "AU": " Pty Ltd",
    "NL": " B.V.", "BE": " BV", "ES": " S.L.", "SE": " AB", "IE": " Ltd",
    "VN": " Công ty TNHH", "KR": " 주식회사", "TH": " จำกัด",
}  # fmt: skip
_NOT_WORD = re.compile(r"[^0-9a-z]")


def has_legal_form(name: str) -> bool:
    """True when a business name carries a company form (LLC, GmbH, 有限公司, A.Ş., ...)."""
    if any(form in name for form in _PHRASE_FORMS):
        return True
    return any(
        _NOT_WORD.sub("", str(anyascii(token)).casefold()) in _TOKEN_FORMS for token in name.split()
    )


def with_legal_form(party: Party, country: str) -> Party:
    """`party` as a business whose name shows its legal form (a shop, not a private person)."""
    name = party.business_name or party.name or "Trading"
    if not has_legal_form(name):
        name = (fit(name, NAME_MAX - 16) or name) + _APPEND_FORM.get(country, " Ltd")
    return party.model_copy(update={"business_name": fit(name, NAME_MAX)})


def places() -> frozenset[str]:
    """Countries `address_in` can place a party in."""
    return frozenset(_PLACES)


def address_in(country: str, rng: random.Random) -> Address:
    """A street address in a real city of `country`."""
    city, postcode, streets = rng.choice(_PLACES[country])
    digits = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in postcode)
    return Address(
        street=rng.choice(streets),
        house_number=str(rng.randrange(1, 180)),
        postcode=digits or None,
        city=city,
        country=country,
    )


def _email(name: str, rng: random.Random) -> str:
    words = re.findall(r"[a-z]+", str(anyascii(name)).casefold())
    domain = "-".join(words[:2]) or "trade"
    return f"{rng.choice(('info', 'sales', 'export'))}@{domain}.com"


def transit_trader(country: str, rng: random.Random) -> Party:
    """A trading company in a transit country, the usual declared sender of re-routed goods."""
    name = f"{rng.choice(_TRADER_STEMS[country])} {rng.choice(_TRADER_FORMS[country])}"
    return Party(
        business_name=name,
        address=address_in(country, rng),
        phone=e123_phone(country, rng),
        email=_email(name, rng),
    )


def watchlist_party(entry: WatchlistEntry, rng: random.Random) -> tuple[Party, str]:
    """A sender whose name is a variant of `entry`, living in the entry's country.

    Returns the party and the variant kind ("exact", "typo", ...).
    """
    variant, name = name_variant(entry, rng)
    address = address_in(entry.country, rng)
    phone = e123_phone(entry.country, rng)
    if entry.kind == "company":
        party = Party(business_name=name, address=address, phone=phone, email=_email(name, rng))
    else:
        party = Party(name=name, address=address, phone=phone if rng.random() < 0.8 else None)
    return party, variant
