"""An element of one message type's header inside the other's is a SCHEMA finding.

The decoder knew every header element of both types; one that the model of this
type has no field for (a CustomsOffice in an ITMATT, a RecipientOperator in a
CUSITM) made `check_message` raise a pydantic ValidationError instead of
answering the sender.
"""

from __future__ import annotations

import pytest
from lxml import etree

from messages.check import check_message
from messages.codec import encode_cusitm, encode_itmatt
from tests import builders

#: (message, an element its header must not hold, placed after SenderOperator)
MISPLACED = [
    ("ITMATT", b"<CustomsOffice>DE004853</CustomsOffice>"),
    ("ITMATT", b"<ExpectedArrival>2026-11-23T06:15:00Z</ExpectedArrival>"),
    ("ITMATT", b'<TransportDocument type="AWB">615-12345675</TransportDocument>'),
    ("CUSITM", b"<RecipientOperator>DEA</RecipientOperator>"),
]


@pytest.mark.parametrize(("kind", "element"), MISPLACED)
def test_a_header_element_of_the_other_message_type_is_reported_not_raised(
    kind: str, element: bytes
) -> None:
    data = (
        encode_itmatt(builders.itmatt()) if kind == "ITMATT" else encode_cusitm(builders.cusitm())
    )
    data = data.replace(b"</SenderOperator>", b"</SenderOperator>" + element, 1)
    result = check_message(data)
    assert result.refused
    codes = {f.code.value for f in result.findings}
    assert codes == {"SCHEMA"}, result.findings
    name = element[1 : element.index(b">")].split(b" ")[0].decode()
    assert any(name in f.message for f in result.findings), result.findings


def _leaves(*messages: bytes) -> dict[str, tuple[str, dict[str, str]]]:
    """Every leaf element either message type uses: its text and attributes, by name."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for data in messages:
        for el in etree.fromstring(data).iter():
            if len(el) == 0:
                found.setdefault(etree.QName(el).localname, (el.text or "", dict(el.attrib)))
    return found


def test_any_element_of_either_type_under_any_parent_gives_findings_never_an_exception() -> None:
    """The class of the bug above: 34 leaf elements × every parent of both types."""
    messages = {
        "ITMATT": encode_itmatt(builders.itmatt()),
        "CUSITM": encode_cusitm(builders.cusitm()),
    }
    leaves = _leaves(*messages.values())
    tried = 0
    for data in messages.values():
        namespace = etree.QName(etree.fromstring(data)).namespace
        parents = [etree.QName(el).localname for el in etree.fromstring(data).iter() if len(el)]
        for parent in parents:
            for name, (text, attributes) in leaves.items():
                root = etree.fromstring(data)
                target = next(el for el in root.iter() if etree.QName(el).localname == parent)
                etree.SubElement(target, f"{{{namespace}}}{name}", attributes).text = text
                result = check_message(etree.tostring(root))  # must not raise
                assert result.kind is not None or result.findings
                tried += 1
    assert tried > 500
