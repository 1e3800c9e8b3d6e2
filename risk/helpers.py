"""The functions a rule may call, and nothing else.

Each helper is declared with its arity, the kind it returns, and whether it
takes a named list or reads `RiskState`. The compiler binds list names to
compiled matchers at load time, so `matches(l.description, "battery_words")`
costs one regex search at run time and a misspelt list name is a load error.
All helpers accept None (missing data) and answer False/None rather than fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from messages.canonical import Item, Line, PartyRecord
from risk.fields import Kind
from risk.lists import KeywordChapters, ListKind, WordMatcher
from risk.matcher import Match
from risk.state import (
    Reference,
    RiskState,
    event_time,
    gift_sender_key,
    pair_key,
)
from risk.watchlist import WatchHit, Watchlist

DEFAULT_WATCHLIST_SCORE = 80.0


@dataclass(frozen=True, slots=True)
class HelperSpec:
    """How a helper may be called; `usage` is shown in error messages."""

    name: str
    usage: str
    min_args: int
    max_args: int | None
    returns: Kind
    #: Position of the list-name argument, which must be a string literal naming a list.
    list_arg: int | None = None
    list_kind: ListKind | None = None
    #: Default list name when the list argument is left out (country_risk).
    default_list: str | None = None
    #: Reads RiskState: the compiled call passes the state and the item first.
    stateful: bool = False
    #: Takes exactly one generator expression over item.lines.
    generator: bool = False
    #: Return kind is the generator's element kind (first, min, max, sum).
    returns_element: bool = False
    keywords: frozenset[str] = field(default_factory=frozenset)


def hs_in(code: str | None, *prefixes: str) -> bool:
    """True when the HS code starts with any prefix ("8507" covers 850760)."""
    return bool(code) and code.startswith(prefixes)  # type: ignore[union-attr]


def no_values() -> Any:
    """min()/max() over no lines: the rule cannot say, as with an empty generator."""
    raise ValueError("no values")


def first(values: Iterable[Any]) -> Any:
    """The first value of a generator, or None: for reasons naming the offending line."""
    for value in values:
        return value
    return None


def window_count(state: RiskState, item: Item, key: str | None, hours: float) -> int:
    if not key:
        return 0
    return state.window(key, event_time(item), hours)[0]


def window_value_eur(state: RiskState, item: Item, key: str | None, hours: float) -> Decimal:
    if not key:
        return Decimal(0)
    return state.window(key, event_time(item), hours)[1]


def linked_count(state: RiskState, item: Item, days: float) -> int:
    """Items to this person (name variants at one door) from a linked sender within `days`."""
    return state.linked(item, days * 24).count


def linked_value_eur(state: RiskState, item: Item, days: float) -> Decimal:
    return state.linked(item, days * 24).value_eur


def linked_evidence(state: RiskState, item: Item, days: float) -> str:
    """What links the items of `linked_count`: the addressee's spellings, the sender links."""
    return state.linked(item, days * 24).evidence


def linked_disguised(state: RiskState, item: Item, days: float) -> bool:
    """The linked items vary the addressee's spelling or the sender's name: a split that hides."""
    return state.linked(item, days * 24).disguised


def gift_count(state: RiskState, item: Item, days: float) -> int:
    """Addressees of gifts from this item's sender within `days` (0 when it is no gift)."""
    key = gift_sender_key(item)
    return state.window(key, event_time(item), days * 24)[0] if key else 0


#: "Unknown" for ratios: every comparison with NaN is false, so a rule without data stays quiet.
UNKNOWN = float("nan")


def value_per_kg_ratio(state: RiskState, item: Item, line: Line | None) -> float:
    """Declared EUR per kg over the reference median for the line's HS heading and origin."""
    if line is None or not line.hs_code or line.value_eur is None or not line.net_weight_kg:
        return UNKNOWN
    reference = state.reference(line.hs_code, line.origin)
    if reference is None or not reference.value_per_kg:
        return UNKNOWN
    return float(line.value_eur / line.net_weight_kg) / reference.value_per_kg


