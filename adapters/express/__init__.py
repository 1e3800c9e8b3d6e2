"""Express carriers: manifest JSON/CSV to CUSITM."""

from adapters.express.manifest import (
    Manifest,
    ManifestLine,
    ManifestMessage,
    ManifestParty,
    Shipment,
    manifest_from_csv,
    manifest_from_json,
    manifest_problems,
    manifest_to_csv,
    manifest_to_cusitm,
    manifest_to_cusitms,
    manifest_to_json,
    message_id_for,
)

__all__ = [
    "Manifest",
    "ManifestLine",
    "ManifestMessage",
    "ManifestParty",
    "Shipment",
    "manifest_from_csv",
    "manifest_from_json",
    "manifest_problems",
    "manifest_to_csv",
    "manifest_to_cusitm",
    "manifest_to_cusitms",
    "manifest_to_json",
    "message_id_for",
]
