"""Party resolution: when two declarations name the same person or the same warehouse.

Senders of a split order vary the addressee's spelling ("Anna Müller",
"MUELLER Anna", "A. Muller") and post from several shop names out of one
warehouse. Exact keys miss both. Here:

- an address block (country, postcode, house number, street stem) gathers
  the declarations to one door, whatever the name says;
- within a block, two names are the same person when their words pair off
  one to one: equal after transliteration (ä -> a, ae -> a, ß -> ss), one
  letter from each other, or an initial for a name; at least one full word
  must agree, so "Anna Müller" and "Peter Müller" at one door stay two people;
- a sender is linked to another by its key (name and address), its
  warehouse (address block) or its phone (last nine digits).

The link record of an item is a short string, so windows store it like any
other key (`risk.state`) and a persistent store keeps it without a new table.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from messages.canonical import Item, PartyRecord
from messages.text import fold, person_key, postcode_key

LINK_PREFIX = "L|"
_NUMBER = re.compile(r"\d+")


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


@lru_cache(maxsize=65_536)
def person_words(name: str | None) -> tuple[str, ...]:
    """A name's words for comparison: folded, German digraphs merged, legal forms out, sorted."""
    return tuple(person_key(name).split(" ")) if name and person_key(name) else ()


def _word_agrees(a: str, b: str) -> int:
    """2: the same word; 1: an initial for the word, or one letter apart; 0: no."""
    if a == b:
        return 2
    if len(a) == 1 or len(b) == 1:
        return 1 if a[0] == b[0] else 0
    if min(len(a), len(b)) >= 4 and _one_edit(a, b):
        return 1
    return 0


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@lru_cache(maxsize=65_536)
def same_person(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Words of the shorter name pair off with words of the longer; one full word equal."""
    if not a or not b:
        return False
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(long) - len(short) > 1:
        return False
    unused = list(long)
    full = False
    for word in sorted(short, key=len, reverse=True):
        best, where = 0, -1
        for n, other in enumerate(unused):
            agree = _word_agrees(word, other)
            if agree > best:
                best, where = agree, n
        if not best:
            return False
        full = full or (best == 2 and len(word) >= 3)
        unused.pop(where)
    return full


def address_block(party: PartyRecord) -> str | None:
    """Country, postcode, house number and street stem: one door, however the name is spelt."""
    if not party.country:
        return None
    street = party.street or (party.address_lines[0] if party.address_lines else "")
    return _block(party.country, party.postcode, street, party.house_number, party.city)


def address_block_of(party: Mapping[str, Any]) -> str | None:
    """`address_block` of a party as the canonical JSON holds it (no model to build)."""
    country = party.get("country")
    if not isinstance(country, str) or not country:
        return None
    lines = party.get("address_lines") or []
    street = party.get("street") or (lines[0] if lines else "")
    parts = (party.get("postcode"), party.get("house_number"), party.get("city"))
    if not isinstance(street, str) or not all(p is None or isinstance(p, str) for p in parts):
        return None
    return _block(country, parts[0], street, parts[1], parts[2])


@lru_cache(maxsize=65_536)
def _block(
    country: str, postcode: str | None, street: str, house: str | None, city: str | None
) -> str | None:
    """`address_block` of the parts (cached: senders and buyers recur)."""
    number = house or ""
    if not number:
        found = _NUMBER.search(street)
        number = found.group(0) if found else ""
    stem = next((w for w in fold(street).split(" ") if w.isalpha() and len(w) > 2), "")
    place = postcode_key(postcode) if postcode else fold(city or "")
    if not place or not (stem or number):
        return None
    return f"{country}:{place}:{fold(number).replace(' ', '')}:{stem[:4]}"


def phone_digits(phone: str | None) -> str | None:
    """The last nine digits of a phone: the subscriber, whatever prefix it is written with."""
    if not phone:
        return None
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-9:] if len(digits) >= 7 else None


@dataclass(frozen=True, slots=True)
class Link:
    """What one item contributes to party windows (parsed back from its record)."""

    block: str
    names: tuple[str, ...]
    #: Sender identities: "k" key, "w" warehouse (address block), "p" phone.
    senders: frozenset[str]
    #: The addressee's name exactly as written (hashed): "NATHAN RICHARDS" and "Nathan
    #: Richards" are one person, but one shop's system writes a buyer one way.
    spelling: str = ""


def link_record(item: Item) -> str | None:
    """The window key carrying the item's linking material, or None without an address."""
    addressee, sender, sender_key = item.addressee, item.sender, item.sender_key
    block = address_block(addressee)
    if block is None:
        return None
    senders = [f"k{sender_key[:12]}"]
    warehouse = address_block(sender)
    if warehouse is not None:
        senders.append(f"w{_short_hash(warehouse)}")
    phone = phone_digits(sender.phone)
    if phone is not None:
        senders.append(f"p{phone}")
    written = addressee.name or addressee.business_name or ""
    names = ".".join(person_words(written))
    return f"{LINK_PREFIX}{block}|{names}|{','.join(senders)}|{_short_hash(written)[:8]}"


@lru_cache(maxsize=65_536)
def parse_link(key: str) -> Link | None:
    if not key.startswith(LINK_PREFIX):
        return None
    parts = key[len(LINK_PREFIX) :].split("|")
    if len(parts) not in (3, 4):
        return None
    block, names, senders = parts[:3]
    spelling = parts[3] if len(parts) == 4 else ""
    return Link(
        block, tuple(n for n in names.split(".") if n), frozenset(senders.split(",")), spelling
    )


def sender_evidence(mine: frozenset[str], theirs: frozenset[str]) -> str | None:
    """How two senders are linked, in words, or None."""
    shared = mine & theirs
    if any(s.startswith("k") for s in shared):
        return "same sender"
    if any(s.startswith("w") for s in shared):
        return "same warehouse address"
    if any(s.startswith("p") for s in shared):
        return "same sender phone"
    return None
