"""Named lists of a ruleset, compiled once into the objects helpers use at line rate.

A ruleset's `lists:` section holds four shapes, told apart by their content:

- words: `[battery, power bank, li-ion]` for `matches(text, "name")`;
- weights: `{CN: 0.2, KP: 1.0}` for `country_risk(code)`;
- keyword map: `{t-shirt: ["61"], jeans: ["62"]}` for `hs_mismatch(line, "name")`;
- parties: `[{name: ..., country: ..., ref: ...}]` for `watchlist(party, "name")`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from messages.text import fold
from risk.watchlist import Watchlist, WatchlistEntry

ListKind = Literal["words", "weights", "keyword_map", "parties"]


@lru_cache(maxsize=65_536)
def folded(text: str) -> str:
    """`messages.text.fold`, cached: descriptions and names repeat across items."""
    return fold(text)


#: Texts remembered per matcher before the memory is dropped and rebuilt.
_MATCH_CACHE = 20_000


class WordMatcher:
    """Word-boundary, case- and accent-insensitive match of any term of a list."""

    __slots__ = ("_cache", "_pattern", "terms")

    def __init__(self, terms: list[str]) -> None:
        # Descriptions repeat (the same goods ship daily), and several rules ask
        # about the same text: remember answers, bounded.
        self._cache: dict[str, bool] = {}
        self.terms = tuple(dict.fromkeys(t for term in terms if (t := fold(term))))
        alternatives = "|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True))
        self._pattern = re.compile(rf"\b(?:{alternatives})\b") if self.terms else None

    def find(self, text: str | None) -> str | None:
        """The first list term found in `text` (folded), or None."""
        if not text or self._pattern is None:
            return None
        found = self._pattern.search(folded(text))
        return found.group(0) if found else None

    def find_all(self, text: str | None) -> list[str]:
        if not text or self._pattern is None:
            return []
        return self._pattern.findall(folded(text))

    def matches(self, text: str | None) -> bool:
        if not text:
            return False
        cache = self._cache
        known = cache.get(text)
        if known is None:
            if len(cache) >= _MATCH_CACHE:
                cache.clear()
            known = cache[text] = self.find(text) is not None
        return known


class KeywordChapters:
    """Keywords that imply HS chapters: "t-shirt" means chapter 61 or 62."""

    __slots__ = ("_cache", "_chapters", "_matcher")

    def __init__(self, mapping: dict[str, list[str]]) -> None:
        self._chapters = {fold(k): tuple(str(c) for c in v) for k, v in mapping.items()}
        self._matcher = WordMatcher(list(mapping))
        self._cache: dict[str, tuple[str, ...]] = {}

    def expected(self, text: str | None) -> tuple[str, ...]:
        """HS prefixes implied by every keyword in the description (empty: no keyword)."""
        if not text:
            return ()
        cache = self._cache
        known = cache.get(text)
        if known is None:
            if len(cache) >= _MATCH_CACHE:
                cache.clear()
            words = self._matcher.find_all(text)
            known = cache[text] = tuple(
                dict.fromkeys(c for word in words for c in self._chapters.get(word, ()))
            )
        return known

    def keyword(self, text: str | None) -> str | None:
        return self._matcher.find(text)


@dataclass(frozen=True, slots=True)
class CompiledLists:
    words: dict[str, WordMatcher]
    weights: dict[str, dict[str, float]]
    keyword_maps: dict[str, KeywordChapters]
    parties: dict[str, Watchlist]

    def _tables(self) -> tuple[tuple[ListKind, dict[str, Any]], ...]:
        return (
            ("words", self.words),
            ("weights", self.weights),
            ("keyword_map", self.keyword_maps),
            ("parties", self.parties),
        )

    def kind_of(self, name: str) -> ListKind | None:
        for kind, table in self._tables():
            if name in table:
                return kind
        return None

    def compiled(self, name: str) -> Any:
        """The matcher, watchlist or table a list name stands for (KeyError if none)."""
        for _, table in self._tables():
            if name in table:
                return table[name]
        raise KeyError(name)


def list_kind(value: object) -> ListKind | str:
    """The kind of a raw YAML list, or a message saying why it has none."""
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "words"
        if all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value):
            return "parties"
        return "a list must hold only strings, or only parties with a name"
    if isinstance(value, dict):
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()):
            return "weights"
        if all(
            isinstance(v, list) and all(isinstance(c, str | int) for c in v) for v in value.values()
        ):
            return "keyword_map"
        return "a mapping must map to numbers (weights) or to lists of HS prefixes"
    return "a list must be a YAML sequence or mapping"


def compile_lists(raw: dict[str, object]) -> CompiledLists:
    """Build matchers once; the caller has checked every list with `list_kind`."""
    words: dict[str, WordMatcher] = {}
    weights: dict[str, dict[str, float]] = {}
    maps: dict[str, KeywordChapters] = {}
    parties: dict[str, Watchlist] = {}
    for name, value in raw.items():
        kind = list_kind(value)
        if kind == "words":
            assert isinstance(value, list)
            words[name] = WordMatcher(value)
        elif kind == "weights":
            assert isinstance(value, dict)
            weights[name] = {str(k).upper(): float(v) for k, v in value.items()}
        elif kind == "keyword_map":
            assert isinstance(value, dict)
            maps[name] = KeywordChapters({str(k): [str(c) for c in v] for k, v in value.items()})
        elif kind == "parties":
            assert isinstance(value, list)
            parties[name] = Watchlist(
                [
                    WatchlistEntry(
                        name=str(v["name"]),
                        country=str(v["country"]).upper() if v.get("country") else None,
                        ref=str(v.get("ref") or f"{name}-{n}"),
                    )
                    for n, v in enumerate(value, start=1)
                ]
            )
    return CompiledLists(words, weights, maps, parties)


class WordIndex:
    """Every word list of a ruleset asked about one text at once: one bit per list.

    Nine rules ask the same description about nine lists; one remembered mask
    per text answers them all with a dictionary lookup.
    """

    __slots__ = ("_cache", "_matchers")

    def __init__(self, matchers: list[WordMatcher]) -> None:
        self._matchers = tuple(matchers)
        self._cache: dict[str, int] = {}

    def mask(self, text: str | None) -> int:
        if not text:
            return 0
        cache = self._cache
        known = cache.get(text)
        if known is None:
            if len(cache) >= _MATCH_CACHE:
                cache.clear()
            known = 0
            for bit, matcher in enumerate(self._matchers):
                if matcher.find(text) is not None:
                    known |= 1 << bit
            cache[text] = known
        return known
