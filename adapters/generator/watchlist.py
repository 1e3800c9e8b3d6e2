"""A fictional watchlist of persons and companies, and the spellings that slip past exact matching.

Every entry is invented for synthetic traffic; any likeness to a real person or
company is unintended. The shape follows the public consolidated lists (the EU
Financial Sanctions Files, OFAC's SDN list): a name, a country, person or
company, and a reference. Senders on such lists rarely write their name the
way the list does, so the `watchlist` scenario declares a variant: typos,
transliterations and accents, word order, initials, legal forms. These are why
OFAC's Sanctions List Search matches fuzzily and why the EU files list alias
spellings of the same name.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from anyascii import anyascii

from messages.rulebook import garbage_reason

Kind = Literal["person", "company"]


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One listed party; `ref` is a fictional list reference like "FICT-001"."""

    ref: str
    name: str
    country: str
    kind: Kind


_PEOPLE: tuple[tuple[str, str], ...] = (
    ("Viktor Aleksandrovich Dragunov", "RU"),
    ("Yevgeny Petrovich Sokolinsky", "RU"),
    ("Olga Vladimirovna Beresneva", "RU"),
    ("Aleksandr Mikhailovich Korbut", "BY"),
    ("Dmitry Valeryevich Lisovsky", "BY"),
    ("José Ramírez Cuéllar", "VE"),
    ("María Fernanda Quiñones Ibáñez", "CO"),
    ("Mohammad Reza Tavakkolinejad", "IR"),
    ("Hossein Ali Zarandipour", "IR"),
    ("Kim Chol Ryong", "KP"),
    ("Rami Khaled Al-Haddadin", "SY"),
    ("Timur Serikovich Abenov", "KZ"),
    ("Gurgen Ashotovich Melikyants", "AM"),
    ("Hüseyin Kıvanç Özdemirci", "TR"),
    ("Levan Zurabovich Tsikhelashvili", "GE"),
)
_COMPANIES: tuple[tuple[str, str], ...] = (
    ("Orion Trade Holdings LLC", "AE"),
    ("Gulf Meridian General Trading LLC", "AE"),
    ("Sevzapimpex Trading LLC", "RU"),
    ("Polesye Machinery OJSC", "BY"),
    ("Anatolian Bridge Dış Ticaret Ltd. Şti.", "TR"),
    ("Steppe Horizon Logistics LLP", "KZ"),
    ("Ararat Silk Road Export LLC", "AM"),
    ("Kartli Transit Group LLC", "GE"),
    ("Zagros Precision Parts Co.", "IR"),
    ("Kumsong Star Trading Corporation", "KP"),
    ("Levant Crown Trading S.A.R.L.", "SY"),
    ("Cedar Bridge Holdings S.A.L.", "LB"),
    ("Blue Lotus Microelectronics Limited", "HK"),
    ("Aegean Phoenix Shipping Ltd", "CY"),
    ("Balkan Eagle Export d.o.o.", "RS"),
)


def _entries() -> tuple[WatchlistEntry, ...]:
    rows: list[tuple[str, str, Kind]] = [(name, country, "person") for name, country in _PEOPLE]
    rows += [(name, country, "company") for name, country in _COMPANIES]
    return tuple(
        WatchlistEntry(ref=f"FICT-{n:03d}", name=name, country=country, kind=kind)
        for n, (name, country, kind) in enumerate(rows, start=1)
    )


#: The fictional list, in a fixed order (scenario draws pick by index).
WATCHLIST: tuple[WatchlistEntry, ...] = _entries()

