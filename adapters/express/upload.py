"""A manifest upload as intake takes it: parsed, its header checked, split into CUSITMs.

What would refuse the whole message downstream is refused here, before anything is
stored, with every finding at the manifest's own place (`master_awb`,
`row 2, column master_awb`): a manifest_id too long to carry, and whatever
`check_message` reports at message level for the converted header (AWB_CHECK_DIGIT,
an over-long master AWB...). Item-level problems are not looked for: the validate
stage answers them item by item, and the API stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.errors import AdapterCode, AdapterError
from adapters.express.locations import Format, Source, locations_for, manifest_path
from adapters.express.manifest import MAX_MANIFEST_ID, ManifestMessage, manifest_to_cusitms
from adapters.express.manifest_csv import read_manifest_csv
from adapters.express.manifest_json import manifest_from_json
from adapters.express.model import Manifest
from adapters.express.refusal import ManifestRefused
from messages.check import check_message
from messages.codec import encode_cusitm
from messages.findings import Code, Finding
from messages.models import CusitmMessage, DeclaredItem, MessageFunction

_CODES: dict[Format, AdapterCode] = {
    "json": AdapterCode.MANIFEST_INVALID,
    "csv": AdapterCode.CSV_INVALID,
}


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    manifest: Manifest
    source: Source


@dataclass(frozen=True, slots=True)
class UploadMessage:
    """One CUSITM to store, and the location map the validate stage relocates findings with."""

    message: CusitmMessage
    function: MessageFunction
    locations: dict[str, Any]


def read_manifest(data: bytes, fmt: Format) -> ParsedManifest:
    """Parse an upload; AdapterError (ManifestRefused with findings for carrier/manifest_id)."""
    if fmt == "json":
        return ParsedManifest(manifest_from_json(data), Source("json"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AdapterError(AdapterCode.CSV_INVALID, "the CSV is not UTF-8") from None
    manifest, source = read_manifest_csv(text)
    return ParsedManifest(manifest, source)


def upload_messages(
    parsed: ParsedManifest, *, customs_office: str, prepared_at: datetime, fingerprint: bytes
) -> list[UploadMessage]:
    """The CUSITM messages of the upload (`manifest_to_cusitms`), or ManifestRefused with
    every header-level error; `fingerprint` is the upload's bytes."""
    header = locations_for(parsed.source, ())
    findings = _identity_findings(parsed.manifest, header)
    made: list[ManifestMessage] = []
    if not findings:
        made = manifest_to_cusitms(
            parsed.manifest,
            customs_office=customs_office,
            prepared_at=prepared_at,
            fingerprint=fingerprint,
        )
        findings = header_findings([m.message for m in made], header)
    if findings:
        raise ManifestRefused(_CODES[parsed.source.format], findings)
    return [
        UploadMessage(
            message=m.message,
            function=m.message.header.message_function or MessageFunction.ORIGINAL,
            locations=locations_for(parsed.source, m.shipments),
        )
        for m in made
    ]


def _identity_findings(manifest: Manifest, header: dict[str, Any]) -> list[Finding]:
    if len(manifest.manifest_id) <= MAX_MANIFEST_ID:
        return []
    return [
        Finding.of(
            Code.SCHEMA,
            manifest_path(header, "Header/MessageId"),
            f"manifest_id is {len(manifest.manifest_id)} characters; at most {MAX_MANIFEST_ID} "
            "fit, as each MessageId (an..35) is the manifest_id, a hash of the upload and "
            "the message function",
        )
    ]


def header_findings(messages: list[CusitmMessage], header: dict[str, Any]) -> list[Finding]:
    """The message-level errors `check_message` reports for these messages' headers, once
    each, at the manifest's place. Only the header is checked (with one empty item, as
    the schema wants an item): what the items say is item-level."""
    found: dict[tuple[str, str, str], Finding] = {}
    for message in messages:
        probe = CusitmMessage(header=message.header, items=[DeclaredItem()])
        for finding in check_message(encode_cusitm(probe)).findings:
            if finding.is_error:
                placed = Finding(
                    finding.code,
                    finding.severity,
                    manifest_path(header, finding.path),
                    finding.message,
                )
                found.setdefault((placed.code, placed.path, placed.message), placed)
    return list(found.values())
