"""UPU S10 item identifiers: 2 letters, 8-digit serial, check digit, ISO country.

Check digit per UPU S10-12 (standards.md §4.3): weights 8 6 4 2 3 5 9 7 over
the serial; C = 11 - (sum mod 11), with 10 -> 0 and 11 -> 5.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum
from operator import mul

from messages.codes import is_country

_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_PATTERN = re.compile(r"^[A-Z]{2}[0-9]{9}[A-Z]{2}$")

#: Service indicator families (first letter), standards.md §4.2.
SERVICE_FAMILIES: dict[str, str] = {
    "A": "letter post, recorded delivery",
    "C": "parcel post",
    "E": "EMS",
    "H": "parcel post, e-commerce",
    "L": "letter post express",
    "M": "letter post M-bag",
    "Q": "international business reply",
    "R": "letter post registered",
    "U": "letter post subject to customs control",
    "V": "letter post insured",
}


class S10Problem(StrEnum):
    FORMAT = "format"
    CHECK_DIGIT = "check_digit"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class S10Check:
    problem: S10Problem | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_digit(serial: str) -> int:
    """Check digit for an 8-digit serial number."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError(f"S10 serial must be 8 digits, got {serial!r}")
    total = sum(map(mul, _WEIGHTS, map(int, serial)))  # lengths checked above
    digit = 11 - total % 11
    return 0 if digit == 10 else 5 if digit == 11 else digit


def check(identifier: str) -> S10Check:
    """Validate format, check digit and issuing country of an S10 identifier."""
    if not S10_PATTERN.match(identifier):
        return S10Check(
            S10Problem.FORMAT,
            f"{identifier!r} is not an S10 identifier "
            "(2 letters, 8 digits, check digit, 2-letter country)",
        )
    expected = check_digit(identifier[2:10])
    if int(identifier[10]) != expected:
        return S10Check(
            S10Problem.CHECK_DIGIT,
            f"{identifier!r} has check digit {identifier[10]}; the serial "
            f"{identifier[2:10]} gives {expected}",
        )
    if not is_country(identifier[11:]):
        return S10Check(
            S10Problem.COUNTRY,
            f"{identifier!r} ends in {identifier[11:]!r}, which is not an ISO 3166-1 country",
        )
    return S10Check(None)


def make(service: str, serial: int, country: str) -> str:
    """Build a valid S10 identifier from a 2-letter service indicator and a serial."""
    if not re.fullmatch(r"[A-Z]{2}", service):
        raise ValueError(f"service indicator must be 2 capital letters, got {service!r}")
    if not 0 <= serial <= 99_999_999:
        raise ValueError(f"serial must be 0..99999999, got {serial}")
    if not is_country(country):
        raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country")
    digits = f"{serial:08d}"
    return f"{service}{digits}{check_digit(digits)}{country}"


def generate(rng: random.Random, country: str, service: str = "RR") -> str:
    """A random valid identifier, reproducible for a seeded `rng`."""
    return make(service, rng.randrange(100_000_000), country)
