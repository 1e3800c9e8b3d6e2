"""Synthetic AED traffic: a reproducible stream of labelled files in every intake format.

`generate(options)` is pure: one seeded `random.Random` drives everything
(Faker is re-seeded from it per party), so the same options give the same
bytes in any process (with the same Faker and phonenumbers releases). Items are spread over formats by the option shares,
grouped into messages, and the messages laid out on a timeline that ends at
`options.base_time` (default: now): 3-45 min apart, closer where a run would
otherwise span more than `MAX_SPAN`. The traffic is *current* at base time:
every message is prepared by then, items are posted 1-48 h before their
message but late enough to be inside the 72 h pre-loading limit, and expected
arrivals come after base time, so data received within `FRESH_FOR` of base
time is not LATE_DATA unless labelled so (a defect or the late_data scenario).
With `scenarios`, some item draws become labelled risk scenarios (scenarios.py)
instead of clean items, each of a variant family (variants.py), and about 3 %
of the clean draws become clean traps (`trap_*`); without, the rng is consumed
exactly as before. Clean
items carry no scenario's signal (items.py, parties.py): a run lies within
the risk windows, so a clean buyer gets at most two parcels in it.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.express import Manifest
from adapters.generator.defects import DefectPlanner, Injection, Where, bad_awb
from adapters.generator.formats import (
    path_for,
    render_cusitm,
    render_itmatt,
    render_manifest,
    shipment_of,
    to_legacy,
)
from adapters.generator.geography import (
    CARRIERS,
    COUNTRIES,
    CUSTOMS_OFFICES,
    DESTINATIONS,
    EU_DESTINATIONS,
    ORIGINS,
)
from adapters.generator.hostile import HOSTILE_CASES, HostileCase
from adapters.generator.items import (
    PERSONAL_CATEGORIES,
    Identifiers,
    ItemBuilder,
    pick_category,
    weighted,
)
from adapters.generator.output import MESSAGE_KINDS, Envelope, FileKind, GeneratedFile, Label
from adapters.generator.parties import PartyFactory, PartyPool
from adapters.generator.scenario_base import Scene
from adapters.generator.scenarios import SPLIT_SPREAD, ScenarioPlanner, Staged
from messages.awb import make_awb
from messages.models import (
    CusitmHeader,
    CusitmMessage,
    DeclaredItem,
    ItmattHeader,
    ItmattMessage,
    MessageFunction,
    TransportDocument,
)
from messages.rates import RateTable
from messages.rulebook import DEFAULT_LATE_AFTER

#: Files posted up to this long after base time are still current (not LATE_DATA).
FRESH_FOR = timedelta(hours=2)
#: Every message is prepared within this long before base time, so even the oldest
#: has room for a posting time inside the pre-loading limit (68 h before base time).
MAX_SPAN = timedelta(hours=60)
_MAX_ITEMS_PER_MESSAGE = 10_000
_SERIALS = 10**6


@dataclass(frozen=True, slots=True)
class GeneratorOptions:
    """What to generate. Shares are relative weights of the six intake formats.

    `base_time` is when the traffic is current (see the module docstring); the same
    seed and base time give the same bytes.

    With `defects`, about `defect_rate` of the items get exactly one defect
    each, and a few hostile files are added on top of `items`. With `scenarios`,
    about `scenario_rate` of the item draws become a labelled risk scenario
    (a `splitting` draw yields 3-5 items); scenario items never carry a defect.
    """

    items: int
    seed: int
    base_time: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    defects: bool = False
    defect_rate: float = 0.1
    scenarios: bool = False
    scenario_rate: float = 0.04
    items_per_message: int = 50
    share_itmatt_12: float = 0.35
    share_itmatt_11: float = 0.10
    share_cusitm: float = 0.20
    share_manifest_json: float = 0.15
    share_manifest_csv: float = 0.10
    share_cn23_csv: float = 0.10

    def __post_init__(self) -> None:
        if self.items < 0:
            raise ValueError(f"items must be >= 0, got {self.items}")
        if not 0 <= self.defect_rate <= 1:
            raise ValueError(f"defect_rate must be in [0, 1], got {self.defect_rate}")
        if not 0 <= self.scenario_rate <= 1:
            raise ValueError(f"scenario_rate must be in [0, 1], got {self.scenario_rate}")
        if not 1 <= self.items_per_message <= _MAX_ITEMS_PER_MESSAGE:
            raise ValueError(
                f"items_per_message must be 1..{_MAX_ITEMS_PER_MESSAGE}, "
                f"got {self.items_per_message}"
            )
        if self.base_time.tzinfo is None:
            raise ValueError("base_time needs a UTC offset")
        shares = self.shares()
        if any(share < 0 for share in shares.values()) or sum(shares.values()) <= 0:
            raise ValueError(f"shares must be >= 0 and not all 0, got {shares}")

    def shares(self) -> dict[FileKind, float]:
        return {
            "itmatt-1.2": self.share_itmatt_12,
            "itmatt-1.1": self.share_itmatt_11,
            "cusitm": self.share_cusitm,
            "manifest-json": self.share_manifest_json,
            "manifest-csv": self.share_manifest_csv,
            "cn23-csv": self.share_cn23_csv,
        }


def itmatt_only(items: int, seed: int, **options: object) -> GeneratorOptions:
    """Options for ITMATT 1.2 traffic alone: benchmarks and reference tables read it fastest."""
    shares = dict.fromkeys(
        ("share_itmatt_11", "share_cusitm", "share_manifest_json", "share_manifest_csv",
         "share_cn23_csv"),
        0.0,
    )  # fmt: skip
    return GeneratorOptions(items=items, seed=seed, share_itmatt_12=1.0, **shares, **options)  # type: ignore[arg-type]


def allocate(total: int, shares: dict[FileKind, float]) -> dict[FileKind, int]:
    """Split `total` items over the kinds in proportion to `shares` (largest remainder)."""
    weight = sum(shares.values())
    exact = {kind: total * shares[kind] / weight for kind in MESSAGE_KINDS}
    counts = {kind: math.floor(exact[kind]) for kind in MESSAGE_KINDS}
    short = total - sum(counts.values())
    by_remainder = sorted(
        MESSAGE_KINDS, key=lambda k: (-(exact[k] - counts[k]), MESSAGE_KINDS.index(k))
    )
    for kind in by_remainder[:short]:
        counts[kind] += 1
    return counts


def generate(options: GeneratorOptions) -> Iterator[GeneratedFile]:
    """The files of one run, lazily, in timeline order; hostile files come last."""
    return _Run(options).files()


class _Run:
    """State of one generation run: the one rng, the pools, the identifiers."""

    def __init__(self, options: GeneratorOptions) -> None:
        self.options = options
        # Synthetic test data, not security: a seeded PRNG is the point (reproducibility).
        self.rng = random.Random(options.seed)  # noqa: S311
        self.rates = RateTable.default()
        self.builder = ItemBuilder(self.rates, Identifiers(self.rng))
        factory = self.party_factory = PartyFactory()
        self.sellers = PartyPool(factory.seller, reuse=0.85)
        # A private sender posts a few times, not to a crowd: more than three gifts to
        # strangers in a week is a shop's pattern (gift_misdeclaration), not a clean one.
        self.persons = PartyPool(factory.person, reuse=0.3, uses=3)
        self.addressees = PartyPool(
            factory.person, reuse=0.7, window=3000, recent_bias=False, uses=2
        )
        self.planner = DefectPlanner(enabled=options.defects, rate=options.defect_rate)
        self.scenarios = ScenarioPlanner(enabled=options.scenarios, rate=options.scenario_rate)
        # Posting up to FRESH_FOR after base time stays in time, and split parts are
        # posted up to SPLIT_SPREAD before their first part.
        self.earliest_posting = options.base_time + FRESH_FOR + SPLIT_SPREAD - DEFAULT_LATE_AFTER
        # A run's MessageIds continue from a random serial, so runs of other seeds on
        # the same day (`aedex run --demo` into one database) do not reuse them.
        self.sequence = self.rng.randrange(_SERIALS)
        self.awb_defects = 0

    # ------------------------------------------------------------ plan

    def files(self) -> Iterator[GeneratedFile]:
        rng, ipm = self.rng, self.options.items_per_message
        slots: list[tuple[FileKind, int]] = []
        for kind, count in allocate(self.options.items, self.options.shares()).items():
            while count > 0:
                size = min(count, rng.randint(max(1, ipm // 2), ipm))
                slots.append((kind, size))
                count -= size
        rng.shuffle(slots)
        hostile = HOSTILE_CASES if self.options.defects else ()
        clock = iter(self._timeline(len(slots) + len(hostile)))
        for kind, size in slots:
            prepared = next(clock)
            if kind in ("manifest-json", "manifest-csv"):
                yield self._manifest(kind, size, prepared)
            elif kind == "cusitm":
                yield self._cusitm(size, prepared)
            else:
                yield self._itmatt(kind, size, prepared)
        for number, case in enumerate(hostile, start=1):
            yield self._hostile(number, case, next(clock))

    def _timeline(self, count: int) -> list[datetime]:
        """When each of `count` messages is prepared, oldest first, the last at base time:
        3-45 min apart, evenly closer where that would span more than MAX_SPAN."""
        if count == 0:
            return []
        gaps = [self.rng.randrange(180, 2700) for _ in range(count - 1)]
        span = sum(gaps)
        scale = min(1.0, MAX_SPAN.total_seconds() / span) if span else 1.0
        base = self.options.base_time
        times = [base]
        behind = 0
        for gap in reversed(gaps):
            behind += gap
            times.append(base - timedelta(seconds=round(behind * scale)))
        return times[::-1]

    def _lead(self, prepared: datetime, longest: timedelta) -> timedelta:
        """1 h to `longest`, but posted no earlier than the limit allows at base time."""
        room = (prepared - self.earliest_posting).total_seconds()
        return timedelta(seconds=self.rng.randrange(3600, int(min(longest.total_seconds(), room))))

    def _arrival(self, prepared: datetime, longest: timedelta) -> datetime:
        """An expected arrival FRESH_FOR to `longest` after base time (so after `prepared`)."""
        after = self.rng.randrange(int(FRESH_FOR.total_seconds()), int(longest.total_seconds()))
        return (self.options.base_time + timedelta(seconds=after)).astimezone(prepared.tzinfo)

    def _message_id(self, operator: str, prepared: datetime) -> str:
        self.sequence = (self.sequence + 1) % _SERIALS
        return f"{operator}-{prepared:%Y%m%d}-{self.sequence:06d}"

    def _route(self) -> tuple[str, str]:
        origin = weighted(self.rng, ORIGINS)
        return origin, self._destination(origin)

    def _destination(self, origin: str) -> str:
        while True:
            destination = weighted(self.rng, DESTINATIONS)
            if destination != origin:
                return destination

    def _origin(self, destination: str) -> str:
        while True:
            origin = weighted(self.rng, ORIGINS)
            if origin != destination:
                return origin

    # ------------------------------------------------------------ items

    def _item(
        self,
        origin: str,
        destination: str,
        posted: datetime,
        *,
        express: bool,
        category: str | None = None,
    ) -> DeclaredItem:
        rng = self.rng
        category = category or pick_category(rng, express=express)
        pool = self.persons if category in PERSONAL_CATEGORIES else self.sellers
        return self.builder.build(
            rng,
            category=category,
            sender=pool.pick(origin, rng),
            addressee=self.addressees.pick(destination, rng),
            posted=posted.astimezone(COUNTRIES[origin].tz),
            origin=origin,
            express=express,
        )

    def _posted_before(self, prepared: datetime) -> datetime:
        return prepared - self._lead(prepared, timedelta(hours=48))

    def _draw_items(
        self,
        size: int,
        kind: FileKind,
        prepared: datetime,
        destination: str,
        *,
        origin: str | None = None,
        departure: datetime | None = None,
    ) -> tuple[list[DeclaredItem], list[Staged | None]]:
        """`size` items of one message and, per item, its scenario or None.

        `origin` None draws one per item (CUSITM); `departure` is the express
        posting time. A clean draw consumes the rng as it did before scenarios
        existed: origin, posting time, item.
        """
        items: list[DeclaredItem] = []
        staged: list[Staged | None] = []
        while len(items) < size:
            item_origin = origin if origin is not None else self._origin(destination)
            if self.scenarios.wants(self.rng):
                room = size - len(items)
                scene = self._scene(kind, item_origin, destination, prepared, room, departure)
                case = self.scenarios.stage(scene, self.rng)
                items += case.items
                staged += [case] * len(case.items)
                continue
            if self.scenarios.wants_trap(self.rng):
                room = size - len(items)
                scene = self._scene(kind, item_origin, destination, prepared, room, departure)
                case = self.scenarios.trap(scene, self.rng)
                items += case.items
                staged += [case] * len(case.items)
                continue
            posted = departure if departure is not None else self._posted_before(prepared)
            items.append(
                self._item(item_origin, destination, posted, express=departure is not None)
            )
            staged.append(None)
        return items, staged

    def _scene(
        self,
        kind: FileKind,
        origin: str,
        destination: str,
        prepared: datetime,
        room: int,
        departure: datetime | None,
    ) -> Scene:
        """What a scenario may use: the route and times, clean draws and sellers of this run."""

        def draw(category: str | None) -> DeclaredItem:
            posted = departure if departure is not None else self._posted_before(prepared)
            express = departure is not None
            return self._item(origin, destination, posted, express=express, category=category)

        return Scene(
            kind=kind,
            origin=origin,
            destination=destination,
            prepared_at=prepared,
            room=room,
            rates=self.rates,
            draw=draw,
            seller=lambda: self.sellers.pick(origin, self.rng),
            buyer=lambda: self.party_factory.person(destination, self.rng),
            earliest=self.earliest_posting,
            person=lambda: self.party_factory.person(origin, self.rng),
        )

    def _defects(
        self,
        items: list[DeclaredItem],
        kind: FileKind,
        prepared: datetime,
        staged: list[Staged | None],
    ) -> tuple[list[DeclaredItem], list[Injection | None]]:
        """Defects for clean items only: a scenario item must raise exactly its own warnings."""
        where = Where(kind=kind, prepared_at=prepared, rates=self.rates)
        injections = [
            None if case is not None else self.planner.apply(item, self.rng, where)
            for item, case in zip(items, staged, strict=True)
        ]
        final = [inj.item if inj else item for item, inj in zip(items, injections, strict=True)]
        return final, injections

    def _awb(self, prefixes: tuple[int, ...]) -> tuple[str, bool]:
        """A master AWB; with defects on, the first one and then about defect_rate of them
        get a wrong check digit (so even a small run shows AWB_CHECK_DIGIT)."""
        awb = make_awb(self.rng.choice(prefixes), self.rng.randrange(10**7))
        if not self.options.defects:
            return awb, False
        if self.awb_defects == 0 or self.rng.random() < self.options.defect_rate:
            self.awb_defects += 1
            return bad_awb(awb, self.rng), True
        return awb, False

    # ------------------------------------------------------------ messages

    def _itmatt(self, kind: FileKind, size: int, clock: datetime) -> GeneratedFile:
        origin, destination = self._route()
        prepared = clock.astimezone(COUNTRIES[origin].tz)
        items, staged = self._draw_items(size, kind, prepared, destination, origin=origin)
        if kind == "itmatt-1.1":
            items = [to_legacy(item) for item in items]
        items, injections = self._defects(items, kind, prepared, staged)
        sender, recipient = COUNTRIES[origin].post, COUNTRIES[destination].post
        message_id = self._message_id(sender, prepared)
        message = ItmattMessage(
            version="1.1" if kind == "itmatt-1.1" else "1.2",
            header=ItmattHeader(
                message_id=message_id,
                message_function=MessageFunction.ORIGINAL,
                sender_operator=sender,
                recipient_operator=recipient,
                prepared_at=prepared,
            ),
            items=items,
        )
        path = path_for(kind, message_id)
        envelope = Envelope(kind, message_id, sender, recipient, None, prepared, len(items))
        labels = _item_labels(path, message_id, items, injections, staged)
        return GeneratedFile(path, render_itmatt(message, kind), envelope, labels)

    def _cusitm(self, size: int, clock: datetime) -> GeneratedFile:
        rng = self.rng
        destination = weighted(rng, DESTINATIONS)
        prepared = clock.astimezone(COUNTRIES[destination].tz)
        items, staged = self._draw_items(size, "cusitm", prepared, destination)
        items, injections = self._defects(items, "cusitm", prepared, staged)
        operator, office = COUNTRIES[destination].post, CUSTOMS_OFFICES[destination]
        message_id = self._message_id(operator, prepared)
        awb_defect = False
        if rng.random() < 0.4:
            awb, awb_defect = self._awb(tuple(p for c in CARRIERS for p in c.awb_prefixes))
            document = TransportDocument(type="AWB", value=awb)
        else:
            document = TransportDocument(type="RECEPTACLE", value=self._receptacle(destination))
        message = CusitmMessage(
            header=CusitmHeader(
                message_id=message_id,
                message_function=MessageFunction.ORIGINAL,
                sender_operator=operator,
                customs_office=office,
                prepared_at=prepared,
                expected_arrival=self._arrival(prepared, timedelta(hours=36)),
                transport_document=document,
            ),
            items=items,
        )
        path = path_for("cusitm", message_id)
        envelope = Envelope("cusitm", message_id, operator, None, office, prepared, len(items))
        labels = _item_labels(path, message_id, items, injections, staged)
        if awb_defect:
            labels += (_message_label(path, message_id, "AWB_CHECK_DIGIT"),)
        return GeneratedFile(path, render_cusitm(message), envelope, labels)

    def _receptacle(self, destination: str) -> str:
        """An S9-shaped receptacle id: origin and destination office, category, subclass,
        year, dispatch, receptacle serial, last-receptacle flag, weight in hg."""
        rng = self.rng
        origin = self._origin(destination)

        def office(country: str) -> str:
            return country + "".join(rng.choice(string.ascii_uppercase) for _ in range(3)) + "A"

        return (
            f"{office(origin)}{office(destination)}A{rng.choice(('UA', 'UN', 'CN'))}6"
            f"{rng.randrange(1, 10_000):04d}{rng.randrange(1, 1000):03d}"
            f"{rng.choice('01')}{rng.randrange(10, 300):04d}"
        )

    def _manifest(self, kind: FileKind, size: int, clock: datetime) -> GeneratedFile:
        rng = self.rng
        carrier = rng.choice(CARRIERS)
        origin, destination = self._route()
        prepared = clock.astimezone(COUNTRIES[destination].tz)
        departure = (prepared - self._lead(prepared, timedelta(hours=20))).astimezone(
            COUNTRIES[origin].tz
        )
        arrival = self._arrival(prepared, timedelta(hours=30))
        items, staged = self._draw_items(
            size, kind, prepared, destination, origin=origin, departure=departure
        )
        items, injections = self._defects(items, kind, prepared, staged)
        message_id = self._message_id(carrier.code, prepared)
        # A bad master AWB refuses a manifest whole at the API (422), as a hostile file is
        # refused: the AWB defect goes to CUSITM files only, so every manifest is answered.
        awb = make_awb(rng.choice(carrier.awb_prefixes), rng.randrange(10**7))
        shipments = tuple(shipment_of(item, ioss=_ioss(item, destination)) for item in items)
        manifest = Manifest(
            carrier=carrier.code,
            manifest_id=message_id,
            master_awb=awb,
            flight=f"{rng.choice(carrier.flight_prefixes)}{rng.randrange(1, 10_000)}",
            departure=departure,
            arrival=arrival,
            shipments=shipments,
        )
        office = CUSTOMS_OFFICES[destination]
        path = path_for(kind, message_id)
        envelope = Envelope(kind, message_id, carrier.code, None, office, prepared, len(items))
        labels = _item_labels(path, message_id, items, injections, staged)
        return GeneratedFile(path, render_manifest(manifest, kind), envelope, labels)

    def _hostile(self, number: int, case: HostileCase, clock: datetime) -> GeneratedFile:
        """A small clean ITMATT turned hostile: refused whole with `case.code`."""
        origin, destination = self._route()
        prepared = clock.astimezone(COUNTRIES[origin].tz)
        items = [
            self._item(origin, destination, self._posted_before(prepared), express=False)
            for _ in range(2)
        ]
        sender, recipient = COUNTRIES[origin].post, COUNTRIES[destination].post
        message_id = self._message_id(sender, prepared)
        message = ItmattMessage(
            header=ItmattHeader(
                message_id=message_id,
                message_function=MessageFunction.ORIGINAL,
                sender_operator=sender,
                recipient_operator=recipient,
                prepared_at=prepared,
            ),
            items=items,
        )
        data = case.make(render_itmatt(message, "itmatt-1.2"), self.rng)
        path = f"hostile/{number:02d}-{case.name}.xml"
        envelope = Envelope("hostile", message_id, sender, recipient, None, prepared, len(items))
        label = _message_label(path, message_id, case.code.value)
        return GeneratedFile(path, data, envelope, (label,))


def _ioss(item: DeclaredItem, destination: str) -> str | None:
    """The seller's IOSS number, declared for EU consignments when the seller has one."""
    tax_id = item.sender.tax_id if item.sender is not None else None
    if destination in EU_DESTINATIONS and tax_id is not None and tax_id.startswith("IM"):
        return tax_id
    return None


def _item_labels(
    path: str,
    message_id: str,
    items: list[DeclaredItem],
    injections: list[Injection | None],
    staged: list[Staged | None],
) -> tuple[Label, ...]:
    return tuple(
        _item_label(path, message_id, index, item, injection, case)
        for index, (item, injection, case) in enumerate(
            zip(items, injections, staged, strict=True), start=1
        )
    )


def _item_label(
    path: str,
    message_id: str,
    index: int,
    item: DeclaredItem,
    injection: Injection | None,
    case: Staged | None,
) -> Label:
    """An item's ground truth: its defect, or its scenario, or clean; and the codes it raises."""
    if injection is not None:
        expected = tuple(sorted(c.value for c in injection.expected))
    else:
        expected = case.expected if case is not None else ()
    return Label(
        file=path,
        message_id=message_id,
        item_index=index,
        item_id=item.item_id,
        defect=None if injection is None else injection.defect.value,
        expected=expected,
        scenario=None if case is None else case.scenario,
        variant=None if case is None else case.variant,
    )


def _message_label(path: str, message_id: str | None, code: str) -> Label:
    return Label(path, message_id, None, None, code, (code,))
