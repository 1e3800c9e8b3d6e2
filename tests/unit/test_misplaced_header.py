"""An element of one message type's header inside the other's is a SCHEMA finding.

The decoder knew every header element of both types; one that the model of this
type has no field for (a CustomsOffice in an ITMATT, a RecipientOperator in a
CUSITM) made `check_message` raise a pydantic ValidationError instead of
answering the sender.
"""

from __future__ import annotations

import pytest

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
