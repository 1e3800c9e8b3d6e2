"""UPU, WCO and UN/EDIFACT code lists used by validation, the generator and CUSRSP.

The accepted code tuples are defined once in `messages.models` (the XSD-facing
contract) and re-exported here next to their meanings, so validation and the
generator read one place and the two can never drift apart. Sources are in
docs/data-sources.md and research/standards.md §1.3 and §3.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from messages.models import (
    CATEGORIES,
    COMMERCIAL_CATEGORIES,
    DECLARATION_FORMS,
    MAIL_CATEGORIES,
    MAIL_CLASSES,
    Axis,
    MessageFunction,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_NAMES",
    "COMMERCIAL_CATEGORIES",
    "DECISIONS",
    "DECLARATION_FORMS",
    "DECLARATION_FORM_NAMES",
    "MAIL_CATEGORIES",
    "MAIL_CATEGORY_NAMES",
    "MAIL_CLASSES",
    "MAIL_CLASS_NAMES",
    "MESSAGE_FUNCTIONS",
    "PROCESSING_INDICATORS",
    "Decision",
    "MessageFunction",
]

# UPU mail class (no list number published; standards.md S48). T (empty
# receptacles) is a despatch-level class and never valid on an item.
MAIL_CLASS_NAMES: Final[dict[str, str]] = {
    "U": "letter post",
    "C": "parcels",
    "E": "EMS",
}

# UPU code list 115, mail category (standards.md S42).
MAIL_CATEGORY_NAMES: Final[dict[str, str]] = {
    "A": "priority / airmail",
    "B": "S.A.L. (non-priority by air)",
    "C": "surface (non-priority)",
    "D": "priority by surface",
}

# UPU code list 136, category of item, in Deutsche Post's textual rendering
# (standards.md S11; the numeric codes are not public).
CATEGORY_NAMES: Final[dict[str, str]] = {
    "SALE_OF_GOODS": "sale of goods",
    "GIFT": "gift",
    "COMMERCIAL_SAMPLE": "commercial sample",
    "DOCUMENTS": "documents",
    "RETURNED_GOODS": "returned goods",
    "MIXED_CONTENTS": "mixed contents",
    "OTHER": "other (explanation required)",
}

# UPU Convention customs declarations: CN 22 up to 300 SDR, CN 23 above (standards.md §5.1).
DECLARATION_FORM_NAMES: Final[dict[str, str]] = {
    "CN22": "customs declaration, contents up to 300 SDR",
    "CN23": "customs declaration, parcels and contents over 300 SDR",
}

# UN/EDIFACT data element 1225, message function code (standards.md S36).
MESSAGE_FUNCTIONS: Final[dict[int, str]] = {
    MessageFunction.ORIGINAL: "original",
    MessageFunction.REPLACE: "replace",
    MessageFunction.CANCEL: "cancellation",
}

# UN/EDIFACT data element 7365, processing indicator, as used by CUSRES (standards.md S36).
PROCESSING_INDICATORS: Final[dict[int, str]] = {
    1: "message content accepted",
    2: "message content rejected",
    4: "goods released",
    5: "goods required for examination",
    6: "documents to be produced",
    7: "goods detained",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """One CUSRSP decision: its axis and EDIFACT 7365 indicator (None for security)."""

    code: str
    axis: Axis | None
    processing_indicator: int | None
    meaning: str


# CUSRSP decision table, DESIGN.md §3 (UPU list 183 values are not public).
DECISIONS: Final[dict[str, Decision]] = {
    d.code: d
    for d in (
        Decision("ACCEPTED", None, 1, "data accepted, assessment under way"),
        Decision("CANCELLED", None, None, "cancellation acknowledged; the item is withdrawn"),
        Decision("REJECTED", None, 2, "data errors; resend as MessageFunction 5"),
        Decision("RELEASE", "FISCAL", 4, "no customs interest"),
        Decision("DOCUMENTS_REQUIRED", "FISCAL", 6, "request for information / invoice"),
        Decision("INSPECT", "FISCAL", 5, "physical examination on arrival"),
        Decision("HOLD", "FISCAL", 7, "detained pending review"),
        Decision("SEIZE", "FISCAL", 7, "seized by an officer"),
        Decision("RETURN", "FISCAL", 7, "returned to sender by an officer"),
        Decision("SCREEN", "SECURITY", None, "high-risk screening required before loading"),
        Decision("DO_NOT_LOAD", "SECURITY", None, "must not be loaded"),
    )
}
