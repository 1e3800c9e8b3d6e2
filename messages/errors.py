"""Message-level rejection: the whole message is refused, with one stable code."""

from __future__ import annotations

from messages.findings import Code, Finding


class MessageRejected(Exception):
    """Raised when a message cannot be accepted at all (XML_*, wrong root, unknown type).

    Item-level problems are never raised; they are returned as findings.
    """

    def __init__(self, code: Code, message: str, path: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path

    @property
    def finding(self) -> Finding:
        return Finding.of(self.code, self.path, self.message)
