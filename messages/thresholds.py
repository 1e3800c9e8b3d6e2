"""Dated value thresholds (de minimis, form limits, flat duties) and their legal sources.

Thresholds change by law on known dates (the EU 3 EUR flat duty from
2026-07-01, the US de minimis suspension from 2025-08-29), and rules must
judge an item by the law on its own event date, so each threshold is a set of
dated rows rather than a constant. `effective_to` is the last day in force
(inclusive); empty means still in force.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Final

from messages.rates import RateTable

EU_LOW_VALUE: Final = "EU_LOW_VALUE"
EU_FLAT_DUTY_PER_SUBHEADING: Final = "EU_FLAT_DUTY_PER_SUBHEADING"
EU_GIFT_RELIEF: Final = "EU_GIFT_RELIEF"
CN22_LIMIT: Final = "CN22_LIMIT"
US_DE_MINIMIS: Final = "US_DE_MINIMIS"

HEADER: Final = ("name", "amount", "currency", "effective_from", "effective_to", "source")
_DATA_FILE: Final = "thresholds.csv"


@dataclass(frozen=True, slots=True)
class Threshold:
    name: str
    amount: Decimal
    currency: str
    effective_from: date
    effective_to: date | None
    source: str

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


def parse_csv(text: str) -> tuple[Threshold, ...]:
    """Parse thresholds CSV (`HEADER` columns); a malformed or overlapping row raises ValueError."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise ValueError(f"thresholds line 1: header must be {','.join(HEADER)}, got {header!r}")
    parsed: list[Threshold] = []
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            raise ValueError(
                f"thresholds line {line}: expected {len(HEADER)} fields, got {len(row)}"
            )
        name, raw_amount, currency, raw_from, raw_to, source = (cell.strip() for cell in row)
        try:
            amount = Decimal(raw_amount)
            effective_from = date.fromisoformat(raw_from)
            effective_to = date.fromisoformat(raw_to) if raw_to else None
        except (InvalidOperation, ValueError):
            raise ValueError(f"thresholds line {line}: bad amount or date in {row!r}") from None
        if not name or not source or len(currency) != 3 or not amount.is_finite() or amount < 0:
            raise ValueError(f"thresholds line {line}: name, currency, amount >= 0, source needed")
        if effective_to is not None and effective_to < effective_from:
            raise ValueError(f"thresholds line {line}: effective_to before effective_from")
        parsed.append(Threshold(name, amount, currency, effective_from, effective_to, source))
    _check_no_overlap(parsed)
    return tuple(parsed)


def _check_no_overlap(rows: Iterable[Threshold]) -> None:
    # Two rows in force on one day would make `threshold()` depend on file order.
    by_name: dict[str, list[Threshold]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    for name, dated in by_name.items():
        dated.sort(key=lambda t: t.effective_from)
        for earlier, later in zip(dated, dated[1:], strict=False):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                raise ValueError(f"thresholds: {name} rows overlap at {later.effective_from}")


@cache
def _by_name() -> dict[str, tuple[Threshold, ...]]:
    text = (files("messages") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    grouped: dict[str, list[Threshold]] = {}
    for row in parse_csv(text):
        grouped.setdefault(row.name, []).append(row)
    return {name: tuple(rows) for name, rows in grouped.items()}


def threshold_names() -> frozenset[str]:
    """Every name in the packaged table, for checking rule files at load time."""
    return frozenset(_by_name())


def threshold(name: str, on: date) -> Threshold | None:
    """The threshold `name` in force on `on`, or None if none is.

    An unknown name raises KeyError: a misspelt name is a bug, not "no threshold".
    """
    for row in _by_name()[name]:
        if row.in_force(on):
            return row
    return None


def threshold_eur(name: str, on: date, rates: RateTable) -> Decimal | None:
    """The threshold in force on `on` converted to EUR with `rates` on that day, or None."""
    row = threshold(name, on)
    if row is None:
        return None
    return rates.to_eur(row.amount, row.currency, on)