#: Transliteration pairs seen between list spellings and declared ones.
_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("Viktor", "Victor"), ("Aleksandr", "Alexandr"), ("Yevgeny", "Evgeny"),
    ("Dmitry", "Dmitri"), ("Mohammad", "Mohammed"), ("Hossein", "Hussein"),
    ("Chol", "Cheol"), ("ovich", "ovitch"), ("Khaled", "Khalid"), ("Timur", "Temir"),
    ("Gurgen", "Gourgen"), ("Levan", "Lewan"), ("Sevzap", "Sevsap"), ("Ryong", "Ryeong"),
)  # fmt: skip
#: Legal forms as listed, and how senders write them instead ("" drops the form).
_LEGAL_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ltd. Şti.", ("Ltd Sti", "Limited Şirketi", "")),
    ("S.A.R.L.", ("SARL", "")),
    ("S.A.L.", ("SAL", "")),
    ("d.o.o.", ("DOO", "")),
    ("Corporation", ("Corp.", "Corp", "")),
    ("Limited", ("Ltd", "Ltd.", "")),
    ("OJSC", ("JSC", "OAO", "")),
    ("LLC", ("L.L.C.", "Limited Liability Company", "")),
    ("LLP", ("L.L.P.", "")),
    ("Ltd", ("Ltd.", "Limited", "")),
    ("Co.", ("Company", "Co", "")),
)
_KEYBOARD_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "y": "tu", "z": "x",
}  # fmt: skip
_ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}


def _exact(name: str, rng: random.Random) -> str:
    return name


def _split_form(name: str) -> tuple[str, str]:
    """(name without its legal form, the listed legal form or "")."""
    for listed, _declared in _LEGAL_FORMS:
        if name.endswith(" " + listed):
            return name[: -len(listed)].rstrip(" ,"), listed
    return name, ""


def _typo(name: str, rng: random.Random) -> str:
    """One slip of the keyboard in one longer word of the name proper (not the legal form):
    a neighbour key, a lost, doubled or swapped letter."""
    stem, form = _split_form(name)
    words = stem.split(" ")
    long = [n for n, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    n = rng.choice(long)
    word = words[n]
    i = rng.randrange(1, len(word) - 1)
    letter = word[i].lower()
    move = rng.choice(("neighbour", "drop", "double", "swap"))
    if move == "neighbour" and letter in _KEYBOARD_NEIGHBOURS:
        word = word[:i] + rng.choice(_KEYBOARD_NEIGHBOURS[letter]) + word[i + 1 :]
    elif move == "drop":
        word = word[:i] + word[i + 1 :]
    elif move == "swap" and word[i] != word[i + 1]:
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    else:
        word = word[:i] + word[i] + word[i:]
    words[n] = word
    return " ".join([*words, form] if form else words)


def _spelling(name: str, rng: random.Random) -> str:
    """Accents stripped (or added to a plain name), or another transliteration."""
    if not name.isascii():
        return str(anyascii(name))
    pairs = [(a, b) for a, b in _SPELLINGS if a in name]
    if pairs:
        listed, declared = rng.choice(pairs)
        return name.replace(listed, declared, 1)
    vowels = [i for i, ch in enumerate(name) if ch in _ACCENTED and i > 0]
    i = rng.choice(vowels)
    return name[:i] + _ACCENTED[name[i]] + name[i + 1 :]


def _surname_first(name: str, rng: random.Random) -> str:
    words = name.split(" ")
    return " ".join([words[-1], *words[:-1]])


def _initial(name: str, rng: random.Random) -> str:
    words = name.split(" ")
    return f"{words[0][0]}. {words[-1]}"


def _legal_form(name: str, rng: random.Random) -> str:
    """The listed legal form written another way, or left out."""
    stem, listed = _split_form(name)
    replacement = rng.choice(dict(_LEGAL_FORMS).get(listed, ("",)))
    return f"{stem} {replacement}" if replacement else stem


Variant = Callable[[str, random.Random], str]

#: Variant kinds per entry kind, in a fixed order.
VARIANTS: dict[Kind, dict[str, Variant]] = {
    "person": {
        "exact": _exact,
        "typo": _typo,
        "spelling": _spelling,
        "surname_first": _surname_first,
        "initial": _initial,
    },
    "company": {
        "exact": _exact,
        "typo": _typo,
        "spelling": _spelling,
        "legal_form": _legal_form,
    },
}


def name_variant(entry: WatchlistEntry, rng: random.Random) -> tuple[str, str]:
    """(variant kind, declared name) for `entry`; never a name the rulebook calls garbage."""
    variants = VARIANTS[entry.kind]
    kind = rng.choice(list(variants))
    name = variants[kind](entry.name, rng)
    if garbage_reason(name) is not None or len(name) > 70:  # pragma: no cover - defensive
        return "exact", entry.name
    return kind, name
