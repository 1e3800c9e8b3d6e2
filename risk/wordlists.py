"""The packaged word lists (`risk/data/words/*.yaml`): terms by language, each with its sources.

A ruleset names them with `include:`; the analyst's own YAML stays short and
the lists, which are data with citations, are reviewed as data. Also here:
the phrase contexts (context.yaml), goods words in other languages for the
HS keyword maps (goods_keywords.yaml), and the ordinary words that are never
read as misspellings of a risk word.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from risk.context import Contexts
from risk.normalise import term_tokens, tokens

#: Common words that resemble a risk word by one letter and are not one ("channel": Chanel).
_LOOKALIKES = frozenset(
    {"channel", "channels", "moral", "coracle", "carol", "diary", "prado", "hermit",
     "omen", "gucchi", "pandas", "choral", "ivy", "battered", "butter", "letter",
     "lighting", "vapor", "vapour", "coffee", "lather", "nick", "bike"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class WordList:
    name: str
    title: str
    sources: tuple[str, ...]
    #: Terms per language code ("en", "zh", "latin", "trade", ...).
    by_language: dict[str, tuple[str, ...]]

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for terms in self.by_language.values() for t in terms))


def _words_dir() -> Any:
    return resources.files("risk").joinpath("data/words")


@cache
def _load(name: str) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z_]+", name):
        raise KeyError(name)
    source = _words_dir().joinpath(f"{name}.yaml")
    if not source.is_file():
        raise KeyError(name)
    loaded = yaml.load(source.read_text("utf-8"), Loader=yaml.CSafeLoader)  # noqa: S506
    if not isinstance(loaded, dict):
        raise ValueError(f"risk/data/words/{name}.yaml is not a mapping")
    return loaded


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str | int) and str(v).strip())


@cache
def packaged_names() -> tuple[str, ...]:
    """Names of the packaged word lists (those with `terms:`)."""
    names = []
    for entry in _words_dir().iterdir():
        if entry.name.endswith(".yaml"):
            name = entry.name.removesuffix(".yaml")
            if "terms" in _load(name):
                names.append(name)
    return tuple(sorted(names))


@cache
def packaged(name: str) -> WordList:
    """One packaged list; KeyError when there is none of that name."""
    raw = _load(name)
    terms = raw.get("terms")
    if not isinstance(terms, dict):
        raise KeyError(name)
    return WordList(
        name=name,
        title=str(raw.get("title", name)),
        sources=_strings(raw.get("sources")),
        by_language={str(lang): _strings(words) for lang, words in terms.items()},
    )


#: Latin-script context words (some transliterated) that are ordinary words too: "net" is
#: a weight, "pod" a vape cartridge. Dropped from every kind.
_AMBIGUOUS_CONTEXT = frozenset({("net",), ("l",), ("bl",), ("bi",), ("0",), ("ne",), ("pod",)})


def _ambiguous_context(phrase: str) -> bool:
    """A context word that is also part of ordinary words: a single CJK character (无
    "without" starts 无线 "wireless") or one of the Latin-script collisions above."""
    read = tokens(phrase)
    return read.words in _AMBIGUOUS_CONTEXT or (len(read.words) == 1 and read.cjk[0])


@cache
def contexts() -> Contexts:
    """The phrase contexts of every language, merged per kind."""
    raw = _load("context").get("contexts", {})
    merged: dict[str, list[str]] = {}
    for kind, by_language in raw.items():
        if isinstance(by_language, dict):
            for words in by_language.values():
                merged.setdefault(str(kind), []).extend(
                    w for w in _strings(words) if not _ambiguous_context(w)
                )
    return Contexts.from_terms(merged)


@cache
def goods_keywords() -> dict[str, tuple[str, ...]]:
    """English HS keyword -> the same goods word in other languages."""
    raw = _load("goods_keywords").get("keywords", {})
    out: dict[str, tuple[str, ...]] = {}
    for keyword, by_language in raw.items():
        if isinstance(by_language, dict):
            out[str(keyword)] = tuple(
                dict.fromkeys(w for words in by_language.values() for w in _strings(words))
            )
    return out


#: Times a word must occur in pyspellchecker's English frequency list (from OpenSubtitles)
#: to count as ordinary: rarer entries are often misspellings themselves.
_MIN_FREQUENCY = 20


def _english_words() -> set[str]:
    """Common English words: "paperback" is a book, not a misspelt Russian "powerbank"."""
    from spellchecker import SpellChecker

    frequency = SpellChecker(language="en", distance=1).word_frequency
    return {
        word
        for word, count in frequency.dictionary.items()
        if count >= _MIN_FREQUENCY and len(word) >= 4 and word.isalpha() and word.isascii()
    }


@cache
def ordinary_words() -> frozenset[str]:
    """Common English words, words of the HS nomenclature, the context phrases, the goods
    keywords and known look-alikes: a text word among them is taken as written, never
    as a misspelling of a list word."""
    text = resources.files("messages").joinpath("data/hs2022.csv").read_text("utf-8")
    words: set[str] = set(_LOOKALIKES) | _english_words()
    for row in csv.DictReader(text.splitlines()):
        words.update(re.findall(r"[a-z]{4,}", row["description"].lower()))
    words |= contexts().words()
    for keyword, translations in goods_keywords().items():
        for term in (keyword, *translations):
            words.update(term_tokens(term))
    return frozenset(words)
