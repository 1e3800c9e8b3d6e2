"""Typo-tolerant party screening: candidate retrieval, then explainable scoring.

The shape follows nomenklatura/yente: a cheap index picks the few entries a
name could possibly be (here: exact tokens and one-deletion neighbours of
every name token, as in SymSpell), and only those are scored. Scoring aligns
name tokens one to one in any order, so word order never matters; a single
letter matches a token it is the initial of; transliteration and accents are
folded away first (`messages.text.fold`), so "Виктор Драгунов", "Victor
Dragunov" and "DRAGUNOV, Viktor" all meet "Viktor Dragunov".
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from messages.text import LEGAL_FORMS, fold

#: Below this a token pair is not a match at all (e.g. "ivan" vs "ivanov" still is).
_TOKEN_FLOOR = 0.7
_INITIAL_SIMILARITY = 0.8
#: A name token of the entry that the query lacks (a middle name) costs this much of a token.
_MISSING_ENTRY_TOKEN_WEIGHT = 0.25
_COUNTRY_MISMATCH_PENALTY = 15.0
_CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    name: str
    country: str | None
    ref: str


@dataclass(frozen=True, slots=True)
class WatchHit:
    """A party that matched an entry: the reason shows both names and the score."""

    name: str  # the entry's name
    country: str | None
    ref: str
    score: float
    matched: str  # the party's name as declared

    def __str__(self) -> str:
        where = f" ({self.country})" if self.country else ""
        return f"{self.matched!r} matches {self.ref} {self.name!r}{where}, score {self.score:.0f}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def name_tokens(name: str) -> tuple[str, ...]:
    """Folded name words without legal forms; dotted forms ("G.m.b.H.", "L.L.C.") included."""
    words = [t for t in fold(name).split(" ") if t]
    out: list[str] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j]) == 1:
            j += 1
        if j - i >= 2 and "".join(words[i:j]) in LEGAL_FORMS:
            i = j
            continue
        if words[i] not in LEGAL_FORMS:
            out.append(words[i])
        i += 1
    return tuple(out)


def _deletions(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))} | {token}


def _similarity(query: str, entry: str) -> float:
    if query == entry:
        return 1.0
    if len(query) == 1 or len(entry) == 1:
        return _INITIAL_SIMILARITY if query[0] == entry[0] else 0.0
    return Levenshtein.normalized_similarity(query, entry)


def name_score(query: tuple[str, ...], entry: tuple[str, ...]) -> float:
    """0-100: tokens aligned one to one, best pairs first, order ignored.

    Extra query tokens count fully against the match (a different person);
    entry tokens the query leaves out (a middle name) count only partly.
    """
    if not query or not entry:
        return 0.0
    pairs = sorted(
        ((_similarity(q, e), i, j) for i, q in enumerate(query) for j, e in enumerate(entry)),
        reverse=True,
    )
    used_q: set[int] = set()
    used_e: set[int] = set()
    total = 0.0
    for sim, i, j in pairs:
        if sim < _TOKEN_FLOOR:
            break
        if i in used_q or j in used_e:
            continue
        used_q.add(i)
        used_e.add(j)
        total += sim
    missing = len(entry) - len(used_e)
    denominator = len(query) + _MISSING_ENTRY_TOKEN_WEIGHT * missing
    # Initials alone must not make a match: at least one full token has to agree.
    if not any(len(query[i]) > 1 for i in used_q):
        return 0.0
    # Split or joined words ("Quick Ship" / "Quickship") defeat token alignment; the
    # names with spaces removed still line up.
    compact = Levenshtein.normalized_similarity("".join(query), "".join(entry))
    return 100.0 * max(total / denominator, compact)


class Watchlist:
    """Screen names against a list; results for repeated names come from a bounded cache."""

    def __init__(self, entries: list[WatchlistEntry]) -> None:
        self.entries = tuple(entries)
        self._tokens = [name_tokens(e.name) for e in self.entries]
        self._index: dict[str, set[int]] = {}
        for n, tokens in enumerate(self._tokens):
            for token in tokens:
                if len(token) > 1:
                    for variant in _deletions(token):
                        self._index.setdefault(variant, set()).add(n)
        self._cache: dict[tuple[str, str | None], tuple[float, int] | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def _candidates(self, tokens: tuple[str, ...]) -> set[int]:
        found: set[int] = set()
        index = self._index
        for token in tokens:
            if len(token) > 1:
                for variant in _deletions(token):
                    hit = index.get(variant)
                    if hit:
                        found |= hit
        return found

    def best(self, name: str, country: str | None) -> tuple[float, int] | None:
        """(score, entry number) of the best-scoring entry for `name`, or None."""
        key = (name, country)
        cache = self._cache
        if key in cache:
            return cache[key]
        tokens = name_tokens(name)
        result: tuple[float, int] | None = None
        for n in self._candidates(tokens):
            score = name_score(tokens, self._tokens[n])
            entry_country = self.entries[n].country
            if country and entry_country and country.upper() != entry_country:
                score -= _COUNTRY_MISMATCH_PENALTY
            if result is None or score > result[0]:
                result = (score, n)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()  # bounded memory; a full rebuild is cheaper than LRU bookkeeping
        cache[key] = result
        return result

    def screen(
        self, names: list[str | None], country: str | None, min_score: float
    ) -> WatchHit | None:
        """The best hit at or above `min_score` among a party's names, or None."""
        best: WatchHit | None = None
        for name in names:
            if not name:
                continue
            found = self.best(name, country)
            if found is None or found[0] < min_score:
                continue
            score, n = found
            if best is None or score > best.score:
                entry = self.entries[n]
                best = WatchHit(entry.name, entry.country, entry.ref, round(score, 1), name)
        return best
