"""IATA air waybill numbers: 3-digit airline prefix, 7-digit serial, mod-7 check digit."""

from __future__ import annotations

import re

AWB_PATTERN = re.compile(r"^(\d{3})-?(\d{7})(\d)$")


def awb_problem(awb: str) -> str | None:
    """None when `awb` is a valid `NNN-NNNNNNNN`; otherwise why it is not."""
    match = AWB_PATTERN.match(awb.strip())
    if match is None:
        return f"{awb!r} is not an air waybill number (NNN-NNNNNNNN)"
    serial, digit = int(match.group(2)), int(match.group(3))
    if serial % 7 != digit:
        return f"air waybill {awb!r} has check digit {digit}; serial {match.group(2)} mod 7 is {serial % 7}"
    return None


def make_awb(prefix: int, serial: int) -> str:
    """A valid AWB for airline `prefix` (0..999) and 7-digit `serial`."""
    if not (0 <= prefix <= 999 and 0 <= serial <= 9_999_999):
        raise ValueError("prefix must be 0..999 and serial 0..9999999")
    return f"{prefix:03d}-{serial:07d}{serial % 7}"
