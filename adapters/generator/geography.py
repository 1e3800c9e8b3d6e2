"""Where synthetic traffic comes from and goes to: countries, posts, customs offices.

Cross-border e-commerce is lopsided (most parcels come from a few Asian
marketplaces and go to the EU), so origins and destinations are weighted
rather than uniform; the weights are rough shares, not statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone


@dataclass(frozen=True, slots=True)
class Country:
    """What the generator needs to know about one country.

    `locale` is the Faker locale for names and addresses; `native_address` says
    whether that locale has its own address provider (if not, Faker falls back to
    US-style regions, which we then leave out). `utc_offset` is the November offset.
    """

    code: str
    locale: str
    utc_offset: timedelta
    native_address: bool = True
    #: Street before house number on an address line ("Hauptstraße 5" vs "5 Main St").
    street_first: bool = True

    @property
    def tz(self) -> timezone:
        return timezone(self.utc_offset)

    @property
    def post(self) -> str:
        """UPU-style designated operator code: country code + "A" (CNA, DEA, USA)."""
        return f"{self.code}A"


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("CN", "zh_CN", _h(8)),
        Country("HK", "zh_TW", _h(8), native_address=False),
        Country("US", "en_US", _h(-5), street_first=False),
        Country("GB", "en_GB", _h(0), street_first=False),
        Country("TR", "tr_TR", _h(3), native_address=False),
        Country("IN", "en_IN", _h(5.5), street_first=False),
        Country("JP", "ja_JP", _h(9)),
        Country("KR", "ko_KR", _h(9)),
        Country("VN", "vi_VN", _h(7), street_first=False),
        Country("TH", "th_TH", _h(7), street_first=False),
        Country("DE", "de_DE", _h(1)),
        Country("FR", "fr_FR", _h(1), street_first=False),
        Country("IT", "it_IT", _h(1)),
        Country("PL", "pl_PL", _h(1)),
        Country("BR", "pt_BR", _h(-3)),
        Country("CA", "en_CA", _h(-5), street_first=False),
        Country("AU", "en_AU", _h(11), street_first=False),
        Country("NL", "nl_NL", _h(1)),
        Country("ES", "es_ES", _h(1)),
        Country("BE", "nl_BE", _h(1)),
        Country("AT", "de_AT", _h(1)),
        Country("SE", "sv_SE", _h(1)),
        Country("IE", "en_IE", _h(0), street_first=False),
    )
}

#: Where parcels are posted, with rough weights.
ORIGINS: dict[str, float] = {
    "CN": 35, "HK": 8, "US": 10, "GB": 7, "TR": 5, "IN": 4, "JP": 4, "KR": 4, "VN": 3,
    "TH": 2, "DE": 3, "FR": 2, "IT": 2, "PL": 2, "BR": 2, "CA": 2, "AU": 2,
}  # fmt: skip

#: Where they are delivered: mostly the EU, some GB and US.
DESTINATIONS: dict[str, float] = {
    "DE": 20, "FR": 14, "NL": 10, "IT": 10, "ES": 10, "PL": 6, "BE": 6, "AT": 5, "SE": 4,
    "IE": 4, "GB": 6, "US": 5,
}  # fmt: skip
#: The EU ones: the 150 EUR low-value ceiling and IOSS apply there.
EU_DESTINATIONS = frozenset(DESTINATIONS) - {"GB", "US"}

#: The office of entry a destination post or carrier declares to (EU COL-style codes).
CUSTOMS_OFFICES: dict[str, str] = {
    "DE": "DE004800", "FR": "FR000730", "NL": "NL000396", "IT": "IT277100", "ES": "ES002801",
    "PL": "PL301010", "BE": "BE212000", "AT": "AT100000", "SE": "SE000100", "IE": "IE000010",
    "GB": "GB000060", "US": "US004701",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Carrier:
    """An express integrator: operator code, airline prefixes for its master AWBs, flights."""

    code: str
    awb_prefixes: tuple[int, ...]
    flight_prefixes: tuple[str, ...]


CARRIERS: tuple[Carrier, ...] = (
    Carrier("DHLX", (615, 155, 423), ("QY", "D0", "ES")),
    Carrier("UPSA", (406,), ("5X",)),
    Carrier("FDXE", (23,), ("FX",)),
    Carrier("SFEX", (160, 999), ("O3", "CX")),
    Carrier("ARMX", (176, 157), ("EK", "QR")),
)
