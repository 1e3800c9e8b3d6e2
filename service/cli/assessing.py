"""Offline assessment: validate files in order and assess their items (`aedex assess`, `aedex evaluate`).

Files are processed in the order given, one message at a time, with one
`InMemoryState` across all of them, so window rules see earlier files as the
pipeline would see earlier messages. A message's items are observed together
before any is assessed (`Engine.assess_many`): parts of a split order see
each other.

Lateness (LATE_DATA) is judged as of the time a message is received: live,
when the API or relay took it; offline, `received_at` when given (the time the
files were or will be posted), else each message's own PreparedAt (a
manifest's departure), so a file's verdict never depends on the wall clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.errors import AdapterError
from adapters.post import cn23_csv_to_itmatt
from messages.check import ItemCheck, MessageCheck, check_message
from messages.codec import encode_itmatt
from risk import Assessment, Engine, InMemoryState
from service.cli.filecheck import FileReport, check_file


@dataclass(frozen=True, slots=True)
class AssessedItem:
    file: str
    item_id: str | None
    check: ItemCheck
    assessment: Assessment | None  # None: rejected by validation

    def as_dict(self) -> dict[str, Any]:
        if self.assessment is None:
            return {
                "item_id": self.item_id,
                "action": "REJECTED",
                "findings": sorted({f.code.value for f in self.check.findings if f.is_error}),
            }
        out = self.assessment.as_dict()
        return {
            "item_id": out["item_id"],
            "score": out["score"],
            "action": out["action"],
            "security_action": out["security_action"],
            "hits": [
                {"rule": h["rule"], "score": h["score"], "reason": h["reason"]} for h in out["hits"]
            ],
        }


def assess_check(
    file: str, check: MessageCheck, engine: Engine, state: InMemoryState
) -> list[AssessedItem]:
    accepted = [c for c in check.items if c.item is not None]
    assessments = iter(engine.assess_many([c.item for c in accepted if c.item is not None], state))
    out = []
    for item_check in check.items:
        item_id = item_check.declared.item_id
        assessment = next(assessments) if item_check.item is not None else None
        out.append(AssessedItem(file, item_id, item_check, assessment))
    return out


def assess_file(
    path: Path, engine: Engine, state: InMemoryState, *, received_at: datetime | None = None
) -> tuple[FileReport, list[AssessedItem]]:
    report = check_file(str(path), path.read_bytes(), received_at=received_at)
    if report.check is None:
        return report, []
    return report, assess_check(str(path), report.check, engine, state)


def _envelope_check(root: Path, entry: dict[str, Any]) -> MessageCheck | None:
    """A CN 23 CSV export has no header: build its ITMATT from the envelope in files.jsonl."""
    try:
        message = cn23_csv_to_itmatt(
            (root / entry["file"]).read_text(encoding="utf-8-sig"),
            message_id=entry["message_id"],
            sender_operator=entry["sender_operator"],
            recipient_operator=entry["recipient_operator"],
            prepared_at=datetime.fromisoformat(entry["prepared_at"]),
        )
    except (AdapterError, KeyError, TypeError, ValueError):
        return None
    return check_message(encode_itmatt(message))


def generated_traffic(root: Path) -> Iterator[tuple[str, MessageCheck | None]]:
    """(file, check) for every message file of a generated directory, in timeline order."""
    for line in (root / "files.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "hostile":
            continue
        if entry["kind"] == "cn23-csv":
            yield entry["file"], _envelope_check(root, entry)
        else:
            report = check_file(entry["file"], (root / entry["file"]).read_bytes())
            yield entry["file"], report.check
