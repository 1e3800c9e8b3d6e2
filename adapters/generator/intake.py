"""The message a generated file becomes at intake: what the validate stage receives.

ITMATT and CUSITM files are messages already. A CN 23 CSV becomes an ITMATT
1.2 and a manifest a CUSITM, with the header facts from the file's envelope,
through the same adapters the API uses. Tests, `aedex evaluate` and the
benchmarks all judge generated files through this one door.
"""

from __future__ import annotations

from adapters.express import manifest_from_csv, manifest_from_json, manifest_to_cusitm
from adapters.generator.output import GeneratedFile
from adapters.post import cn23_csv_to_itmatt
from messages.codec import encode_cusitm, encode_itmatt

_AS_IS = frozenset({"itmatt-1.2", "itmatt-1.1", "cusitm", "hostile"})


def message_xml(file: GeneratedFile) -> bytes:
    """ITMATT or CUSITM XML bytes for `file` (hostile files as they are)."""
    if file.kind in _AS_IS:
        return file.data
    envelope = file.envelope
    if envelope.prepared_at is None or envelope.message_id is None:
        raise ValueError(f"{file.path}: envelope lacks message id or preparation time")
    if file.kind == "cn23-csv":
        if envelope.sender_operator is None or envelope.recipient_operator is None:
            raise ValueError(f"{file.path}: envelope lacks the operators")
        message = cn23_csv_to_itmatt(
            file.data.decode("utf-8"),
            message_id=envelope.message_id,
            sender_operator=envelope.sender_operator,
            recipient_operator=envelope.recipient_operator,
            prepared_at=envelope.prepared_at,
        )
        return encode_itmatt(message)
    if envelope.customs_office is None:
        raise ValueError(f"{file.path}: envelope lacks the customs office")
    if file.kind == "manifest-json":
        manifest = manifest_from_json(file.data)
    else:
        manifest = manifest_from_csv(file.data.decode("utf-8"))
    cusitm = manifest_to_cusitm(
        manifest, customs_office=envelope.customs_office, prepared_at=envelope.prepared_at
    )
    return encode_cusitm(cusitm)
