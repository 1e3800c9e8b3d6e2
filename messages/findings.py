"""Validation findings: the stable codes of DESIGN.md §4 and the record that carries them.

Codes are part of the public contract (API responses, CUSRSP `<Error code>`,
tests), so they live in one enum and are never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Severity = Literal["error", "warning"]


class Code(StrEnum):
    XML_MALFORMED = "XML_MALFORMED"
    XML_FORBIDDEN = "XML_FORBIDDEN"
    XML_TOO_LARGE = "XML_TOO_LARGE"
    SCHEMA = "SCHEMA"
    DUPLICATE_MESSAGE = "DUPLICATE_MESSAGE"
    MESSAGE_ID_REUSED = "MESSAGE_ID_REUSED"
    UNKNOWN_OPERATOR = "UNKNOWN_OPERATOR"
    ITEM_ID_FORMAT = "ITEM_ID_FORMAT"
    ITEM_ID_CHECK_DIGIT = "ITEM_ID_CHECK_DIGIT"
    ITEM_ID_COUNTRY = "ITEM_ID_COUNTRY"
    COUNTRY_CODE = "COUNTRY_CODE"
    CURRENCY_CODE = "CURRENCY_CODE"
    HS_FORMAT = "HS_FORMAT"
    HS_UNKNOWN = "HS_UNKNOWN"
    HS_MISSING = "HS_MISSING"
    ORIGIN_MISSING = "ORIGIN_MISSING"
    MANDATORY_MISSING = "MANDATORY_MISSING"
    CATEGORY_EXPLANATION = "CATEGORY_EXPLANATION"
    TOTAL_VALUE_MISMATCH = "TOTAL_VALUE_MISMATCH"
    WEIGHT_INCONSISTENT = "WEIGHT_INCONSISTENT"
    DESCRIPTION_VAGUE = "DESCRIPTION_VAGUE"
    TEXT_GARBAGE = "TEXT_GARBAGE"
    CN22_OVER_LIMIT = "CN22_OVER_LIMIT"
    PHONE_FORMAT = "PHONE_FORMAT"
    LATE_DATA = "LATE_DATA"
    AWB_CHECK_DIGIT = "AWB_CHECK_DIGIT"
    CANCEL_UNKNOWN = "CANCEL_UNKNOWN"
    ITEM_ID_REUSED = "ITEM_ID_REUSED"


#: Severity of each code when it is found on an item. Message-level codes
#: (XML_*, UNKNOWN_OPERATOR, MESSAGE_ID_REUSED) reject the whole message.
SEVERITY: dict[Code, Severity] = {
    Code.XML_MALFORMED: "error",
    Code.XML_FORBIDDEN: "error",
    Code.XML_TOO_LARGE: "error",
    Code.SCHEMA: "error",
    Code.DUPLICATE_MESSAGE: "warning",
    Code.MESSAGE_ID_REUSED: "error",
    Code.UNKNOWN_OPERATOR: "error",
    Code.ITEM_ID_FORMAT: "error",
    Code.ITEM_ID_CHECK_DIGIT: "error",
    Code.ITEM_ID_COUNTRY: "error",
    Code.COUNTRY_CODE: "error",
    Code.CURRENCY_CODE: "error",
    Code.HS_FORMAT: "error",
    Code.HS_UNKNOWN: "error",
    Code.HS_MISSING: "error",
    Code.ORIGIN_MISSING: "error",
    Code.MANDATORY_MISSING: "error",
    Code.CATEGORY_EXPLANATION: "error",
    Code.TOTAL_VALUE_MISMATCH: "warning",
    Code.WEIGHT_INCONSISTENT: "error",
    Code.DESCRIPTION_VAGUE: "warning",
    Code.TEXT_GARBAGE: "warning",
    Code.CN22_OVER_LIMIT: "warning",
    Code.PHONE_FORMAT: "warning",
    Code.LATE_DATA: "warning",
    Code.AWB_CHECK_DIGIT: "error",
    Code.CANCEL_UNKNOWN: "error",
    Code.ITEM_ID_REUSED: "error",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one data element, in words a data clerk can act on."""

    code: Code
    severity: Severity
    path: str
    message: str

    @classmethod
    def of(cls, code: Code, path: str, message: str) -> Finding:
        return cls(code, SEVERITY[code], path, message)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code.value,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }


def has_error(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)
