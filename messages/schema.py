"""XSD validation with findings mapped to item paths.

Schemas are compiled once from package data with a trusted parser. libxml2
reports positional paths (`/*/*[3]/*[5]/*`); we resolve them back to the
element and rebuild the readable path (`Item[2]/ContentPiece[1]/Quantity`)
so the finding lands on the right item, and translate libxml2's text into
the sender's words (`messages.schema_text`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from typing import Any, cast

from lxml import etree

from messages.findings import Code, Finding
from messages.schema_text import plain_message

ITMATT_NS = "urn:aedex:msg:itmatt:1"
CUSITM_NS = "urn:aedex:msg:cusitm:1"
CUSRSP_NS = "urn:aedex:msg:cusrsp:1"

#: (root tag, version attribute) -> schema file
SCHEMA_FILES: dict[tuple[str, str], str] = {
    (f"{{{ITMATT_NS}}}ITMATT", "1.1"): "itmatt-1.1.xsd",
    (f"{{{ITMATT_NS}}}ITMATT", "1.2"): "itmatt-1.2.xsd",
    (f"{{{CUSITM_NS}}}CUSITM", "1"): "cusitm-1.xsd",
    (f"{{{CUSRSP_NS}}}CUSRSP", "1"): "cusrsp-1.xsd",
}

_local = threading.local()


def schema(filename: str) -> etree.XMLSchema:
    """One of our XSDs, compiled once per thread from trusted package data.

    Per thread because an `XMLSchema` keeps the error log of its last
    validation on the shared object: two threads validating at once could
    read each other's errors. Compiling costs a few milliseconds per thread.
    """
    compiled: dict[str, etree.XMLSchema] | None = getattr(_local, "schemas", None)
    if compiled is None:
        compiled = _local.schemas = {}
    found = compiled.get(filename)
    if found is None:
        resource = files("messages.schemas").joinpath(filename)
        with as_file(resource) as path:
            found = compiled[filename] = etree.XMLSchema(etree.parse(str(path)))
    return found


@dataclass
class SchemaReport:
    """SCHEMA findings split by where they belong."""

    message: list[Finding] = field(default_factory=list)
    items: dict[int, list[Finding]] = field(default_factory=dict)


def readable_path(el: etree._Element) -> tuple[int | None, str]:
    """(1-based item index or None, path like `Item[2]/ContentPiece[1]/Quantity`)."""
    parts: list[str] = []
    item_index: int | None = None
    node: etree._Element | None = el
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        assert parent is not None
        name = etree.QName(node).localname
        if name in ("Item", "ContentPiece", "Line", "Response", "LicenceNumber", "Error"):
            same = [c for c in parent if c.tag == node.tag]
            position = same.index(node) + 1
            parts.append(f"{name}[{position}]")
            if name == "Item" and parent.getparent() is None:
                item_index = position
        else:
            parts.append(name)
        node = parent
    return item_index, "/".join(reversed(parts))


_STEP = re.compile(r"(?P<name>[^\[\]/]+)(?:\[(?P<position>\d+)\])?")


def element_at(root: etree._Element, path: str) -> etree._Element | None:
    """The element at a libxml2 node path (`/*/*[3]/y:Foo[2]`), or None.

    Walked by hand rather than with XPath: libxml2 writes prefixes the sender
    chose (`y:Foo`), which XPath cannot resolve without their bindings, and
    `*[n]` (an element in the default namespace) counts every element sibling.
    """
    steps = path.strip("/").split("/") if path.startswith("/") else []
    node: etree._Element | None = root
    for depth, step in enumerate(steps):
        found = _STEP.fullmatch(step)
        if node is None or found is None:
            return None
        name, position = found["name"], int(found["position"] or 1)
        if depth == 0:
            node = root if _named(root, name) and position == 1 else None
            continue
        same = [c for c in node if isinstance(c.tag, str) and _named(c, name)]
        node = same[position - 1] if 0 < position <= len(same) else None
    return node


def _named(el: etree._Element, step: str) -> bool:
    """libxml2's step names: `*` any element, `p:local` by prefix, `local` no namespace."""
    if step == "*":
        return True
    qname = etree.QName(el)
    if el.prefix:
        return step == f"{el.prefix}:{qname.localname}"
    return qname.namespace is None and step == qname.localname


def validate_tree(root: etree._Element, schema_file: str) -> SchemaReport:
    """XSD-check `root`; every error becomes a SCHEMA finding in plain words on its item."""
    report = SchemaReport()
    xsd = schema(schema_file)
    if xsd.validate(root):
        return report
    seen: set[tuple[str, str]] = set()
    for error in cast(Iterable[Any], xsd.error_log):  # lxml-stubs lag lxml 6 here
        element = element_at(root, error.path or "")
        index, path = readable_path(element) if element is not None else (None, "")
        text = plain_message(error.message, element, schema_file)
        if (path, text) in seen:  # libxml2 may say one thing twice about one element
            continue
        seen.add((path, text))
        finding = Finding.of(Code.SCHEMA, path, text)
        if index is None:
            report.message.append(finding)
        else:
            report.items.setdefault(index, []).append(finding)
    return report
