"""A manifest refused whole, with every header-level finding at its place in the manifest.

A subclass of AdapterError, so a caller that only knows "the adapter refused this"
(`aedex validate`, the fuzz targets) keeps working; the API answers it as `422` with
the findings (DESIGN.md §6), as it refuses an XML message whose header is broken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adapters.errors import AdapterCode, AdapterError
from adapters.express.model import carrier_problem
from messages.findings import Code, Finding


class ManifestRefused(AdapterError):
    """`findings` are errors that concern every shipment (carrier, manifest_id, master_awb);
    their paths name the manifest's own fields (`master_awb`, `row 2, column master_awb`)."""

    def __init__(self, code: AdapterCode, findings: Sequence[Finding]) -> None:
        if not findings:
            raise ValueError("a refusal needs at least one finding")
        first = findings[0]
        super().__init__(code, first.message, first.path)
        self.findings = list(findings)

    def summary(self) -> str:
        """Every finding in one line, for the refusal's `detail`."""
        return "; ".join(f"{f.path}: {f.message}" for f in self.findings)


def identity_findings(
    carrier: str | None, manifest_id: str | None, *, at: Callable[[str], str], absent: str
) -> list[Finding]:
    """What keeps a manifest from being a message at all: the carrier is the SenderOperator
    and the manifest_id the start of every MessageId. `at` places a field
    (`manifest_id`, `row 2, column manifest_id`); `absent` is the format's word ("missing")."""
    findings: list[Finding] = []
    if (problem := carrier_problem(carrier)) is not None:
        code = Code.MANDATORY_MISSING if carrier is None else Code.SCHEMA
        findings.append(Finding.of(code, at("carrier"), problem))
    if manifest_id is None:
        findings.append(
            Finding.of(
                Code.MANDATORY_MISSING,
                at("manifest_id"),
                f"manifest_id is {absent}; it becomes the MessageId",
            )
        )
    return findings
