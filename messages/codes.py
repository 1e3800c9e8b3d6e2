"""ISO 3166-1 alpha-2 countries and ISO 4217 currencies (from pycountry).

Sets are built once on first use: pycountry loads its JSON lazily and a set
lookup keeps validation on the hot path cheap.
"""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def countries() -> frozenset[str]:
    """Assigned ISO 3166-1 alpha-2 codes (UK and EL are not assigned; GB and GR are)."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currencies() -> frozenset[str]:
    """Active ISO 4217 alphabetic codes (RMB is not one; CNY is)."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def is_country(code: str) -> bool:
    return code in countries()


def is_currency(code: str) -> bool:
    return code in currencies()
