"""The one error an adapter raises, so callers can answer the sender with code and place."""

from __future__ import annotations

from enum import StrEnum


class AdapterCode(StrEnum):
    """Stable codes for input an adapter cannot turn into a message at all."""

    MANIFEST_INVALID = "MANIFEST_INVALID"  # express manifest JSON: not JSON, wrong structure/types
    CSV_INVALID = "CSV_INVALID"  # any CSV input: header, cell count, unparseable cell
    XML_MALFORMED = "XML_MALFORMED"  # well-formed XML, but not the expected message envelope


class AdapterError(Exception):
    """Input that cannot be converted; `location` says where (e.g. "row 3, column hs_code").

    Data that is merely missing or wrong by the rulebook is *not* an AdapterError: it is
    passed through so the validate stage can report it as a finding.
    """

    def __init__(self, code: AdapterCode, message: str, location: str = "") -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.code = code
        self.message = message
        self.location = location
