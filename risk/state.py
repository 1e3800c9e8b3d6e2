"""What stateful rules read: recent traffic per party key, and reference values.

`RiskState` is the interface; `InMemoryState` serves offline assessment, tests
and benchmarks. The pipeline supplies a database-backed implementation, so
windows survive restarts and are shared by all workers.

Windows are symmetric around an item's event time (posting time, else
receipt): an order split into parcels is caught on every part, also on the
first, when the parts arrive together (the engine observes a whole batch
before it assesses any item of it).
"""

from __future__ import annotations

import csv
import statistics
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Protocol

from messages.canonical import Item, Line

#: Entries older than this (behind the newest event seen) are forgotten: memory stays flat.
DEFAULT_RETENTION = timedelta(days=7)
#: Online reference values need this many accepted lines per HS heading and origin.
MIN_SAMPLES = 30
_SAMPLES_KEPT = 256
_ZERO = Decimal(0)
#: Window spans by hours, built once (rules use a handful of window sizes).
_SPANS: dict[float, timedelta] = {}
_RECOMPUTE_EVERY = 64


@dataclass(frozen=True, slots=True)
class Reference:
    """Typical value of accepted goods: median EUR per kg and per unit, and the low end
    (10th percentile) per unit, under which hardly any genuine declaration falls."""

    value_per_kg: float | None
    value_per_unit: float | None
    samples: int
    value_per_unit_p10: float | None = None


def low_decile(values: list[float] | deque[float]) -> float | None:
    """10th percentile, or None with fewer than 10 values."""
    return statistics.quantiles(values, n=10)[0] if len(values) >= 10 else None


class RiskState(Protocol):
    def observe(self, item: Item) -> None:
        """Record an item in the windows (idempotent per item id: a replacement is not counted twice)."""

    def learn(self, item: Item) -> None:
        """Add a released item's lines to the reference values (flagged items never are:
        undervalued goods must not drag the reference down)."""

    def window(self, key: str, at: datetime, hours: float) -> tuple[int, Decimal]:
        """(items, total EUR value) for `key` with event times within `hours` of `at`."""

    def reference(self, hs_code: str, origin: str | None) -> Reference | None:
        """Reference values for the HS subheading and origin, falling back to the subheading
        from any origin, then the heading (4 digits) with and without origin."""


def pair_key(sender_key: str | None, addressee_key: str | None) -> str:
    """One sender to one addressee: the key of a split order."""
    return f"{sender_key}>{addressee_key}"


def event_time(item: Item) -> datetime:
    return item.posting_at or item.received_at


def load_reference_table(text: str | None = None) -> dict[tuple[str, str], Reference]:
    """Reference values from CSV (hs, origin, value_per_kg_eur, value_per_unit_eur, samples,
    value_per_unit_p10_eur).

    An empty origin means "any origin". The packaged table is the cold start;
    `InMemoryState` learns from accepted traffic on top of it.
    """
    if text is None:
        text = resources.files("risk").joinpath("data/reference_values.csv").read_text("utf-8")
    table: dict[tuple[str, str], Reference] = {}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        table[(row["hs"], row["origin"])] = Reference(
            float(row["value_per_kg_eur"]) if row["value_per_kg_eur"] else None,
            float(row["value_per_unit_eur"]) if row["value_per_unit_eur"] else None,
            int(row["samples"]),
            float(row["value_per_unit_p10_eur"]) if row.get("value_per_unit_p10_eur") else None,
        )
    return table


class _Samples:
    """Recent per-kg and per-unit values of one heading/origin, with a lazily kept median."""

    __slots__ = ("per_kg", "per_unit", "seen", "current")

    def __init__(self) -> None:
        self.per_kg: deque[float] = deque(maxlen=_SAMPLES_KEPT)
        self.per_unit: deque[float] = deque(maxlen=_SAMPLES_KEPT)
        self.seen = 0
        self.current: Reference | None = None

    def add(self, line: Line) -> None:
        if line.value_eur is None or line.value_eur <= 0:
            return
        if line.net_weight_kg:
            self.per_kg.append(float(line.value_eur / line.net_weight_kg))
        if line.quantity:
            self.per_unit.append(float(line.value_eur) / line.quantity)
        self.seen += 1
        if self.seen >= MIN_SAMPLES and (self.current is None or self.seen % _RECOMPUTE_EVERY == 0):
            self.current = Reference(
                statistics.median(self.per_kg) if self.per_kg else None,
                statistics.median(self.per_unit) if self.per_unit else None,
                self.seen,
                low_decile(self.per_unit),
            )


