"""Text normalisation for matching: what a sender's spelling becomes before any list is asked.

Senders disguise words the same few ways, and each has one undo here:

- width, ligatures and look-alike forms: NFKC, then case-fold;
- accents and other scripts: transliteration (anyascii), so "Ролекс" and
  "Rolex" meet; Chinese, Japanese and Korean characters become one token
  each (their script and code point: transliterated, different characters
  would meet), because those scripts do not put spaces between words;
- letters broken apart: punctuation inside a word goes ("Ro-lex", "L.V." ->
  "rolex", "lv") and runs of single letters join ("G U C C I" -> "gucci");
- digits for letters: a word mixing letters and leet digits gets a second,
  folded reading ("R0lex" -> "rolex", "fent@nyl" -> "fentanyl").

Terms of a list go through the same function, so whatever it does to a text
it does to the terms, and a match is a run of equal tokens. Clause numbers
(commas, brackets, slashes, colons, "and", "including") keep context words from
reaching across to an unrelated part of the description.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

#: Digits and signs senders put for letters (leet); only in words that also hold letters.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
#: Han ideographs, kana and Hangul: one character is one token.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u31f0-\u31ff]"
)
#: A ratio such as "1:1" is one token; otherwise a word is letters and digits, with
#: joining punctuation (and leet signs) inside it.
_TOKEN = re.compile(r"\d+:\d+|[a-z0-9@$]+(?:[.\-'`*_~+@$][a-z0-9@$]+)*")
_JOINERS = re.compile(r"[.\-'`*_~+]")
#: Characters that end a clause: context never crosses them.
_CLAUSE = re.compile(
    r"[,;/|()\[\]{}!?\n]|(?<!\d):|:(?!\d)|\s[-–—]\s|\b(?:and|plus|incl|including)\b"
)
#: Marks the start of a token transliterated from CJK (never joined as a single letter).
_CJK_MARK = "\x00"


@dataclass(frozen=True, slots=True)
class Tokens:
    """A text as matching sees it: tokens, each token's leet reading, and its clause."""

    words: tuple[str, ...]
    #: The folded reading of each token where it differs (else None).
    leet: tuple[str | None, ...]
    clauses: tuple[int, ...]
    #: Tokens that came from CJK characters (joined spelling rules do not apply).
    cjk: tuple[bool, ...]


def _script(char: str) -> str:
    """h: Han, j: kana, k: Hangul: the token's script, kept with the character."""
    code = ord(char)
    if 0xAC00 <= code <= 0xD7AF:
        return "k"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "j"
    return "h"


def _ascii(text: str) -> str:
    """NFKC, case-fold, CJK spaced per character, then transliterated to ASCII."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    # A CJK character stands for itself (script letter and code point): read as pinyin,
    # 棉 "cotton" and 免 "free of" would both be "mian".
    text = _CJK.sub(lambda m: f" {_CJK_MARK}{_script(m.group(0))}{ord(m.group(0)):x} ", text)
    return "".join(
        part if part.isascii() else anyascii(part).lower()
        for part in re.split(r"([\x00-\x7f]+)", text)
    )


def leet_reading(word: str) -> str | None:
    """`word` with leet digits and signs read as letters, when it mixes them with letters."""
    letters = sum(c.isalpha() for c in word)
    if letters < 2 or letters == len(word):
        return None
    # Quantities and units ("18k", "100ml", "20000mah", "cr2032") are not leet: digits
    # there lead or trail; leet digits sit between letters or replace one of few.
    if re.fullmatch(r"\d+[a-z]{1,4}|[a-z]{1,3}\d{2,}[a-z]?", word):
        return None
    folded = word.translate(_LEET)
    return folded if folded.isalpha() and folded != word else None


@lru_cache(maxsize=65_536)
def tokens(text: str) -> Tokens:
    """The tokens of `text` for matching (cached: descriptions repeat across items)."""
    words: list[str] = []
    clauses: list[int] = []
    cjk: list[bool] = []
    clause = 0
    for part in _CLAUSE.split(_ascii(text).replace("\x00", _CJK_MARK)):
        marked = part.split(_CJK_MARK)
        # The first chunk is ordinary text; each later chunk starts with one CJK token.
        for position, chunk in enumerate(marked):
            for n, found in enumerate(_TOKEN.finditer(chunk)):
                raw = found.group(0)
                word = raw if ":" in raw else _JOINERS.sub("", raw)
                words.append(word)
                clauses.append(clause)
                cjk.append(position > 0 and n == 0)
        clause += 1
    joined_words, joined_clauses, joined_cjk = _join_single_letters(words, clauses, cjk)
    return Tokens(
        tuple(joined_words),
        tuple(
            None if k else leet_reading(w) for w, k in zip(joined_words, joined_cjk, strict=True)
        ),
        tuple(joined_clauses),
        tuple(joined_cjk),
    )


def _join_single_letters(
    words: list[str], clauses: list[int], cjk: list[bool]
) -> tuple[list[str], list[int], list[bool]]:
    """ "g u c c i" -> "gucci": runs of two or more single Latin letters in one clause."""
    out_w: list[str] = []
    out_c: list[int] = []
    out_k: list[bool] = []
    i = 0
    while i < len(words):
        j = i
        while (
            j < len(words)
            and len(words[j]) == 1
            and words[j].isalpha()
            and not cjk[j]
            and clauses[j] == clauses[i]
        ):
            j += 1
        if j - i >= 2:
            out_w.append("".join(words[i:j]))
            out_c.append(clauses[i])
            out_k.append(False)
            i = j
            continue
        out_w.append(words[i])
        out_c.append(clauses[i])
        out_k.append(cjk[i])
        i += 1
    return out_w, out_c, out_k


def term_tokens(term: str) -> tuple[str, ...]:
    """A list term as a run of tokens (the same normalisation as texts)."""
    return tokens(term).words
