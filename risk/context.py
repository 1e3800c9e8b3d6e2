"""Phrase context: when a matched risk word does not mean the goods it names.

"Ivory coloured dress", "battery-free timer", "case for iPhone", "book about
pangolins": the word is there, the thing is not. Each kind of context is a
set of phrases (from `risk/data/words/context.yaml`, many languages) looked
for next to the match, within its clause:

- negation: a negating word just before ("no", "without", "sin", "ohne") or
  after ("free", "not included");
- colour: a colour or material word after ("coloured", "pink", "print") or an
  imitation word before ("faux", "imitation");
- compatibility: "for", "compatible with", "fits" shortly before the match;
- about: the description is of a representation (book, poster, plush toy),
  anywhere in the text;
- accessory: a container or accessory noun right after ("sunglasses case",
  "perfume bottle", "watch box"): the goods are the case, not the glasses.
  Goods keywords use it; risk lists do not (an "ivory box" is ivory).

A word list says which kinds apply to it: a battery in a book light is still
a battery, a pangolin on a poster is not a pangolin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from risk.normalise import Tokens, term_tokens

ContextKind = Literal["negation", "colour", "compatibility", "about", "accessory"]
#: The kinds a word list gets when it names none (accessory is for goods keywords only).
CONTEXT_KINDS: tuple[ContextKind, ...] = ("negation", "colour", "compatibility", "about")
ALL_CONTEXT_KINDS: tuple[ContextKind, ...] = (*CONTEXT_KINDS, "accessory")
#: How many tokens before a match a negation or compatibility phrase may end.
_REACH_BEFORE = 3
#: How many tokens after a match a negation or colour phrase may start.
_REACH_AFTER = 1


def _phrases(terms: Iterable[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(t for term in terms if (t := term_tokens(term)))


@dataclass(frozen=True, slots=True)
class Contexts:
    """Phrase sets per context, already normalised as texts are."""

    negation_before: frozenset[tuple[str, ...]]
    negation_after: frozenset[tuple[str, ...]]
    colour_before: frozenset[tuple[str, ...]]
    colour_after: frozenset[tuple[str, ...]]
    compatibility_before: frozenset[tuple[str, ...]]
    about_markers: frozenset[tuple[str, ...]]
    accessory_after: frozenset[tuple[str, ...]]

    @classmethod
    def from_terms(cls, terms: Mapping[str, Iterable[str]]) -> Contexts:
        return cls(**{name: _phrases(terms.get(name, ())) for name in cls.__slots__})

    def words(self) -> set[str]:
        """Every word of every context phrase (ordinary words, never read as misspellings)."""
        return {w for name in self.__slots__ for p in getattr(self, name) for w in p}

    def applies(
        self, kinds: frozenset[ContextKind], text: Tokens, start: int, end: int
    ) -> ContextKind | None:
        """The first context of `kinds` that holds around the match text.words[start:end]."""
        if "negation" in kinds and (
            _ends_before(self.negation_before, text, start, _REACH_BEFORE)
            or _starts_after(self.negation_after, text, end, _REACH_AFTER)
        ):
            return "negation"
        if "colour" in kinds and (
            _ends_before(self.colour_before, text, start, 2)
            or _starts_after(self.colour_after, text, end, 0)
        ):
            return "colour"
        if "compatibility" in kinds and _ends_before(
            self.compatibility_before, text, start, _REACH_BEFORE
        ):
            return "compatibility"
        if "about" in kinds and _anywhere(self.about_markers, text, start, end):
            return "about"
        if "accessory" in kinds and _starts_after(self.accessory_after, text, end, 0):
            return "accessory"
        return None


def _at(phrase: tuple[str, ...], text: Tokens, position: int) -> bool:
    words = text.words
    if position < 0 or position + len(phrase) > len(words):
        return False
    return words[position : position + len(phrase)] == phrase


def _ends_before(phrases: frozenset[tuple[str, ...]], text: Tokens, start: int, reach: int) -> bool:
    """A phrase ending within `reach` tokens before `start`, in the match's clause."""
    if start >= len(text.clauses):
        return False
    clause = text.clauses[start]
    for phrase in phrases:
        for gap in range(reach):
            begin = start - gap - len(phrase)
            if begin < 0:
                break
            if text.clauses[begin] != clause:
                break
            if _at(phrase, text, begin):
                return True
    return False


def _starts_after(phrases: frozenset[tuple[str, ...]], text: Tokens, end: int, reach: int) -> bool:
    """A phrase starting within `reach` tokens after `end`, in the match's clause."""
    if end == 0 or end > len(text.clauses):
        return False
    clause = text.clauses[end - 1]
    for gap in range(reach + 1):
        position = end + gap
        if position >= len(text.words) or text.clauses[position] != clause:
            break
        if any(_at(phrase, text, position) for phrase in phrases):
            return True
    return False


def _anywhere(phrases: frozenset[tuple[str, ...]], text: Tokens, start: int, end: int) -> bool:
    """A marker phrase anywhere in the text outside the match itself."""
    for position in range(len(text.words)):
        if start <= position < end:
            continue
        if any(_at(phrase, text, position) for phrase in phrases):
            return True
    return False
