"""Errors that carry their meaning to the client: a stable code, a text, an HTTP status.

The API renders every one as `{"error": CODE, "detail": text, "findings"?: [...]}`
(DESIGN.md §6); codes are the §4 codes where one applies (XML_FORBIDDEN,
MESSAGE_ID_REUSED...). `findings` are given when the refusal has several
data-element causes a sender must fix (a manifest's header, for one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AedexError(Exception):
    def __init__(
        self,
        code: str,
        detail: str,
        status: int = 400,
        *,
        findings: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status
        #: Each `{"code", "severity", "path", "message"}`, as `Finding.as_dict()` gives.
        self.findings = list(findings) if findings else None

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "detail": self.detail}
        if self.findings:
            body["findings"] = self.findings
        return body


class NotFound(AedexError):
    """Also what another operator's data looks like: existence must not leak (404, not 403)."""

    def __init__(self, what: str) -> None:
        super().__init__("NOT_FOUND", f"{what} not found", 404)


class Forbidden(AedexError):
    """The caller is known, but the route is not theirs (an operator key, a role too low)."""

    def __init__(self, detail: str) -> None:
        super().__init__("FORBIDDEN", detail, 403)


class Unauthorised(AedexError):
    def __init__(
        self, detail: str = "a valid API key is required (Authorization: Bearer KEY)"
    ) -> None:
        super().__init__("UNAUTHORISED", detail, 401)
