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
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Protocol

from messages.canonical import Item
from risk.parties import Link, link_record, parse_link, same_person, sender_evidence

#: Entries older than this (behind the newest event seen) are forgotten: memory stays flat.
DEFAULT_RETENTION = timedelta(days=7)
#: Online reference values need this many accepted lines per HS heading and origin.
MIN_SAMPLES = 30
_SAMPLES_KEPT = 256
_ZERO = Decimal(0)
_RECOMPUTE_EVERY = 64
#: Reference answers remembered between recomputations (bounded).
_MEMO_SIZE = 20_000


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
    return _low_decile_sorted(sorted(values))


def _low_decile_sorted(data: list[float]) -> float | None:
    """`statistics.quantiles(data, n=10)[0]` (exclusive method) of data already sorted."""
    size = len(data)
    if size < 10:
        return None
    position = size + 1
    j = min(max(position // 10, 1), size - 1)
    delta = position - j * 10
    return (data[j - 1] * (10 - delta) + data[j] * delta) / 10


def _median_sorted(data: list[float]) -> float | None:
    size = len(data)
    if not size:
        return None
    half = size // 2
    return data[half] if size % 2 else (data[half - 1] + data[half]) / 2


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

    def linked(self, item: Item, hours: float) -> LinkedWindow:
        """Items within `hours` of `item` to the same person (name variants at one door)
        from a linked sender (same key, warehouse or phone), the item itself included."""


@dataclass(frozen=True, slots=True)
class LinkedWindow:
    """A party window with the evidence that links its items, for the hit's reason."""

    count: int
    value_eur: Decimal
    names: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    #: Distinct ways the addressee's name was written (case, order, titles included).
    spellings: int = 0

    @property
    def disguised(self) -> bool:
        """The parts hide their link: the addressee written several ways, or senders that
        share only a warehouse or a phone."""
        return (
            self.spellings > 1
            or len(self.names) > 1
            or any(link != "same sender" for link in self.links)
        )

    @property
    def evidence(self) -> str:
        names = " / ".join(repr(n) for n in self.names)
        how = ", ".join(self.links) or "same sender"
        if len(self.names) > 1:
            return f"addressee written {names}; {how}"
        if self.spellings > 1:
            return f"addressee {names} written {self.spellings} ways; {how}"
        return how


NO_LINKS = LinkedWindow(0, Decimal(0))


def pair_key(sender_key: str | None, addressee_key: str | None) -> str:
    """One sender to one addressee: the key of a split order."""
    return f"{sender_key}>{addressee_key}"


def gift_sender_key(item: Item) -> str | None:
    """The addressees of one sender's gifts: a private person does not give presents to
    many strangers in a week; a shop declaring its sales as gifts does."""
    return f"G|{item.sender_key}" if item.category == "GIFT" else None


def window_entries(item: Item) -> tuple[tuple[str, str], ...]:
    """(key, member) pairs an item is counted under: its addressee, its sender, the pair
    and its party links (risk.parties) count the item; a gift also counts its addressee
    among its sender's gift addressees (one per addressee, however many gifts)."""
    keys = [item.addressee_key, item.sender_key, pair_key(item.sender_key, item.addressee_key)]
    link = link_record(item)
    if link is not None:
        keys.append(link)
    entries = [(key, item.item_id) for key in keys]
    gifts = gift_sender_key(item)
    if gifts is not None:
        entries.append((gifts, item.addressee_key))
    return tuple(entries)


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

    def add(self, per_kg: float | None, per_unit: float | None) -> bool:
        """Add one line's values; True when the reference values were recomputed."""
        if per_kg is not None:
            self.per_kg.append(per_kg)
        if per_unit is not None:
            self.per_unit.append(per_unit)
        self.seen += 1
        if self.seen >= MIN_SAMPLES and (self.current is None or self.seen % _RECOMPUTE_EVERY == 0):
            units = sorted(self.per_unit)
            self.current = Reference(
                _median_sorted(sorted(self.per_kg)),
                _median_sorted(units),
                self.seen,
                _low_decile_sorted(units),
            )
            return True
        return False


def _reference_keys(hs_code: str, origin: str) -> tuple[tuple[str, str], ...]:
    """Most to least specific: subheading and origin, subheading, heading and origin, heading."""
    subheading, heading = hs_code[:6], hs_code[:4]
    if not origin:
        return ((subheading, ""), (heading, ""))
    return ((subheading, origin), (subheading, ""), (heading, origin), (heading, ""))


class InMemoryState:
    """Windows and references in process memory, bounded by `retention`.

    Times are held as POSIX seconds: comparing aware datetimes of different
    UTC offsets costs an offset lookup per comparison, and windows compare a
    lot. Arrivals older than `retention` behind the newest event are dropped.
    """

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
        self._retention = retention.total_seconds()
        self._by_key: dict[str, dict[str, tuple[float, Decimal]]] = {}
        self._arrivals: deque[tuple[float, str, str]] = deque()
        self._newest: float | None = None
        self._moment: tuple[datetime | None, float] = (None, 0.0)
        self._reference_memo: dict[tuple[str, str | None], Reference | None] = {}
        self._last_window: tuple[str, float, float, tuple[int, Decimal]] = (
            "",
            0.0,
            0.0,
            (0, _ZERO),
        )
        #: Address block -> the link records seen there (risk.parties).
        self._blocks: dict[str, dict[str, Link]] = {}

    def observe(self, item: Item) -> None:
        at = event_time(item).timestamp()
        value = item.total_value_eur or _ZERO
        for key, member in window_entries(item):
            self.restore(key, member, at, value)

    def restore(self, key: str, item_id: str, at: float, value: Decimal) -> None:
        """Record one item under one window key (`at` in POSIX seconds): what `observe`
        does per key, and how a persistent store reloads its windows."""
        # Every observation gets an arrival record, so a corrected item (new time) is
        # still forgotten later; stale records are skipped in `_forget`.
        entries = self._by_key.get(key)
        if entries is None:
            entries = self._by_key[key] = {}
            link = parse_link(key)
            if link is not None:
                self._blocks.setdefault(link.block, {})[key] = link
        entries[item_id] = (at, value)
        self._arrivals.append((at, key, item_id))
        self._last_window = ("", 0.0, 0.0, (0, _ZERO))
        if self._newest is None or at > self._newest:
            self._newest = at
            self._forget(at - self._retention)

    def learn(self, item: Item) -> None:
        if not self._learn:
            return
        learned = self._learned
        for line in item.lines:
            code, value = line.hs_code, line.value_eur
            if not code or len(code) < 6 or value is None or value <= 0:
                continue
            # A line teaches up to four keys: convert its values once, not per key.
            euros = float(value)
            per_kg = euros / float(line.net_weight_kg) if line.net_weight_kg else None
            per_unit = euros / line.quantity if line.quantity else None
            for key in _reference_keys(code, line.origin or ""):
                samples = learned.get(key)
                if samples is None:
                    samples = learned[key] = _Samples()
                if samples.add(per_kg, per_unit):
                    self._reference_memo.clear()

    def _forget(self, before: float) -> None:
        arrivals = self._arrivals
        while arrivals and arrivals[0][0] < before:
            at, key, item_id = arrivals.popleft()
            entries = self._by_key.get(key)
            if entries is not None and item_id in entries and entries[item_id][0] < before:
                del entries[item_id]
                if not entries:
                    del self._by_key[key]

    def window(self, key: str, at: datetime, hours: float) -> tuple[int, Decimal]:
        # Rules ask several windows of one item: convert its time once.
        if at is self._moment[0]:
            moment = self._moment[1]
        else:
            moment = at.timestamp()
            self._moment = (at, moment)
        # Rules ask count and value of the same window in a row: answer the repeat from memory.
        last = self._last_window
        if last[0] == key and last[1] == moment and last[2] == hours:
            return last[3]
        entries = self._by_key.get(key)
        if not entries:
            result: tuple[int, Decimal] = (0, _ZERO)
        else:
            span = hours * 3600.0
            low, high = moment - span, moment + span
            count, total = 0, _ZERO
            for when, value in entries.values():
                if low <= when <= high:
                    count += 1
                    total += value
            result = (count, total)
        self._last_window = (key, moment, hours, result)
        return result

    def linked(self, item: Item, hours: float) -> LinkedWindow:
        record = link_record(item)
        mine = parse_link(record) if record is not None else None
        if mine is None:
            return NO_LINKS
        block = self._blocks.get(mine.block)
        if not block:
            return NO_LINKS
        moment = event_time(item).timestamp()
        low, high = moment - hours * 3600.0, moment + hours * 3600.0
        count, total = 0, _ZERO
        names: dict[str, None] = {}
        links: dict[str, None] = {}
        spellings: set[str] = set()
        for key, link in list(block.items()):
            entries = self._by_key.get(key)
            if entries is None:
                del block[key]  # forgotten: every item of that record left the retention
                continue
            if link.names != mine.names and not same_person(link.names, mine.names):
                continue
            how = sender_evidence(mine.senders, link.senders)
            if how is None:
                continue
            seen = 0
            for when, value in entries.values():
                if low <= when <= high:
                    seen += 1
                    total += value
            if seen:
                count += seen
                names[" ".join(link.names)] = None
                links[how] = None
                spellings.add(link.spelling)
        return LinkedWindow(count, total, tuple(names), tuple(links), len(spellings))

    def reference(self, hs_code: str, origin: str | None) -> Reference | None:
        # Several rules ask about the same goods; answers change only when a median is
        # recomputed (`learn` then forgets them all).
        memo = self._reference_memo
        key = (hs_code, origin)
        if key in memo:
            return memo[key]
        found: Reference | None = None
        learned, seeded = self._learned, self._references
        for candidate in _reference_keys(hs_code, origin or ""):
            samples = learned.get(candidate)
            if samples is not None and samples.current is not None:
                found = samples.current
                break
            found = seeded.get(candidate)
            if found is not None:
                break
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = found
        return found

    def size(self) -> int:
        """Entries held in windows (for memory checks)."""
        return sum(len(v) for v in self._by_key.values())
