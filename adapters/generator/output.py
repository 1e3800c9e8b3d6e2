"""What the generator produces: files with their bytes, ground-truth labels and envelopes.

Labels are the point of synthetic traffic: for every item they say which
defect or risk scenario was planted and exactly which finding codes
`aedex validate` must report, so validation and risk detection can be scored,
not eyeballed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

FileKind = Literal[
    "itmatt-1.2", "itmatt-1.1", "cusitm", "manifest-json", "manifest-csv", "cn23-csv", "hostile"
]
#: Message kinds in a fixed order (reproducibility and report order).
MESSAGE_KINDS: tuple[FileKind, ...] = (
    "itmatt-1.2",
    "itmatt-1.1",
    "cusitm",
    "manifest-json",
    "manifest-csv",
    "cn23-csv",
)


@dataclass(frozen=True, slots=True)
class Label:
    """Ground truth for one item, or for one message-level case (`item_index` None).

    `scenario` names the risk scenario an item carries (scenarios.py), None for
    clean and defective items; `expected` is then the warnings it must raise.
    `variant` names a scenario's family ("plain", "misspelt", "held_out", ...;
    variants.py), or a clean trap's kind ("trap_colour", ...): detection is
    scored per family, and traps count false positives a keyword rule makes.
    """

    file: str
    message_id: str | None
    item_index: int | None
    item_id: str | None
    defect: str | None
    expected: tuple[str, ...]
    scenario: str | None = None
    variant: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "message_id": self.message_id,
            "item_index": self.item_index,
            "item_id": self.item_id,
            "defect": self.defect,
            "expected": list(self.expected),
            "scenario": self.scenario,
            "variant": self.variant,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Envelope:
    """Header facts a file may not carry itself but ingestion needs.

    A CN 23 CSV has no header at all, and a manifest has no customs office or
    preparation time; `aedex ingest` and the tests read them from `files.jsonl`.
    """

    kind: FileKind
    message_id: str | None
    sender_operator: str | None
    recipient_operator: str | None
    customs_office: str | None
    prepared_at: datetime | None
    items: int

    def as_dict(self, file: str) -> dict[str, object]:
        return {
            "file": file,
            "kind": self.kind,
            "message_id": self.message_id,
            "sender_operator": self.sender_operator,
            "recipient_operator": self.recipient_operator,
            "customs_office": self.customs_office,
            "prepared_at": None if self.prepared_at is None else self.prepared_at.isoformat(),
            "items": self.items,
        }

    def to_json(self, file: str) -> str:
        return json.dumps(self.as_dict(file), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One output file: `path` is relative to the output directory, with '/' separators."""

    path: str
    data: bytes
    envelope: Envelope
    labels: tuple[Label, ...]

    @property
    def kind(self) -> FileKind:
        return self.envelope.kind
