"""The one door through which all untrusted XML enters aedex.

Order matters: cheap byte checks (size, encoding, DOCTYPE/ENTITY) run before
libxml2 sees a single byte, so a billion-laughs or XXE payload is refused
without expansion and no file or URL is ever opened. The parser is hardened
explicitly (lxml >= 6.1, CVE-2026-41066) rather than trusting defaults.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from messages.errors import MessageRejected
from messages.findings import Code

XINCLUDE_NS = "http://www.w3.org/2001/XInclude"


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """DESIGN.md §3 limits; the service passes values from its settings."""

    max_bytes: int = 50 * 1024 * 1024
    max_depth: int = 32
    max_items: int = 10_000
    max_text_chars: int = 100_000


DEFAULT_LIMITS = XmlLimits()

_DECLARATION = re.compile(rb"^\s*<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_UTF8_BOM = b"\xef\xbb\xbf"
_DECLARATION_END = re.compile(rb"\s*<\?xml\s[^>]*\?>")

_local = threading.local()


def _parser() -> etree.XMLParser:
    """A per-thread parser: lxml parsers must not be shared across threads."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=False,  # kept so that we can refuse them, not silently drop them
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_untrusted(
    data: bytes, limits: XmlLimits = DEFAULT_LIMITS, *, depth_checked_later: bool = False
) -> etree._Element:
    """Parse untrusted XML bytes into an element tree, or raise `MessageRejected`.

    Raises with XML_TOO_LARGE (size, depth, item count, text node), XML_FORBIDDEN
    (DOCTYPE, entity, XInclude, processing instruction) or XML_MALFORMED (not
    well-formed, not UTF-8). A caller that validates against one of our XSDs
    may pass `depth_checked_later=True` and call `check_depth` only when the
    schema fails: a schema-valid message is at most 6 levels deep.
    """
    if len(data) > limits.max_bytes:
        raise MessageRejected(
            Code.XML_TOO_LARGE,
            f"message is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes",
        )
    data = _check_encoding(data)
    _check_forbidden_bytes(data)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        text = str(exc)
        # By the error code, not the text: the text quotes tag names (`<depth></huge>`).
        if getattr(exc, "code", None) == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            if text.startswith("Excessive depth"):
                raise MessageRejected(
                    Code.XML_TOO_LARGE,
                    f"elements are nested deeper than {limits.max_depth} levels",
                ) from None
            raise MessageRejected(
                Code.XML_TOO_LARGE, f"a text node is over {limits.max_text_chars:,} characters"
            ) from None
        raise MessageRejected(Code.XML_MALFORMED, f"XML is not well-formed: {text}") from None
    _check_tree(root, data, limits)
    if not depth_checked_later:
        check_depth(root, limits)
    return root


def _check_encoding(data: bytes) -> bytes:
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise MessageRejected(Code.XML_MALFORMED, "message is not UTF-8 (looks like UTF-16/32)")
    declared = _DECLARATION.match(data[:512])
    if declared is not None:
        name = declared.group(1).decode("ascii").lower()
        if name not in _UTF8_NAMES:
            raise MessageRejected(
                Code.XML_MALFORMED,
                f"declared encoding {declared.group(1).decode('ascii')!r}; only UTF-8 is accepted",
            )
    return data


def _check_forbidden_bytes(data: bytes) -> None:
    # Refuse before parsing: this is what keeps entity expansion from ever starting.
    # Plain `in` scans: far faster on bytes than a regex with alternation.
    if b"<!" not in data:
        return
    if b"<!DOCTYPE" in data or b"<!doctype" in data:
        raise MessageRejected(Code.XML_FORBIDDEN, "DOCTYPE declarations are not allowed")
    if b"<!ENTITY" in data:
        raise MessageRejected(Code.XML_FORBIDDEN, "entity declarations are not allowed")


def _check_tree(root: etree._Element, data: bytes, limits: XmlLimits) -> None:
    # Byte scans decide whether any tree walk is needed: a normal message has no
    # processing instruction after its XML declaration, no XInclude, and no run
    # of text longer than the limit. DOCTYPE was refused before parsing.
    declaration = _DECLARATION_END.match(data)
    after_declaration = declaration.end() if declaration else 0
    if data.find(b"<?", after_declaration) != -1 or b"XInclude" in data:
        _check_markup(root)
    # A text node longer than the limit needs that many bytes without a '<', unless
    # comments or CDATA sections (`<!`) split it: the parser joins the pieces.
    if len(data) > limits.max_text_chars and (
        b"<!" in data or max(map(len, data.split(b"<"))) > limits.max_text_chars
    ):
        if root.xpath("boolean(//text()[string-length(.) > $n])", n=limits.max_text_chars):
            raise MessageRejected(
                Code.XML_TOO_LARGE, f"a text node is over {limits.max_text_chars:,} characters"
            )
    if len(root) > limits.max_items:
        count = sum(1 for child in root if etree.QName(child).localname in ("Item", "Response"))
        if count > limits.max_items:
            raise MessageRejected(
                Code.XML_TOO_LARGE,
                f"message has {count:,} items; the limit is {limits.max_items:,}",
            )


def _check_markup(root: etree._Element) -> None:
    doc = root.getroottree()
    if getattr(doc.docinfo, "doctype", "") or doc.docinfo.internalDTD is not None:
        raise MessageRejected(Code.XML_FORBIDDEN, "DOCTYPE declarations are not allowed")
    if doc.xpath("boolean(//processing-instruction())"):
        raise MessageRejected(Code.XML_FORBIDDEN, "processing instructions are not allowed")
    if root.xpath("boolean(//x:*)", namespaces={"x": XINCLUDE_NS}):
        raise MessageRejected(Code.XML_FORBIDDEN, "XInclude elements are not allowed")


def check_depth(root: etree._Element, limits: XmlLimits = DEFAULT_LIMITS) -> None:
    """Raise XML_TOO_LARGE when elements nest deeper than the limit."""
    too_deep = "boolean(/" + "/*" * (limits.max_depth + 1) + ")"
    if root.getroottree().xpath(too_deep):
        raise MessageRejected(
            Code.XML_TOO_LARGE, f"elements are nested deeper than {limits.max_depth} levels"
        )
