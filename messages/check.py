"""Check a whole message: the validate stage and `aedex validate` in one function.

Never raises for bad input. Message-level problems (unsafe or malformed XML,
wrong root, broken header) come back as `MessageCheck.findings`; item-level
ones as `ItemCheck.findings`. Items without error findings also come back as
canonical `Item`s, ready for risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from messages.canonical import Item, MessageFacts, canonical_item, message_facts
from messages.codec import cusitm_from_tree, itmatt_from_tree
from messages.errors import MessageRejected
from messages.findings import Code, Finding, has_error
from messages.models import CusitmMessage, DeclaredItem, ItmattMessage
from messages.rates import RateTable
from messages.rulebook import DEFAULT_LATE_AFTER, ItemContext, validate_header, validate_item
from messages.schema import SCHEMA_FILES, validate_tree
from messages.xml import DEFAULT_LIMITS, XmlLimits, check_depth, parse_untrusted


@dataclass
class ItemCheck:
    index: int
    declared: DeclaredItem
    findings: list[Finding]
    item: Item | None = None

    @property
    def rejected(self) -> bool:
        return has_error(self.findings)


@dataclass
class MessageCheck:
    kind: str | None
    message: ItmattMessage | CusitmMessage | None
    findings: list[Finding] = field(default_factory=list)
    items: list[ItemCheck] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """The message as a whole is refused (message-level error)."""
        return has_error(self.findings)

    def all_findings(self) -> list[Finding]:
        return self.findings + [f for item in self.items for f in item.findings]


def _prefer_specific(findings: list[Finding]) -> list[Finding]:
    """DESIGN.md §3: a specific code always wins over SCHEMA on the same element.

    MANDATORY_MISSING is the exception: when the XSD says an element holds a
    bad value, the element is present, and "missing" would mislead the sender.
    Only an error wins: a warning on the same element (TOTAL_VALUE_MISMATCH on a
    total of 5,000 digits) says something else and must not turn the error into
    an accepted item.
    """
    schema_paths = {f.path for f in findings if f.code is Code.SCHEMA}
    if not schema_paths:
        return findings
    specific = {
        f.path.partition("/@")[0]
        for f in findings
        if f.code not in (Code.SCHEMA, Code.MANDATORY_MISSING) and f.severity == "error"
    }
    return [
        f
        for f in findings
        if not (f.code is Code.SCHEMA and f.path in specific)
        and not (f.code is Code.MANDATORY_MISSING and f.path.partition("/@")[0] in schema_paths)
    ]


def _is_identity(finding: Finding, prefix: str) -> bool:
    """A finding on the item's identity, the one part of a cancellation that is used."""
    return finding.path in (prefix, f"{prefix}/ItemId") or finding.path.startswith(
        f"{prefix}/ItemId/"
    )


def check_message(
    data: bytes,
    *,
    received_at: datetime | None = None,
    rates: RateTable | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
    late_after: timedelta = DEFAULT_LATE_AFTER,
    tree: etree._Element | None = None,
) -> MessageCheck:
    """Parse, schema-check, validate and normalise an ITMATT or CUSITM message.

    `received_at` is event time from the API or relay; offline it defaults to
    the message's PreparedAt, so results never depend on the wall clock. `tree` is
    `data` as `parse_untrusted` parsed it (its depth checked) for a caller that needed
    the tree itself: the message is then not parsed a second time.
    """
    rates = rates or RateTable.default()
    try:
        root = parse_untrusted(data, limits, depth_checked_later=True) if tree is None else tree
        tag = root.tag if isinstance(root.tag, str) else ""
        schema_file = SCHEMA_FILES.get((tag, root.get("version") or ""))
        if schema_file is None or tag.endswith("}CUSRSP"):
            raise MessageRejected(
                Code.XML_MALFORMED,
                f"root element {tag!r} version {root.get('version')!r} is not ITMATT 1.1/1.2 "
                "or CUSITM 1 in the aedex namespaces",
            )
        # Schema first: a message the XSD accepts whole is decoded in one flat walk.
        schema_report = validate_tree(root, schema_file)
        valid = not (schema_report.message or schema_report.items)
        message = (
            cusitm_from_tree(root, schema_valid=valid)
            if tag.endswith("}CUSITM")
            else itmatt_from_tree(root, schema_valid=valid)
        )
    except MessageRejected as rejected:
        return MessageCheck(kind=None, message=None, findings=[rejected.finding])

    if not valid and tree is None:
        try:
            check_depth(root, limits)
        except MessageRejected as rejected:
            return MessageCheck(kind=None, message=None, findings=[rejected.finding])
    header_findings = _prefer_specific(schema_report.message + validate_header(message.header))
    result = MessageCheck(kind=message.kind, message=message, findings=header_findings)
    if message.header.prepared_at is None and received_at is None:
        received = None
    else:
        received = received_at or message.header.prepared_at
    expected = message.header.expected_arrival if isinstance(message, CusitmMessage) else None
    header_ok = not has_error(header_findings)
    facts: MessageFacts | None = None
    for index, declared in enumerate(message.items, start=1):
        ctx = ItemContext(
            index=index,
            received_at=received,
            expected_arrival=expected,
            late_after=late_after,
            rates=rates,
            message_function=message.header.message_function,
        )
        schema_findings = schema_report.items.get(index, [])
        if ctx.cancels:
            schema_findings = [f for f in schema_findings if _is_identity(f, ctx.prefix)]
        findings = _prefer_specific(schema_findings + validate_item(declared, ctx))
        check = ItemCheck(index=index, declared=declared, findings=findings)
        if header_ok and not check.rejected and received is not None:
            facts = facts or message_facts(message)
            check.item = canonical_item(
                declared,
                facts,
                received_at=received,
                rates=rates,
                warnings=[f.code.value for f in findings],
            )
        result.items.append(check)
    return result
