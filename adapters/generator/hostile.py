"""Hostile files: message-level attacks and breakage that must be refused whole.

Each maker takes the bytes of a clean message and returns a variant that the
intake must refuse with one message-level code, before any item is looked at:
XML_MALFORMED (cut short, or declared in Latin-1), XML_FORBIDDEN (an XXE
DOCTYPE reading /etc/passwd, billion laughs), XML_TOO_LARGE (nesting 10,000
deep, a text node over 100,000 characters).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from messages.findings import Code

_DECLARATION_END = b"?>"
_XXE = b'<!DOCTYPE ITMATT [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
_LAUGHS = (
    b'<!DOCTYPE ITMATT [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)
NESTING_DEPTH = 10_000
HUGE_TEXT_CHARS = 100_001


def _after_declaration(data: bytes, insert: bytes) -> bytes:
    end = data.index(_DECLARATION_END) + len(_DECLARATION_END)
    return data[:end] + b"\n" + insert + data[end:]


def _first_text(data: bytes, element: bytes, replacement: bytes) -> bytes:
    """`data` with the text of the first `<element>` replaced."""
    start = data.index(b"<" + element + b">") + len(element) + 2
    end = data.index(b"</" + element + b">", start)
    return data[:start] + replacement + data[end:]


def truncated(data: bytes, rng: random.Random) -> bytes:
    """Cut off mid-transfer: never well-formed, the root element is not closed."""
    return data[: rng.randrange(len(data) // 3, len(data) * 9 // 10)]


def latin1(data: bytes, rng: random.Random) -> bytes:
    """Declared and encoded as ISO-8859-1: aedex accepts UTF-8 only."""
    text = data.decode("utf-8").replace("encoding='UTF-8'", "encoding='ISO-8859-1'", 1)
    return text.encode("latin-1", errors="xmlcharrefreplace")


def external_entity(data: bytes, rng: random.Random) -> bytes:
    """XXE: an external entity that would read /etc/passwd into a description."""
    return _first_text(_after_declaration(data, _XXE), b"Description", b"&xxe;")


def billion_laughs(data: bytes, rng: random.Random) -> bytes:
    """Nine levels of tenfold entity expansion: a billion "lol"s from a kilobyte."""
    return _first_text(_after_declaration(data, _LAUGHS), b"Description", b"&lol9;")


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    """Elements nested 10,000 deep inside an item (stack exhaustion in naive parsers)."""
    nest = b"<Nest>" * NESTING_DEPTH + b"</Nest>" * NESTING_DEPTH
    end = data.index(b"</Item>")
    return data[:end] + nest + data[end:]


def huge_text(data: bytes, rng: random.Random) -> bytes:
    """A description longer than the 100,000-character text limit."""
    words = b"very long description " * (HUGE_TEXT_CHARS // 22 + 1)
    return _first_text(data, b"Description", words[:HUGE_TEXT_CHARS])


@dataclass(frozen=True, slots=True)
class HostileCase:
    """One hostile variant: the code it must be refused with and a short name for the file."""

    code: Code
    name: str
    make: Callable[[bytes, random.Random], bytes]


HOSTILE_CASES: tuple[HostileCase, ...] = (
    HostileCase(Code.XML_MALFORMED, "truncated", truncated),
    HostileCase(Code.XML_MALFORMED, "latin1", latin1),
    HostileCase(Code.XML_FORBIDDEN, "xxe", external_entity),
    HostileCase(Code.XML_FORBIDDEN, "billion-laughs", billion_laughs),
    HostileCase(Code.XML_TOO_LARGE, "deep-nesting", deep_nesting),
    HostileCase(Code.XML_TOO_LARGE, "huge-text", huge_text),
)
