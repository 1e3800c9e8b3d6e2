"""Express carriers: manifest JSON/CSV to CUSITM."""

from adapters.express.manifest import (
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    manifest_from_csv,
    manifest_from_json,
    manifest_problems,
    manifest_to_csv,
    manifest_to_cusitm,
    manifest_to_json,
)

__all__ = [
    "Manifest",
    "ManifestLine",
    "ManifestParty",
    "Shipment",
    "manifest_from_csv",
    "manifest_from_json",
    "manifest_problems",
    "manifest_to_csv",
    "manifest_to_cusitm",
    "manifest_to_json",
]
