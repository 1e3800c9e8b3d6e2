"""ITMATT/CUSITM envelope inspection: header facts without decoding items."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.errors import AdapterCode, AdapterError
from adapters.post import Envelope, inspect_envelope, inspect_itmatt
from messages.errors import MessageRejected

ITMATT = b"""<?xml version="1.0" encoding="UTF-8"?>
<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2">
  <Header>
    <MessageId>CNA-20261122-000001</MessageId>
    <MessageFunction>9</MessageFunction>
    <SenderOperator>CNA</SenderOperator>
    <RecipientOperator>DEA</RecipientOperator>
    <PreparedAt>2026-11-22T10:15:00+08:00</PreparedAt>
  </Header>
  <Item>
    <ItemId>RR123456785CN</ItemId>
    <PostingDateTime>2026-11-21T09:00:00+08:00</PostingDateTime>
    <MailClass>C</MailClass>
    <MailCategory>A</MailCategory>
    <DeclarationForm>CN23</DeclarationForm>
    <Category>SALE_OF_GOODS</Category>
    <TotalValue currency="EUR">49.90</TotalValue>
    <TotalGrossWeight>0.450</TotalGrossWeight>
    <Sender>
      <Name>Li Wei</Name>
      <Address>
        <Street>Shennan Road</Street><HouseNumber>1001</HouseNumber>
        <Postcode>518000</Postcode><City>Shenzhen</City><Country>CN</Country>
      </Address>
    </Sender>
    <Addressee>
      <Name>Anna M\xc3\xbcller</Name>
      <Address>
        <Street>Hauptstra\xc3\x9fe</Street><HouseNumber>5a</HouseNumber>
        <Postcode>10115</Postcode><City>Berlin</City><Country>DE</Country>
      </Address>
    </Addressee>
    <ContentPiece>
      <Index>1</Index>
      <Description>Men's cotton T-shirt</Description>
      <Quantity>2</Quantity>
      <NetWeight>0.300</NetWeight>
      <Value currency="EUR">39.90</Value>
      <HSCode>610910</HSCode>
      <OriginCountry>CN</OriginCountry>
    </ContentPiece>
  </Item>
  <Item>
    <ItemId>RR987654326CN</ItemId>
  </Item>
</ITMATT>
"""

CUSITM = b"""<?xml version="1.0" encoding="UTF-8"?>
<CUSITM xmlns="urn:aedex:msg:cusitm:1" version="1">
  <Header>
    <MessageId> DHL-20261122-0001 </MessageId>
    <MessageFunction>9</MessageFunction>
    <SenderOperator>DHL</SenderOperator>
    <CustomsOffice>DE004700</CustomsOffice>
    <PreparedAt>2026-11-22T01:00:00+01:00</PreparedAt>
    <ExpectedArrival>2026-11-22T05:40:00+01:00</ExpectedArrival>
    <TransportDocument type="AWB">176-12345675</TransportDocument>
  </Header>
  <Item><ItemId idType="HAWB">1234567890</ItemId></Item>
</CUSITM>
"""


def test_itmatt_envelope() -> None:
    envelope = inspect_itmatt(ITMATT)
    assert envelope == Envelope(
        message_type="ITMATT",
        version="1.2",
        message_id="CNA-20261122-000001",
        sender_operator="CNA",
        recipient="DEA",
        item_count=2,
    )
    assert envelope.key == "CNA:CNA-20261122-000001"
    assert inspect_envelope(ITMATT) == envelope


def test_legacy_itmatt_version_is_accepted() -> None:
    assert inspect_itmatt(ITMATT.replace(b'version="1.2"', b'version="1.1"')).version == "1.1"


def test_cusitm_envelope_has_the_customs_office_as_recipient() -> None:
    envelope = inspect_envelope(CUSITM)
    assert envelope == Envelope(
        message_type="CUSITM",
        version="1",
        message_id="DHL-20261122-0001",
        sender_operator="DHL",
        recipient="DE004700",
        item_count=1,
    )
    assert envelope.key == "DHL:DHL-20261122-0001"


def test_missing_header_fields_are_none_and_there_is_no_key() -> None:
    data = ITMATT.replace(b"<MessageId>CNA-20261122-000001</MessageId>", b"<MessageId/>")
    envelope = inspect_itmatt(data)
    assert envelope.message_id is None
    assert envelope.key is None


@pytest.mark.parametrize(
    ("inspect", "data", "location", "expected"),
    [
        (inspect_itmatt, CUSITM, "/", "root element is '{urn:aedex:msg:cusitm:1}CUSITM'"),
        (
            inspect_envelope,
            ITMATT.replace(b"urn:aedex:msg:itmatt:1", b"urn:other"),
            "/",
            "root element is '{urn:other}ITMATT'; expected "
            "{urn:aedex:msg:itmatt:1}ITMATT or {urn:aedex:msg:cusitm:1}CUSITM",
        ),
        (
            inspect_envelope,
            b'<CUSRSP xmlns="urn:aedex:msg:cusrsp:1" version="1"/>',
            "/",
            "'{urn:aedex:msg:cusrsp:1}CUSRSP'",
        ),
        (
            inspect_itmatt,
            ITMATT.replace(b'version="1.2"', b'version="2.0"'),
            "/ITMATT/@version",
            "ITMATT has version '2.0'; supported: 1.1, 1.2",
        ),
        (
            inspect_envelope,
            CUSITM.replace(b' version="1"', b""),
            "/CUSITM/@version",
            "CUSITM has no version attribute; supported: 1",
        ),
    ],
)
def test_wrong_envelope_is_xml_malformed(
    inspect: Callable[[bytes], Envelope], data: bytes, location: str, expected: str
) -> None:
    with pytest.raises(AdapterError) as caught:
        inspect(data)
    assert caught.value.code == AdapterCode.XML_MALFORMED
    assert caught.value.location == location
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2">&e;</ITMATT>',
            "XML_FORBIDDEN",
        ),
        (b'<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2"><Header>', "XML_MALFORMED"),
        (b"not xml at all", "XML_MALFORMED"),
    ],
)
def test_the_xml_gate_rejections_propagate(data: bytes, code: str) -> None:
    for inspect in (inspect_itmatt, inspect_envelope):
        with pytest.raises(MessageRejected) as caught:
            inspect(data)
        assert caught.value.code == code
