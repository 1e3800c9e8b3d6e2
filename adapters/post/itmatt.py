"""ITMATT/CUSITM XML pass-through: read the envelope, leave the items to the validate stage.

Intake only needs who sent what (to key the record SENDER:MESSAGE_ID and to refuse
a wrong message type early); decoding every item here would double the work the
validate stage does anyway. All bytes go through `messages.xml.parse_untrusted`,
whose `MessageRejected` (XML_FORBIDDEN, XML_TOO_LARGE, XML_MALFORMED) propagates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lxml import etree

from adapters.errors import AdapterCode, AdapterError
from messages.codec import CUSITM_NS, ITMATT_NS
from messages.xml import DEFAULT_LIMITS, XmlLimits, parse_untrusted

MessageType = Literal["ITMATT", "CUSITM"]


@dataclass(frozen=True, slots=True)
class _Kind:
    message_type: MessageType
    namespace: str
    versions: tuple[str, ...]
    recipient_element: str


_ITMATT = _Kind("ITMATT", ITMATT_NS, ("1.1", "1.2"), "RecipientOperator")
_CUSITM = _Kind("CUSITM", CUSITM_NS, ("1",), "CustomsOffice")
_KINDS = {f"{{{kind.namespace}}}{kind.message_type}": kind for kind in (_ITMATT, _CUSITM)}


@dataclass(frozen=True, slots=True)
class Envelope:
    """Header facts of an item message; `recipient` is RecipientOperator (ITMATT) or
    CustomsOffice (CUSITM). Header fields are None when absent: the validate stage
    reports that as SCHEMA, the caller decides whether it can key the record."""

    message_type: MessageType
    version: str
    message_id: str | None
    sender_operator: str | None
    recipient: str | None
    item_count: int

    @property
    def key(self) -> str | None:
        """The `aed.inbound` record key SENDER:MESSAGE_ID, or None if either is missing."""
        if self.sender_operator is None or self.message_id is None:
            return None
        return f"{self.sender_operator}:{self.message_id}"


def inspect_itmatt(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> Envelope:
    """The envelope of an ITMATT 1.1/1.2 message; anything else is XML_MALFORMED."""
    return _inspect(data, limits, {f"{{{ITMATT_NS}}}ITMATT": _ITMATT})


def inspect_envelope(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> Envelope:
    """The envelope of an ITMATT or CUSITM message; anything else is XML_MALFORMED."""
    return _inspect(data, limits, _KINDS)


def envelope_of_tree(root: etree._Element) -> Envelope:
    """`inspect_envelope` of a tree `parse_untrusted` has already made (one parse, not two)."""
    return _envelope(root, _KINDS)


def _inspect(data: bytes, limits: XmlLimits, kinds: dict[str, _Kind]) -> Envelope:
    return _envelope(parse_untrusted(data, limits), kinds)


def _envelope(root: etree._Element, kinds: dict[str, _Kind]) -> Envelope:
    tag = root.tag if isinstance(root.tag, str) else repr(root.tag)
    kind = kinds.get(tag)
    if kind is None:
        expected = " or ".join(kinds)
        raise AdapterError(
            AdapterCode.XML_MALFORMED, f"root element is {tag!r}; expected {expected}", "/"
        )
    version = root.get("version")
    if version is None or version not in kind.versions:
        found = "no version attribute" if version is None else f"version {version!r}"
        raise AdapterError(
            AdapterCode.XML_MALFORMED,
            f"{kind.message_type} has {found}; supported: {', '.join(kind.versions)}",
            f"/{kind.message_type}/@version",
        )
    ns = f"{{{kind.namespace}}}"
    header = root.find(f"{ns}Header")
    return Envelope(
        message_type=kind.message_type,
        version=version,
        message_id=_child_text(header, f"{ns}MessageId"),
        sender_operator=_child_text(header, f"{ns}SenderOperator"),
        recipient=_child_text(header, f"{ns}{kind.recipient_element}"),
        item_count=sum(1 for _ in root.iterchildren(f"{ns}Item")),
    )


def _child_text(parent: etree._Element | None, tag: str) -> str | None:
    if parent is None:
        return None
    child = parent.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None
