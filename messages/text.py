"""Text normalisation: NFC display text and matching keys for parties.

Display text keeps the sender's spelling (NFC, trimmed, single spaces). Match
keys throw away everything that varies between two renderings of the same
person: accents, case, punctuation, legal forms ("Anna Müller" and
"anna muller" share a key, DESIGN.md §3 Keys).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

from anyascii import anyascii

_SPACES = re.compile(r"\s+")
_UNTIDY_SPACE = re.compile(r"\s\s|[^\S ]")
_NON_WORD = re.compile(r"[^0-9a-z ]+")
_NOT_POSTCODE = re.compile(r"[^0-9A-Z]")

T = TypeVar("T")
#: Longer texts are not cached: rare in real data, and hostile input could fill the
#: cache with megabytes of them.
CACHE_CHARS = 128
CACHE_SIZE = 16_384


def cache_short(fn: Callable[[str], T]) -> Callable[[str], T]:
    """Cache a pure function of one string, for strings of up to `CACHE_CHARS`.

    Names, cities and descriptions repeat across items and messages; their
    keys and checks are worked out once (issue 15).
    """
    cached = lru_cache(maxsize=CACHE_SIZE)(fn)

    @wraps(fn)
    def lookup(text: str) -> T:
        return cached(text) if len(text) <= CACHE_CHARS else fn(text)

    return lookup


#: Legal-form tokens dropped from names before keying (after punctuation removal).
LEGAL_FORMS = frozenset(
    {
        "ltd", "limited", "llc", "inc", "incorporated", "corp", "corporation", "co", "company",
        "gmbh", "mbh", "ag", "kg", "ohg", "ug", "plc", "llp", "lp", "sa", "sas", "sarl", "sl",
        "srl", "spa", "bv", "nv", "oy", "oyj", "ab", "as", "aps", "sp", "zoo", "kft", "sro",
        "pty", "pte", "bhd", "sdn", "kk", "jsc", "ooo", "pjsc", "ltda", "eirl", "cv",
    }
)  # fmt: skip


def clean(text: str | None) -> str | None:
    """NFC, trimmed, internal whitespace collapsed; blank becomes None. Idempotent."""
    if text is None:
        return None
    # Fast path: most values are already NFC (ASCII always is) with single spaces.
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # Every whitespace character but the space is unprintable, so printable text
    # without a double space has nothing to collapse and skips the regex.
    if ("  " in text or not text.isprintable()) and _UNTIDY_SPACE.search(text) is not None:
        text = _SPACES.sub(" ", text)
    return text.strip() or None


@cache_short
def fold(text: str) -> str:
    """Lower-case ASCII words only: the comparison form for keys and word lists."""
    ascii_text = text if text.isascii() else anyascii(unicodedata.normalize("NFKD", text))
    return _SPACES.sub(" ", _NON_WORD.sub(" ", ascii_text.casefold())).strip()


def name_key(name: str) -> str:
    """A person or business name reduced for matching: folded, legal forms dropped."""
    return " ".join(word for word in fold(name).split(" ") if word and word not in LEGAL_FORMS)


def postcode_key(postcode: str) -> str:
    return _NOT_POSTCODE.sub("", anyascii(postcode).upper())


_DIGRAPHS = re.compile(r"(?<=[a-z])([aou])e")
#: Forms of address and degrees: present on one label, absent on the next.
_TITLES = frozenset(
    {"herr", "frau", "dr", "mr", "mrs", "ms", "miss", "mx", "prof", "mba", "bsc", "msc", "phd",
     "dipl", "ing", "sir", "mme", "mlle", "monsieur", "madame", "sr", "sra", "srta", "sig",
     "sigra", "jr", "dott", "mag", "univ", "llm", "med"}
)  # fmt: skip
_DEGREE = re.compile(r"\b(?:b|m)\.\s?(?:sc|a)\b\.?|\bph\.\s?d\b\.?|\bm\.\s?b\.\s?a\b\.?", re.I)


@cache_short
def person_key(name: str) -> str:
    """`name_key` that also survives word order, German transliteration and titles:
    "Müller Anna", "Dr. Anna Mueller" and "anna muller" share it."""
    words = " ".join(w for w in name_key(_DEGREE.sub(" ", name)).split(" ") if w not in _TITLES)
    # One substitution over the joined words: a digraph never spans the space between two.
    return " ".join(sorted(w for w in _DIGRAPHS.sub(r"\1", words).split(" ") if w))


def party_key(
    name: str | None, postcode: str | None, country: str | None, lines: list[str] | None = None
) -> str:
    """Stable hash of the person key of the name + postcode (or address lines) + country."""
    place = postcode_key(postcode) if postcode else fold(" ".join(lines or []))
    material = "|".join((person_key(name or ""), place, (country or "").upper()))
    return hashlib.blake2b(material.encode("utf-8"), digest_size=16).hexdigest()