def _per_unit(state: RiskState, line: Line | None) -> tuple[float, Reference] | None:
    """Declared EUR per unit and the reference for the line's goods, when both are known."""
    if line is None or not line.hs_code or line.value_eur is None or not line.quantity:
        return None
    reference = state.reference(line.hs_code, line.origin)
    if reference is None:
        return None
    return float(line.value_eur) / line.quantity, reference


def value_per_unit_ratio(state: RiskState, item: Item, line: Line | None) -> float:
    """Declared EUR per unit over the reference median for the line's HS code and origin."""
    known = _per_unit(state, line)
    if known is None or not known[1].value_per_unit:
        return UNKNOWN
    return known[0] / known[1].value_per_unit


def value_per_unit_low_ratio(state: RiskState, item: Item, line: Line | None) -> float:
    """Declared EUR per unit over the 10th percentile of accepted goods of its kind.

    Below 1, the declaration is cheaper than nine in ten genuine ones; well
    below 1, it is cheaper than practically all of them.
    """
    known = _per_unit(state, line)
    if known is None or not known[1].value_per_unit_p10:
        return UNKNOWN
    return known[0] / known[1].value_per_unit_p10


#: Parties remembered per watchlist before the memory is dropped and rebuilt.
_SCREEN_CACHE = 50_000


def bind_matches(matcher: WordMatcher) -> Callable[[str | None], bool]:
    return matcher.matches


def bind_matched(matcher: WordMatcher) -> Callable[[str | None], Match | None]:
    """For reasons: which term a text was read as, and how ("'R0lex' read as 'rolex'")."""
    return matcher.find_match


def bind_only_words(matcher: WordMatcher) -> Callable[[str | None], bool]:
    return matcher.covers


def bind_watchlist(watchlist: Watchlist) -> Callable[..., WatchHit | None]:
    # Senders and addressees recur (shops post daily, buyers order again): remember answers.
    cache: dict[tuple[str | None, str | None, str | None, float], WatchHit | None] = {}

    def screen(
        party: PartyRecord | None, min_score: float = DEFAULT_WATCHLIST_SCORE
    ) -> WatchHit | None:
        if party is None:
            return None
        key = (party.name, party.business_name, party.country, min_score)
        if key in cache:
            return cache[key]
        if len(cache) >= _SCREEN_CACHE:
            cache.clear()
        found = cache[key] = watchlist.screen(
            [party.name, party.business_name], party.country, min_score
        )
        return found

    return screen


def bind_hs_mismatch(chapters: KeywordChapters) -> Callable[[Line | None], bool]:
    def mismatch(line: Line | None) -> bool:
        if line is None or not line.hs_code:
            return False
        expected = chapters.expected(line.description)
        return bool(expected) and not line.hs_code.startswith(expected)

    return mismatch


def bind_hs_expected(chapters: KeywordChapters) -> Callable[[str | None], str]:
    def expected(text: str | None) -> str:
        keyword = chapters.keyword(text)
        if keyword is None:
            return ""
        return f"{keyword!r} implies HS {'/'.join(chapters.expected(text))}"

    return expected


def bind_country_risk(weights: dict[str, float]) -> Callable[[str | None], float]:
    def risk(code: str | None) -> float:
        return weights.get(code.upper(), 0.0) if code else 0.0

    return risk


#: Binders for list-taking helpers: list object -> callable with the list argument removed.
BINDERS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "matches": bind_matches,
    "matched": bind_matched,
    "only_words": bind_only_words,
    "watchlist": bind_watchlist,
    "hs_mismatch": bind_hs_mismatch,
    "hs_expected": bind_hs_expected,
    "country_risk": bind_country_risk,
}

