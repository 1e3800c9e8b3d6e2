"""Typo-tolerant token lookup: which list words a misspelt token may stand for.

Edit distance grows with word length ("Rollex" is one edit from "rolex",
"Lithum batery" one per word, "Pyhton" one swap from "python", and "Phyton"
the same letters in another order, a slip typists make; short words
allow none: "nike" and "bike" differ by one letter and are different goods,
though a four-letter word may be a five-letter list word with one letter left
out, "Rolx" for "rolex"). A token that is an ordinary
goods word ("channel", "butter") is never stretched to a list word it merely
resembles: only unknown words are read as misspellings.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

#: Tokens remembered before the memory is dropped and rebuilt.
_CACHE_SIZE = 50_000


def allowed_edits(length: int) -> int:
    """Edits a token of `length` characters may differ by: 0 up to 4, 1 up to 9, then 2."""
    if length <= 4:
        return 0
    return 1 if length <= 9 else 2


def _scrambled(token: str, word: str) -> bool:
    """Same first letter, same letters, one letter moved ("phyton" of "python")."""
    return (
        len(word) == len(token)
        and word != token
        and sorted(word) == sorted(token)
        and OSA.distance(token, word) <= 2
    )


def _dropped_letter(token: str, word: str) -> bool:
    """`token` is `word` with one letter left out ("rolx" of "rolex")."""
    return len(word) == len(token) + 1 and any(
        word[:i] + word[i + 1 :] == token for i in range(len(word))
    )


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
        if not bucket or not token.isalpha() or token in self._ordinary:
            pass
        elif edits:
            # OSA: a swap of two neighbouring letters is one edit, as a typist makes it.
            found = tuple(
                word
                for word, distance, _ in process.extract(
                    token, bucket, scorer=OSA.distance, score_cutoff=edits, limit=None
                )
                if word != token
                and distance <= min(allowed_edits(min(len(word), len(token)) + 1), max_edits)
            )
            if not found and len(token) >= 6:
                found = tuple(word for word in bucket if _scrambled(token, word))
        elif len(token) == 4 and max_edits:
            found = tuple(word for word in bucket if _dropped_letter(token, word))
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = found
        return found
