"""Dated exchange rates, EUR base: units of a currency per 1 EUR.

Values in EUR let rules compare amounts declared in different currencies
(`TOTAL_VALUE_MISMATCH`, thresholds such as 150 EUR or 300 XDR). The rate for
a day is the latest snapshot on or before it, per currency, so a gap in the
feed (or a currency the feed stops publishing, like BGN after Bulgaria joined
the euro) carries the last value forward.

The packaged `data/rates.csv` is an APPROXIMATE reference table: monthly
snapshots (first TARGET business day) reconstructed without access to the feeds,
close to ECB euro reference rates and the IMF SDR valuation for 2024-2025 and
carried forward unchanged from 2025-12 onwards (docs/data-sources.md). It is
fit for tests, demos and plausibility checks only; production must load the
real ECB/IMF feed into the same CSV shape and pass it to `RateTable.from_csv`.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Final

BASE: Final = "EUR"
CENT: Final = Decimal("0.01")
HEADER: Final = ("effective_from", "currency", "per_eur")

_DATA_FILE: Final = "rates.csv"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: Own context: results must not depend on whatever the caller set as the thread's context.
_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ONE: Final = Decimal(1)


class RateTable:
    """Immutable per-currency series of (effective_from, per_eur), looked up with bisect."""

    __slots__ = ("_series",)

    def __init__(self, rows: Iterable[tuple[date, str, Decimal]]) -> None:
        """Build from (effective_from, currency, per_eur) rows in any order; rates must be > 0."""
        grouped: dict[str, dict[date, Decimal]] = {}
        for effective_from, currency, per_eur in rows:
            if not per_eur.is_finite() or per_eur <= 0:
                raise ValueError(f"{currency} on {effective_from}: rate must be > 0")
            grouped.setdefault(currency, {})[effective_from] = per_eur
        self._series: dict[str, tuple[list[date], list[Decimal]]] = {}
        for currency, by_day in grouped.items():
            days = sorted(by_day)
            self._series[currency] = (days, [by_day[d] for d in days])

    @classmethod
    def from_csv(cls, text: str) -> RateTable:
        """Parse `effective_from,currency,per_eur` CSV (the packaged file or a real feed).

        Every malformed row is refused with a ValueError naming its line, so a
        bad feed fails loudly at load time rather than mispricing items later.
        """
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise ValueError(f"rates line 1: header must be {','.join(HEADER)}, got {header!r}")
        rows: list[tuple[date, str, Decimal]] = []
        seen: set[tuple[date, str]] = set()
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(HEADER):
                raise ValueError(f"rates line {line}: expected 3 fields, got {len(row)}: {row!r}")
            raw_day, currency, raw_rate = (cell.strip() for cell in row)
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                raise ValueError(
                    f"rates line {line}: effective_from {raw_day!r} is not an ISO date"
                ) from None
            if not _CURRENCY.fullmatch(currency):
                raise ValueError(f"rates line {line}: currency {currency!r} is not 3 capitals")
            try:
                per_eur = Decimal(raw_rate)
            except InvalidOperation:
                raise ValueError(
                    f"rates line {line}: per_eur {raw_rate!r} is not a number"
                ) from None
            if not per_eur.is_finite() or per_eur <= 0:
                raise ValueError(f"rates line {line}: per_eur {raw_rate!r} must be > 0")
            if currency == BASE and per_eur != _ONE:
                raise ValueError(f"rates line {line}: EUR is the base, its rate is 1")
            if (day, currency) in seen:
                raise ValueError(f"rates line {line}: duplicate {currency} on {day}")
            seen.add((day, currency))
            rows.append((day, currency, per_eur))
        return cls(rows)

    @classmethod
    def default(cls) -> RateTable:
        """The packaged approximate table, parsed once per process."""
        return _default_table()

    def currencies(self) -> frozenset[str]:
        """Currencies this table can convert, EUR included."""
        return frozenset(self._series) | {BASE}

    def rate(self, currency: str, on: date) -> Decimal | None:
        """Units of `currency` per 1 EUR on `on`; None if the currency is not in the table.

        Uses the latest snapshot on or before `on`; a day before the first
        snapshot uses the first one (better an old rate than no EUR value).
        """
        if currency == BASE:
            return _ONE
        series = self._series.get(currency)
        if series is None:
            return None
        days, values = series
        index = bisect_right(days, on) - 1
        return values[index if index >= 0 else 0]

    def convert(self, amount: Decimal, from_ccy: str, to_ccy: str, on: date) -> Decimal | None:
        """`amount` in `from_ccy` expressed in `to_ccy`, to the cent (ROUND_HALF_EVEN).

        Crosses through EUR in one division so only the final result is rounded.
        None if either currency is unknown; an amount too large to carry cents
        at 28 digits comes back unrounded.
        """
        from_rate = self.rate(from_ccy, on)
        to_rate = self.rate(to_ccy, on)
        if from_rate is None or to_rate is None:
            return None
        # EUR on either side (the common case) saves one Decimal operation on the hot path.
        if to_ccy == BASE:
            value = _CTX.divide(amount, from_rate)
        elif from_ccy == BASE:
            value = _CTX.multiply(amount, to_rate)
        else:
            value = _CTX.divide(_CTX.multiply(amount, to_rate), from_rate)
        try:
            # Positional arguments: keywords make quantize about three times slower.
            return value.quantize(CENT, ROUND_HALF_EVEN, _CTX)
        except InvalidOperation:
            # Too many digits to carry cents (an absurd declared value): keep it
            # comparable rather than failing validation of the whole message.
            return value

    def to_eur(self, amount: Decimal, currency: str, on: date) -> Decimal | None:
        """`amount` in `currency` in EUR, to the cent (ROUND_HALF_EVEN); None if unknown."""
        return self.convert(amount, currency, BASE, on)


@cache
def _default_table() -> RateTable:
    text = (files("messages") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    return RateTable.from_csv(text)
