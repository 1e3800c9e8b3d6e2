"""Strict parsing of text cells and JSON strings: one rule for CSV and JSON alike.

Each parser raises ValueError with a plain-English reason; the caller adds where.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")

# Plain decimal notation only: "1,5", "1e3", "1_000" or "NaN" in an export are mistakes.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
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


def parse_decimal(text: str) -> Decimal:
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number (use digits and '.', e.g. 12.50)")
    return Decimal(text)


def parse_int(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"{text!r} is not a whole number")
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
