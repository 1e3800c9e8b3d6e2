"""Match a word list against a text, the way a targeting analyst reads a description.

A term matches where a run of the text's tokens (risk.normalise) spells it,
each token read as written, with leet digits read as letters, or as a
misspelling of a list word (risk.fuzzy); a two-word term also matches the
two words written as one ("powerbank") and the other way round. A match is
then dropped when a phrase context of the list holds (risk.context: "ivory
coloured", "case for iPhone") or when one of the list's `unless` phrases
stands in the same clause ("solid perfume"). What is left explains itself:
`Match.explain()` says which term was read where, and how.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from risk.context import ContextKind, Contexts
from risk.fuzzy import FuzzyVocabulary
from risk.normalise import Tokens, term_tokens, tokens

How = Literal["exact", "leet", "misspelt", "joined", "compound"]
#: Texts remembered per matcher before the memory is dropped and rebuilt.
_CACHE_SIZE = 20_000
_NO_CONTEXT = Contexts.from_terms({})
#: What a description may hold beside its goods words and still name nothing else:
#: counts, units, packaging ("Pills 60 pcs", "Medicine, 2 boxes"), and what the goods
#: are for or how they are praised ("medicine for pain", "strong herbal pills for men").
_FILLER = re.compile(
    r"\d+|\d+(?:mg|g|kg|ml|l|pcs|pc|x)|x\d+|pcs|pc|pieces?|box(?:es)?|packs?|bottles?|of|x|mg|g|ml"
    r"|units?|assorted|various|sets?|lot|a|the|for|my|some|misc|mixed|\d+[.:]\d+"
    r"|pain|relief|cold|flu|fever|cough|sleep|sleeping|weight|loss|slimming|diet|men|women|male"
    r"|female|adults?|enhancement|potency|strong|extra|herbal|natural|chinese|traditional"
    r"|health|treatment|cure|remedy|against|daily|personal|use|own|private|samples?|original"
    r"|generic|and|with|in|to"
)


@dataclass(frozen=True, slots=True)
class Match:
    """One term found in a text: the term, the words that spelt it, and how."""

    term: str
    written: str
    how: How

    def explain(self) -> str:
        if self.how == "exact" or self.written == self.term:
            return repr(self.term)
        reading = {
            "leet": "digits read as letters",
            "misspelt": "misspelt",
            "joined": "joined",
            "compound": "inside a compound word",
        }
        return f"{self.written!r} read as {self.term!r} ({reading[self.how]})"

    def __str__(self) -> str:
        return self.explain()

    def __format__(self, spec: str) -> str:
        return format(self.explain(), spec)


class TermMatcher:
    """One word list, compiled: index by first token, fuzzy vocabulary, contexts, exceptions."""

    __slots__ = (
        "_by_first",
        "_cache",
        "_cjk_terms",
        "_compound_cache",
        "_compound_terms",
        "_contexts",
        "_covers_cache",
        "_fuzzy",
        "_inflections",
        "_ordinary",
        "_joined",
        "_kinds",
        "_unless",
        "terms",
    )

    def __init__(
        self,
        terms: Iterable[str],
        *,
        contexts: Contexts = _NO_CONTEXT,
        kinds: frozenset[ContextKind] = frozenset(),
        unless: Iterable[str] = (),
        fuzzy: bool = True,
        ordinary: frozenset[str] = frozenset(),
        inflections: bool = False,
    ) -> None:
        self.terms = tuple(dict.fromkeys(t for t in terms if term_tokens(t)))
        by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        joined: dict[str, str] = {}
        for term in self.terms:
            words = term_tokens(term)
            by_first.setdefault(words[0], []).append((words, term))
            if len(words) == 2:
                joined["".join(words)] = term
            elif len(words) == 1 and len(words[0]) >= 8:
                # "powerbank" written "power bank": every split of a long one-word term.
                word = words[0]
                for cut in range(1, len(word) - 2):
                    joined.setdefault(f"{word[:cut]} {word[cut:]}", term)
        for entries in by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))
        self._by_first = by_first
        # A Latin term never matches the transliteration of CJK characters ("s.a." is not
        # さ "sa"), and a CJK term only matches CJK characters.
        self._cjk_terms = frozenset(t for t in self.terms if any(tokens(t).cjk))
        self._joined = joined
        vocabulary = {w for t in self.terms for w in term_tokens(t)} | set(joined)
        self._fuzzy = FuzzyVocabulary(vocabulary, ordinary) if fuzzy else None
        self._contexts = contexts
        self._kinds = kinds
        self._unless = tuple(u for phrase in unless if (u := term_tokens(phrase)))
        self._cache: dict[str, Match | None] = {}
        self._ordinary = ordinary
        #: Goods words may carry a case or possessive ending ("havlusu" is "havlu" + su).
        self._inflections = inflections
        # German, Dutch and Turkish glue words together ("Fahrradhelm", "Lithiumbatterie"):
        # a one-word term may be the end of a long unknown word, or (5+ letters) inside it.
        self._compound_terms = tuple(
            sorted(
                (words[0] for words, _ in (e for entries in by_first.values() for e in entries)
                 if len(words) == 1 and len(words[0]) >= 4 and words[0].isalpha()),
                key=len,
                reverse=True,
            )
        )  # fmt: skip
        self._compound_cache: dict[str, str | None] = {}
        self._covers_cache: dict[str, bool] = {}

    # ------------------------------------------------------------ reading tokens

    def _context_in_compound(self, word: str, term: str) -> bool:
        """ "crocodileembossed", "nikotinfrei": the rest of the word is a context of the list."""
        contexts = self._contexts
        if word.startswith(term):
            rest = (word[len(term) :],)
            return bool(self._kinds) and (
                rest in contexts.colour_after or rest in contexts.negation_after
            )
        if word.endswith(term):
            rest = (word[: -len(term)],)
            return bool(self._kinds) and (
                rest in contexts.colour_before or rest in contexts.negation_before
            )
        return False

    def _compound(self, word: str) -> str | None:
        """The term a long, unknown word is a compound of, or None (cached)."""
        cache = self._compound_cache
        if word in cache:
            return cache[word]
        found = None
        if self._inflections and len(word) >= 6 and word.isalpha() and word not in self._ordinary:
            found = next(
                (t for t in self._compound_terms
                 if len(t) >= 5 and word.startswith(t) and len(word) - len(t) <= 3),
                None,
            )  # fmt: skip
        if found is None and len(word) >= 8 and word.isalpha() and word not in self._ordinary:
            for term in self._compound_terms:
                if (
                    len(word) - len(term) >= 3
                    and (word.endswith(term) or (len(term) >= 5 and term in word))
                    and not self._context_in_compound(word, term)
                ):
                    found = term
                    break
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[word] = found
        return found

    def _readings(self, text: Tokens, position: int) -> list[tuple[str, How]]:
        word = text.words[position]
        readings: list[tuple[str, How]] = [(word, "exact")]
        leet = text.leet[position]
        if leet is not None:
            readings.append((leet, "leet"))
        if self._fuzzy is not None and not text.cjk[position]:
            for source in (word, leet):
                if source is not None:
                    readings += [(near, "misspelt") for near in self._fuzzy.near(source)]
        if self._compound_terms and not text.cjk[position]:
            part = self._compound(word)
            if part is not None:
                readings.append((part, "compound"))
        return readings

    def _spelt_at(self, words: tuple[str, ...], text: Tokens, position: int) -> How | None:
        """How text tokens from `position` spell `words`, or None."""
        if position + len(words) > len(text.words):
            return None
        worst: How = "exact"
        for offset, wanted in enumerate(words):
            how = next((h for r, h in self._readings(text, position + offset) if r == wanted), None)
            if how is None:
                return None
            if how != "exact":
                worst = how
        return worst

    # ------------------------------------------------------------ matching

    def _candidates(self, text: Tokens) -> Iterable[tuple[int, int, str, How]]:
        """(start, end, term, how) of every spelling of a term in `text`, in text order."""
        for start, end, term, how in self._spellings(text):
            if any(text.cjk[start:end]) == (term in self._cjk_terms):
                yield start, end, term, how

    def _spellings(self, text: Tokens) -> Iterable[tuple[int, int, str, How]]:
        words = text.words
        for position in range(len(words)):
            for reading, how in self._readings(text, position):
                joined = self._joined.get(reading)
                if joined is not None:
                    yield position, position + 1, joined, "joined" if how == "exact" else how
                for term_words, term in self._by_first.get(reading, ()):
                    if len(term_words) == 1:
                        yield position, position + 1, term, how
                        continue
                    rest = self._spelt_at(term_words[1:], text, position + 1)
                    if rest is not None:
                        yield (
                            position,
                            position + len(term_words),
                            term,
                            (how if rest == "exact" else rest),
                        )
            if position + 1 < len(words) and text.clauses[position] == text.clauses[position + 1]:
                first_word = text.leet[position] or words[position]
                pair = f"{first_word}{text.leet[position + 1] or words[position + 1]}"
                pair_term = (
                    self._joined.get(f"{words[position]}{words[position + 1]}")
                    or self._joined.get(pair)
                    or self._joined.get(f"{words[position]} {words[position + 1]}")
                    or next((t for w, t in self._by_first.get(pair, ()) if len(w) == 1), None)
                )
                if pair_term is not None:
                    yield position, position + 2, pair_term, "joined"
                elif self._fuzzy is not None and not text.cjk[position]:
                    # "Ray Bann": two words that, written as one, are a misspelt term.
                    for near in self._fuzzy.near(pair, max_edits=1):
                        found = self._joined.get(near) or next(
                            (t for w, t in self._by_first.get(near, ()) if len(w) == 1), None
                        )
                        if found is not None:
                            yield position, position + 2, found, "misspelt"
                            break

    def _excepted(self, text: Tokens, start: int) -> bool:
        clause = text.clauses[start]
        words = text.words
        for phrase in self._unless:
            for position in range(len(words) - len(phrase) + 1):
                if (
                    text.clauses[position] == clause
                    and words[position : position + len(phrase)] == phrase
                ):
                    return True
        return False

    def _earnest(self, read: Tokens) -> Iterable[tuple[int, int, str, How]]:
        """The candidates no context of the list and no `unless` phrase cancels."""
        for start, end, term, how in self._candidates(read):
            if self._kinds and self._contexts.applies(self._kinds, read, start, end):
                continue
            if self._unless and self._excepted(read, start):
                continue
            yield start, end, term, how

    def find_match(self, text: str | None) -> Match | None:
        """The first term of the list that `text` names in earnest, or None (cached)."""
        if not text:
            return None
        cache = self._cache
        if text in cache:
            return cache[text]
        read = tokens(text)
        found = next(
            (
                Match(term, " ".join(read.words[start:end]), how)
                for start, end, term, how in self._earnest(read)
            ),
            None,
        )
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[text] = found
        return found

    def find(self, text: str | None) -> str | None:
        found = self.find_match(text)
        return found.term if found else None

    def matches(self, text: str | None) -> bool:
        return self.find_match(text) is not None

    def covers(self, text: str | None) -> bool:
        """True when `text` names nothing but terms of this list (and counts, units,
        packaging): "Pills 60 pcs" is covered by a list of medicine words, "Ibuprofen
        400 mg tablets" is not, because "ibuprofen" names the medicine."""
        if not text:
            return False
        cache = self._covers_cache
        known = cache.get(text)
        if known is None:
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            known = cache[text] = self._covered(text)
        return known

    def _covered(self, text: str) -> bool:
        read = tokens(text)
        covered = [False] * len(read.words)
        for start, end, _, _ in self._candidates(read):
            for position in range(start, end):
                covered[position] = True
        if not any(covered):
            return False
        return all(
            done or _FILLER.fullmatch(word) is not None
            for done, word in zip(covered, read.words, strict=True)
        )

    def find_all(self, text: str | None) -> list[str]:
        """Every term found (contexts applied), in text order: for keyword maps."""
        if not text:
            return []
        return [term for _, _, term, _ in self._earnest(tokens(text))]
