"""Number text as senders may write it: plain notation, bounded length. One rule for the
XML decoder and the CSV/JSON adapters, checked before any text becomes a number, so a
huge value (`1E+1000000`, a 100,000-digit count) costs nothing."""

from __future__ import annotations

import re

#: Plain decimal notation, as xs:decimal and our encoders write it: no exponent, no `_`,
#: no other scripts' digits.
PLAIN_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
PLAIN_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
#: Longer number text is no amount, weight or count anyone can declare: it is not converted.
MAX_NUMBER_CHARS = 40


def is_plain_decimal(text: str) -> bool:
    return len(text) <= MAX_NUMBER_CHARS and PLAIN_DECIMAL.fullmatch(text) is not None


def is_plain_integer(text: str) -> bool:
    return len(text) <= MAX_NUMBER_CHARS and PLAIN_INTEGER.fullmatch(text) is not None
