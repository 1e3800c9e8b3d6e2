"""Typo-tolerant token lookup: which list words a misspelt token may stand for.

Edit distance grows with word length ("Rollex" is one edit from "rolex",
"Lithum batery" one per word; short words allow none: "nike" and "bike"
differ by one letter and are different goods). A token that is an ordinary
goods word ("channel", "butter") is never stretched to a list word it merely
resembles: only unknown words are read as misspellings.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

#: Tokens remembered before the memory is dropped and rebuilt.
_CACHE_SIZE = 50_000


def allowed_edits(length: int) -> int:
    """Edits a token of `length` characters may differ by: 0 up to 4, 1 up to 9, then 2."""
    if length <= 4:
        return 0
    return 1 if length <= 9 else 2


class FuzzyVocabulary:
    """List words bucketed by first letter; `near(token)` answers from a bounded cache."""

    __slots__ = ("_buckets", "_cache", "_ordinary")

    def __init__(self, words: Iterable[str], ordinary: frozenset[str] = frozenset()) -> None:
        buckets: dict[str, list[str]] = {}
        for word in dict.fromkeys(words):
            if len(word) >= 4 and word.isalpha():
                buckets.setdefault(word[0], []).append(word)
        self._buckets = buckets
        self._ordinary = ordinary
        self._cache: dict[str, tuple[str, ...]] = {}

    def near(self, token: str, max_edits: int = 2) -> tuple[str, ...]:
        """List words within the allowed edits of `token` (not `token` itself), at most
        `max_edits` (two words read as one get one: "disposable face" is no "vape")."""
        cache = self._cache
        key = token if max_edits >= 2 else f"{token}\x00{max_edits}"
        known = cache.get(key)
        if known is not None:
            return known
        found: tuple[str, ...] = ()
        edits = min(allowed_edits(len(token)), max_edits)
        bucket = self._buckets.get(token[:1]) if token else None
        if edits and bucket and token.isalpha() and token not in self._ordinary:
            found = tuple(
                word
                for word, distance, _ in process.extract(
                    token, bucket, scorer=Levenshtein.distance, score_cutoff=edits, limit=None
                )
                if word != token
                and distance <= min(allowed_edits(min(len(word), len(token)) + 1), max_edits)
            )
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = found
        return found