#: Plain functions the compiled code calls by name.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "any": any,
    "all": all,
    "len": len,
    "sum": sum,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "first": first,
    "bool": bool,
    "no_values": no_values,
    "hs_in": hs_in,
    "pair_key": pair_key,
    "window_count": window_count,
    "window_value_eur": window_value_eur,
    "value_per_kg_ratio": value_per_kg_ratio,
    "value_per_unit_ratio": value_per_unit_ratio,
    "value_per_unit_low_ratio": value_per_unit_low_ratio,
    "linked_count": linked_count,
    "linked_value_eur": linked_value_eur,
    "linked_evidence": linked_evidence,
    "linked_disguised": linked_disguised,
    "gift_count": gift_count,
}

HELPERS: dict[str, HelperSpec] = {
    spec.name: spec
    for spec in (
        HelperSpec("any", "any(<condition> for l in item.lines)", 1, 1, "bool", generator=True),
        HelperSpec("all", "all(<condition> for l in item.lines)", 1, 1, "bool", generator=True),
        HelperSpec("first", "first(<value> for l in item.lines if <condition>)", 1, 1, "any",
                   generator=True, returns_element=True),
        HelperSpec("sum", "sum(<number> for l in item.lines)", 1, 1, "num", generator=True,
                   returns_element=True),
        HelperSpec("min", "min(<number> for l in item.lines)", 1, 1, "num", generator=True,
                   returns_element=True),
        HelperSpec("max", "max(<number> for l in item.lines)", 1, 1, "num", generator=True,
                   returns_element=True),
        HelperSpec("len", "len(item.lines) or len(text)", 1, 1, "num"),
        HelperSpec("abs", "abs(number)", 1, 1, "num"),
        HelperSpec("round", "round(number, digits)", 1, 2, "num"),
        HelperSpec("hs_in", 'hs_in(l.hs_code, "8507", "850650", ...)', 2, None, "bool"),
        HelperSpec("matches", 'matches(text, "list_name")', 2, 2, "bool", list_arg=1,
                   list_kind="words"),
        HelperSpec("matched", 'matched(text, "list_name")', 2, 2, "any", list_arg=1,
                   list_kind="words"),
        HelperSpec("only_words", 'only_words(text, "list_name")', 2, 2, "bool", list_arg=1,
                   list_kind="words"),
        HelperSpec("watchlist", 'watchlist(item.sender, "list_name", min_score=80)', 2, 2,
                   "watch", list_arg=1, list_kind="parties",
                   keywords=frozenset({"min_score"})),
        HelperSpec("hs_mismatch", 'hs_mismatch(l, "keyword_map_name")', 2, 2, "bool",
                   list_arg=1, list_kind="keyword_map"),
        HelperSpec("hs_expected", 'hs_expected(l.description, "keyword_map_name")', 2, 2,
                   "str", list_arg=1, list_kind="keyword_map"),
        HelperSpec("country_risk", 'country_risk(code) or country_risk(code, "weights_name")',
                   1, 2, "num", list_arg=1, list_kind="weights", default_list="country_risk"),
        HelperSpec("pair_key", "pair_key(item.sender_key, item.addressee_key)", 2, 2, "str"),
        HelperSpec("window_count", "window_count(item.addressee_key, hours)", 2, 2, "num",
                   stateful=True),
        HelperSpec("window_value_eur", "window_value_eur(item.addressee_key, hours)", 2, 2,
                   "num", stateful=True),
        HelperSpec("value_per_kg_ratio", "value_per_kg_ratio(l)", 1, 1, "num", stateful=True),
        HelperSpec("value_per_unit_ratio", "value_per_unit_ratio(l)", 1, 1, "num",
                   stateful=True),
        HelperSpec("value_per_unit_low_ratio", "value_per_unit_low_ratio(l)", 1, 1, "num",
                   stateful=True),
        HelperSpec("linked_count", "linked_count(days)", 1, 1, "num", stateful=True),
        HelperSpec("linked_value_eur", "linked_value_eur(days)", 1, 1, "num", stateful=True),
        HelperSpec("linked_evidence", "linked_evidence(days)", 1, 1, "str", stateful=True),
        HelperSpec("linked_disguised", "linked_disguised(days)", 1, 1, "bool", stateful=True),
        HelperSpec("gift_count", "gift_count(days)", 1, 1, "num", stateful=True),
    )
}  # fmt: skip
