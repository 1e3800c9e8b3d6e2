"""Strict parsing of text cells and JSON strings: one rule for CSV and JSON alike.

Each parser raises ValueError with a plain-English reason; the caller adds where.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Context, Decimal
from typing import TypeVar

from messages.numbers import MAX_NUMBER_CHARS, PLAIN_DECIMAL, PLAIN_INTEGER

T = TypeVar("T")

# Plain decimal notation only (messages.numbers): "1,5", "1e3", "1_000" or "NaN" in an
# export are mistakes.
OPERATOR_CODE = re.compile(r"[A-Z]{3}[A-Z0-9]{0,3}")
# Characters XML 1.0 cannot carry (C0 controls, lone surrogates, U+FFFE/FFFF): refused here,
# with a location, rather than failing later when the message is encoded.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str | None) -> str | None:
    """Trimmed text, or None when blank: empty optional data is absent, never ""."""
    if text is None:
        return None
    text = text.strip()
    return text or None


def text_problem(text: str) -> str | None:
    """Why `text` cannot travel in an XML message, or None."""
    bad = _NOT_XML.search(text)
    if bad is None:
        return None
    return f"contains the character U+{ord(bad.group()):04X}, which XML cannot carry"


#: Amounts, weights and counts: below 10**15, with at most 9 decimal places. Anything
#: beyond is a mistake or an attack (`1e1000000` costs seconds to format and compare).
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 9
#: Enough digits that normalising any number text we read never rounds it.
_EXACT = Context(prec=60)


def number_range() -> str:
    return (
        f"at most {MAX_INTEGER_DIGITS} digits before the decimal point "
        f"and {MAX_FRACTION_DIGITS} after"
    )


def bounded_decimal(value: Decimal) -> Decimal:
    """`value` if it is a finite number in range (see MAX_INTEGER_DIGITS), else ValueError.

    Only exponent arithmetic is done before the checks, so a huge exponent costs nothing.
    """
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    exponent = value.as_tuple().exponent
    if value.is_zero():
        # 0E-1000000 is zero, but its plain text would be a million zeros.
        return (
            value if isinstance(exponent, int) and exponent >= -MAX_FRACTION_DIGITS else Decimal(0)
        )
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"{_short(str(value))} is out of range: {number_range()}")
    if isinstance(exponent, int) and exponent < -MAX_FRACTION_DIGITS:
        value = value.normalize(_EXACT)  # 28 digits (the default) would round silently
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_FRACTION_DIGITS:
            raise ValueError(f"{_short(str(value))} is too precise: {number_range()}")
    return value


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}...({len(text)} characters)"


def parse_decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"{_short(text)} is out of range: {number_range()}")
    if not PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number (use digits and '.', e.g. 12.50)")
    return bounded_decimal(Decimal(text))


def parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"{_short(text)} is out of range: {number_range()}")
    if not PLAIN_INTEGER.fullmatch(text):
        raise ValueError(f"{text!r} is not a whole number")
    if len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"{_short(text)} is out of range: {number_range()}")
    return int(text)


def parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (e.g. 2026-11-21T09:00:00+08:00)")
    return value


def format_decimal(value: Decimal) -> str:
    """Plain notation, never an exponent, so the text parses back with `parse_decimal`."""
    return format(value, "f")


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no UTC offset; exports need one")
    return value.isoformat()


def operator_code_problem(code: str | None, what: str) -> str | None:
    """Why `code` is not a UPU-style operator/carrier code, or None when it is."""
    if code is None:
        return f"{what} is missing"
    if not OPERATOR_CODE.fullmatch(code):
        return f"{what} {code!r} is not an operator code (3 capital letters, then up to 3 A-Z/0-9)"
    return None


def format_optional(value: T | None, fmt: Callable[[T], str]) -> str | None:
    """`fmt(value)`, or None (a blank cell) when the value is absent."""
    return None if value is None else fmt(value)
