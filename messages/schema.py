"""XSD validation with findings mapped to item paths.

Schemas are compiled once from package data with a trusted parser. libxml2
reports positional paths (`/*/*[3]/*[5]/*`); we resolve them back to the
element and rebuild the readable path (`Item[2]/ContentPiece[1]/Quantity`)
so the finding lands on the right item.
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

_NS_IN_MESSAGE = re.compile(r"\{urn:aedex:msg:[a-z]+:1\}")


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


def validate_tree(root: etree._Element, schema_file: str) -> SchemaReport:
    report = SchemaReport()
    xsd = schema(schema_file)
    if xsd.validate(root):
        return report
    doc = root.getroottree()
    for error in cast(Iterable[Any], xsd.error_log):  # lxml-stubs lag lxml 6 here
        text = _NS_IN_MESSAGE.sub("", error.message)
        found = doc.xpath(error.path) if error.path else []
        target = found[0] if isinstance(found, list) and found else None
        if isinstance(target, etree._Element):
            index, path = readable_path(target)
        else:
            index, path = None, ""
        finding = Finding.of(Code.SCHEMA, path, text)
        if index is None:
            report.message.append(finding)
        else:
            report.items.setdefault(index, []).append(finding)
    return report
