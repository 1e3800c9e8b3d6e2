"""Harmonized System 2022 nomenclature: chapters, headings and subheadings.

`HS_UNKNOWN` needs "do the first 6 digits name an HS 2022 subheading", at
20,000 items/s, so the table is read once from package data and kept as dicts.

The packaged file is the UN Comtrade extraction (docs/data-sources.md). It also
carries Comtrade's own "TOTAL" and chapter 99 rows ("commodities not specified
according to kind", e.g. 999999); those are statistical codes, not part of the
WCO nomenclature, so they are dropped here and a declared 999999 is unknown.
What remains is HS 2022 as published: 96 chapters, 1,228 headings, 5,612
subheadings. Subheadings ending in "00" (e.g. 020500) are real: a heading
without subdivision has one subheading ending in "00".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final

#: Declared HS or tariff code: the 6-digit subheading plus up to 4 national digits.
HS_FORMAT_PATTERN: Final = re.compile(r"^\d{6,10}$")

_DATA_FILE: Final = "hs2022.csv"
#: Comtrade's aggregate rows ("TOTAL", chapter 99): not HS codes.
_NOT_HS_SECTION: Final = "TOTAL"


@dataclass(frozen=True, slots=True)
class _Nomenclature:
    chapters: dict[str, str]
    headings: dict[str, str]
    subheadings: dict[str, str]


@cache
def _nomenclature() -> _Nomenclature:
    text = (files("messages") / "data" / _DATA_FILE).read_text(encoding="utf-8-sig")
    by_level: dict[str, dict[str, str]] = {"2": {}, "4": {}, "6": {}}
    for row in csv.DictReader(io.StringIO(text)):
        if row["section"] == _NOT_HS_SECTION:
            continue
        level = by_level.get(row["level"])
        if level is not None:
            level[row["hscode"]] = row["description"]
    return _Nomenclature(chapters=by_level["2"], headings=by_level["4"], subheadings=by_level["6"])


def is_subheading(code6: str) -> bool:
    """True if `code6` is exactly an HS 2022 subheading; pass `code[:6]` for longer codes."""
    return code6 in _nomenclature().subheadings


def subheading_description(code: str) -> str | None:
    """Description of the subheading named by the first 6 digits of `code`, or None."""
    return _nomenclature().subheadings.get(code[:6]) if len(code) >= 6 else None


def heading_description(code4: str) -> str | None:
    """Description of the heading named by the first 4 digits of `code4`, or None."""
    return _nomenclature().headings.get(code4[:4]) if len(code4) >= 4 else None


def chapter_description(code2: str) -> str | None:
    """Description of the chapter named by the first 2 digits of `code2`, or None."""
    return _nomenclature().chapters.get(code2[:2]) if len(code2) >= 2 else None


def subheadings() -> dict[str, str]:
    """All HS 2022 subheadings, code -> description (a copy: callers may not alter the cache)."""
    return dict(_nomenclature().subheadings)
