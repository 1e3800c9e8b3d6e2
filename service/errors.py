"""Errors that carry their meaning to the client: a stable code, a text, an HTTP status.

The API renders every one as `{"error": CODE, "detail": text}` (DESIGN.md §6);
codes are the §4 codes where one applies (XML_FORBIDDEN, MESSAGE_ID_REUSED...).
"""

from __future__ import annotations


class AedexError(Exception):
    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


class NotFound(AedexError):
    """Also what another operator's data looks like: existence must not leak (404, not 403)."""

    def __init__(self, what: str) -> None:
        super().__init__("NOT_FOUND", f"{what} not found", 404)


class Unauthorised(AedexError):
    def __init__(
        self, detail: str = "a valid API key is required (Authorization: Bearer KEY)"
    ) -> None:
        super().__init__("UNAUTHORISED", detail, 401)
