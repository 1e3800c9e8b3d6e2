"""Validate one file of any supported kind, told apart by its content.

Used by `aedex validate` and, later, by the dry-run API. XML roots name the
message; JSON is an express manifest; CSV is an express manifest or a CN 23
export, told apart by its header row. A CN 23 export has no envelope (message
id, operators), so it is not checked: the report says what it is and how to
convert it, as a message-level error (exit 1: the file was read, DESIGN.md §3).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.errors import AdapterError
from adapters.express import manifest_from_csv, manifest_from_json, manifest_to_cusitm
from messages.check import MessageCheck, check_message
from messages.codec import CUSRSP_NS, cusrsp_from_tree, encode_cusitm
from messages.errors import MessageRejected
from messages.findings import Code, Finding
from messages.schema import validate_tree
from messages.xml import parse_untrusted
from service.cli.convert_cli import cn23_instruction

#: Offline checks have no receiving office; CustomsOffice only needs to be present.
OFFLINE_CUSTOMS_OFFICE = "OFFLINE"


@dataclass
class FileReport:
    file: str
    type: str
    items: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: The full result for ITMATT/CUSITM/manifests: canonical items for `aedex assess`.
    check: MessageCheck | None = field(default=None, repr=False)

    @property
    def has_error(self) -> bool:
        return any(f.is_error for f in self.findings)

    @property
    def refused(self) -> bool:
        """A message-level error: the whole message is refused."""
        return any(f.is_error and not f.path.startswith("Item[") for f in self.findings)

    @property
    def rejected_items(self) -> set[str]:
        return {
            f.path.split("/", 1)[0]
            for f in self.findings
            if f.is_error and f.path.startswith("Item[")
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "type": self.type,
            "items": self.items,
            "findings": [f.as_dict() for f in self.findings],
        }


def detect_type(data: bytes) -> str:
    """ITMATT, CUSITM, CUSRSP (XML), MANIFEST_JSON, MANIFEST_CSV, CN23_CSV or UNKNOWN."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if head.startswith(b"<"):
        for name in (b"ITMATT", b"CUSITM", b"CUSRSP"):
            if b"<" + name in head or b":" + name in head:
                return name.decode()
        return "XML"
    if head.startswith((b"{", b"[")):
        return "MANIFEST_JSON"
    first_line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    columns = {c.strip() for c in next(csv.reader(io.StringIO(first_line)), [])}
    if "hawb" in columns:
        return "MANIFEST_CSV"
    if "item_id" in columns:
        return "CN23_CSV"
    return "UNKNOWN"


def check_file(name: str, data: bytes, *, received_at: datetime | None = None) -> FileReport:
    """`received_at`: judge the file as received then (default: its PreparedAt)."""
    kind = detect_type(data)
    if kind in ("ITMATT", "CUSITM", "XML"):
        return _report_message(name, kind, data, received_at)
    if kind == "CUSRSP":
        return _check_cusrsp(name, data)
    if kind in ("MANIFEST_JSON", "MANIFEST_CSV"):
        return _check_converted(name, kind, data, received_at)
    if kind == "CN23_CSV":
        why = (
            "this is a CN 23 CSV export, not a message: it has no envelope (MessageId, "
            f"SenderOperator, RecipientOperator, PreparedAt); {cn23_instruction(name)}"
        )
        return FileReport(name, kind, findings=[Finding.of(Code.XML_MALFORMED, "", why)])
    why = (
        "file is empty"
        if not data.strip()
        else "not an ITMATT/CUSITM/CUSRSP XML message, an express manifest (JSON/CSV) "
        "or a CN 23 CSV export"
    )
    return FileReport(name, kind, findings=[Finding.of(Code.XML_MALFORMED, "", why)])


def _report_message(
    name: str, kind: str, data: bytes, received_at: datetime | None = None
) -> FileReport:
    result = check_message(data, received_at=received_at)
    return FileReport(
        name,
        result.kind or kind,
        items=len(result.items),
        findings=result.all_findings(),
        check=result,
    )


def _check_cusrsp(name: str, data: bytes) -> FileReport:
    try:
        root = parse_untrusted(data)
        if root.tag != f"{{{CUSRSP_NS}}}CUSRSP":
            raise MessageRejected(Code.XML_MALFORMED, f"root element is {root.tag!r}")
        report = validate_tree(root, "cusrsp-1.xsd")
        findings = report.message + [f for fs in report.items.values() for f in fs]
        if findings:
            return FileReport(name, "CUSRSP", items=len(report.items), findings=findings)
        return FileReport(name, "CUSRSP", items=len(cusrsp_from_tree(root).responses))
    except MessageRejected as rejected:
        return FileReport(name, "CUSRSP", findings=[rejected.finding])


def _check_converted(
    name: str, kind: str, data: bytes, received_at: datetime | None = None
) -> FileReport:
    """Manifests go through the express adapter, then the same checks as CUSITM.

    Offline there is no customs office or receipt time: the manifest's departure
    stands in for PreparedAt, so LATE_DATA compares against its own arrival.
    """
    try:
        manifest = (
            manifest_from_json(data)
            if kind == "MANIFEST_JSON"
            else manifest_from_csv(data.decode("utf-8-sig"))
        )
        prepared_at = manifest.departure or manifest.arrival
        if prepared_at is None:
            missing = Finding.of(
                Code.MANDATORY_MISSING, "departure", "manifest has neither departure nor arrival"
            )
            return FileReport(name, kind, findings=[missing])
        message = manifest_to_cusitm(
            manifest, customs_office=OFFLINE_CUSTOMS_OFFICE, prepared_at=prepared_at
        )
    except AdapterError as exc:
        # A manifest that does not have the manifest's structure is the SCHEMA error of its format.
        code = Code.XML_MALFORMED if exc.code.value == "XML_MALFORMED" else Code.SCHEMA
        return FileReport(
            name, kind, findings=[Finding.of(code, exc.location, f"{exc.code}: {exc.message}")]
        )
    except UnicodeDecodeError as exc:
        return FileReport(
            name, kind, findings=[Finding.of(Code.XML_MALFORMED, "", f"not UTF-8: {exc}")]
        )
    result = check_message(encode_cusitm(message), received_at=received_at)
    return FileReport(
        name, kind, items=len(result.items), findings=result.all_findings(), check=result
    )
