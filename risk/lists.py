"""Named lists of a ruleset, compiled once into the objects helpers use at line rate.

A ruleset's `lists:` section holds four shapes, told apart by their content:

- words: `[battery, power bank, li-ion]` for `matches(text, "name")`;
- weights: `{CN: 0.2, KP: 1.0}` for `country_risk(code)`;
- keyword map: `{t-shirt: ["61"], jeans: ["62"]}` for `hs_mismatch(line, "name")`;
- parties: `[{name: ..., country: ..., ref: ...}]` for `watchlist(party, "name")`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from risk.context import ALL_CONTEXT_KINDS, CONTEXT_KINDS
from risk.matcher import TermMatcher
from risk.watchlist import Watchlist, WatchlistEntry
from risk.wordlists import contexts, goods_keywords, ordinary_words, packaged, packaged_names

ListKind = Literal["words", "weights", "keyword_map", "parties"]


#: Texts remembered per matcher before the memory is dropped and rebuilt.
_MATCH_CACHE = 20_000
#: Keys a word list may have when written as a mapping.
WORD_SPEC_KEYS = frozenset({"include", "terms", "context", "unless", "fuzzy", "source"})
#: The key of a keyword map that adds the packaged translations of its keywords.
TRANSLATIONS_KEY = "_include"

#: A word list as the rules use it: phrase contexts applied, misspellings read.
WordMatcher = TermMatcher


def word_spec_problem(value: dict[str, object]) -> str | None:
    """Why a word-list mapping cannot be compiled, or None."""
    unknown = set(value) - WORD_SPEC_KEYS
    if unknown:
        return f"unknown key(s) {sorted(unknown)}; a word list takes {sorted(WORD_SPEC_KEYS)}"
    for key in ("include", "terms", "context", "unless"):
        entries = value.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            return f"{key!r} must be a list of strings"
    includes: list[str] = value.get("include", [])  # type: ignore[assignment]
    kinds: list[str] = value.get("context", [])  # type: ignore[assignment]
    for name in includes:
        try:
            packaged(str(name))
        except KeyError:
            return f"no packaged word list {name!r} (there are: {', '.join(packaged_names())})"
    for kind in kinds:
        if kind not in ALL_CONTEXT_KINDS:
            return f"unknown context {kind!r}; contexts are {', '.join(ALL_CONTEXT_KINDS)}"
    if not isinstance(value.get("fuzzy", True), bool):
        return "'fuzzy' must be true or false"
    return None


def word_matcher(value: list[str] | dict[str, Any]) -> TermMatcher:
    """Compile a word list: a plain list (every context, misspellings read) or a mapping
    with packaged lists to include, own terms, contexts, exceptions and fuzziness."""
    if isinstance(value, list):
        spec: dict[str, Any] = {"terms": value, "context": list(CONTEXT_KINDS)}
    else:
        spec = value
    terms = [str(t) for t in spec.get("terms", [])]
    for name in spec.get("include", []):
        terms += packaged(str(name)).terms
    return TermMatcher(
        terms,
        contexts=contexts(),
        kinds=frozenset(spec.get("context", CONTEXT_KINDS)),
        unless=[str(u) for u in spec.get("unless", [])],
        fuzzy=bool(spec.get("fuzzy", True)),
        ordinary=ordinary_words(),
    )


class KeywordChapters:
    """Keywords that imply HS chapters: "t-shirt" means chapter 61 or 62."""

    __slots__ = ("_cache", "_chapters", "_matcher")

    def __init__(self, mapping: dict[str, list[str]]) -> None:
        chapters = {
            k: tuple(str(c) for c in v) for k, v in mapping.items() if k != TRANSLATIONS_KEY
        }
        if mapping.get(TRANSLATIONS_KEY):
            # Goods words of other languages imply what their English keyword implies.
            translated = goods_keywords()
            for keyword, implied in list(chapters.items()):
                for word in translated.get(keyword, ()):
                    chapters.setdefault(word, implied)
        self._chapters = chapters
        # A keyword in "case for tablet computer", "without cable" or "sunglasses case" is
        # not the goods; goods words are not read as misspellings (a "skirt" is no "shirt").
        self._matcher = TermMatcher(
            list(chapters),
            contexts=contexts(),
            kinds=frozenset({"negation", "compatibility", "accessory"}),
            fuzzy=False,
            inflections=True,
            ordinary=ordinary_words(),
        )
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
    if (
        isinstance(value, dict)
        and value
        and set(value) <= WORD_SPEC_KEYS
        and ("include" in value or "terms" in value)
    ):
        return word_spec_problem(value) or "words"
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
            assert isinstance(value, list | dict)
            words[name] = word_matcher(value)
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