class InMemoryState:
    """Windows and references in process memory, bounded by `retention`."""

    def __init__(
        self,
        references: dict[tuple[str, str], Reference] | None = None,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        learn: bool = True,
    ) -> None:
        self._references = load_reference_table() if references is None else references
        self._learned: dict[tuple[str, str], _Samples] = {}
        self._learn = learn
        self._retention = retention
        self._by_key: dict[str, dict[str, tuple[datetime, Decimal]]] = {}
        self._arrivals: deque[tuple[datetime, str, str]] = deque()
        self._newest: datetime | None = None
        self._last_window: tuple[str, datetime | None, float, tuple[int, Decimal]] = (
            "",
            None,
            0.0,
            (0, _ZERO),
        )

    def observe(self, item: Item) -> None:
        at = event_time(item)
        value = item.total_value_eur or Decimal(0)
        for key in (
            item.addressee_key,
            item.sender_key,
            pair_key(item.sender_key, item.addressee_key),
        ):
            # Every observation gets an arrival record, so a corrected item (new time) is
            # still forgotten later; stale records are skipped in `_forget`.
            self._by_key.setdefault(key, {})[item.item_id] = (at, value)
            self._last_window = ("", None, 0.0, (0, _ZERO))
            self._arrivals.append((at, key, item.item_id))
        if self._newest is None or at > self._newest:
            self._newest = at
            self._forget(at - self._retention)

    def learn(self, item: Item) -> None:
        if not self._learn:
            return
        learned = self._learned
        for line in item.lines:
            if line.hs_code and len(line.hs_code) >= 6:
                for code in (line.hs_code[:6], line.hs_code[:4]):
                    for origin in (line.origin or "", ""):
                        samples = learned.get((code, origin))
                        if samples is None:
                            samples = learned[(code, origin)] = _Samples()
                        samples.add(line)

    def _forget(self, before: datetime) -> None:
        arrivals = self._arrivals
        while arrivals and arrivals[0][0] < before:
            at, key, item_id = arrivals.popleft()
            entries = self._by_key.get(key)
            if entries is not None and item_id in entries and entries[item_id][0] < before:
                del entries[item_id]
                if not entries:
                    del self._by_key[key]

    def window(self, key: str, at: datetime, hours: float) -> tuple[int, Decimal]:
        # Rules ask count and value of the same window in a row: answer the repeat from memory.
        last = self._last_window
        if last[0] == key and last[1] == at and last[2] == hours:
            return last[3]
        entries = self._by_key.get(key)
        if not entries:
            result: tuple[int, Decimal] = (0, _ZERO)
        else:
            span = _SPANS.get(hours)
            if span is None:
                span = _SPANS[hours] = timedelta(hours=hours)
            low, high = at - span, at + span
            count, total = 0, _ZERO
            for when, value in entries.values():
                if low <= when <= high:
                    count += 1
                    total += value
            result = (count, total)
        self._last_window = (key, at, hours, result)
        return result

    def reference(self, hs_code: str, origin: str | None) -> Reference | None:
        subheading, heading, origin = hs_code[:6], hs_code[:4], origin or ""
        for key in ((subheading, origin), (subheading, ""), (heading, origin), (heading, "")):
            learned = self._learned.get(key)
            if learned is not None and learned.current is not None:
                return learned.current
            seeded = self._references.get(key)
            if seeded is not None:
                return seeded
        return None

    def size(self) -> int:
        """Entries held in windows (for memory checks)."""
        return sum(len(v) for v in self._by_key.values())
