"""A carrier's conformance test against aedex: copy this file into your own test suite.

With aedex installed (`pip install aedex`), pytest finds the `aedex_operator` fixture
itself (service.testing, a pytest plugin): the first test that asks for it starts a whole
aedex on this machine, which answers as the real one does. `pytest --aedex-url URL` with
`AEDEX_TEST_KEYS=CNA=<your key>` runs the same test against an aedex already running.

The message below is written by hand, as a carrier's own systems write theirs; replace
`itmatt()` with your own message builder to test what you really send. Every run uses
new item ids, MessageIds and addressees: the server is shared by every test of the
session and remembers what it was sent (a reused id is refused; several items to one
addressee are a risk signal), and posting and preparation times are the present, as
data sent long after posting is judged late.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from service.testing import OperatorClient, unique_message_id, unique_s10

OPERATOR = "CNA"  # the aedex_operator fixture's default (--aedex-operator)


def item(item_id: str, *, hs_code: str = "610910") -> str:
    """One item of a cotton T-shirt to a private addressee in Berlin, posted an hour ago."""
    posted = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    postcode = 10000 + secrets.randbelow(90000)  # a new addressee each time
    return f"""
  <Item>
    <ItemId>{item_id}</ItemId>
    <PostingDateTime>{posted}</PostingDateTime>
    <MailClass>C</MailClass>
    <MailCategory>A</MailCategory>
    <DeclarationForm>CN23</DeclarationForm>
    <Category>SALE_OF_GOODS</Category>
    <TotalValue currency="EUR">39.90</TotalValue>
    <TotalGrossWeight>0.450</TotalGrossWeight>
    <PostalCharges currency="EUR">4.50</PostalCharges>
    <Sender>
      <Name>Li Wei</Name>
      <BusinessName>Shenzhen Bright Trading Co., Ltd.</BusinessName>
      <Address>
        <Street>Shennan Road</Street><HouseNumber>1001</HouseNumber><Postcode>518000</Postcode>
        <City>Shenzhen</City><Region>Guangdong</Region><Country>CN</Country>
      </Address>
      <Phone>+86 755 8888 1234</Phone>
      <Email>sales@bright.example</Email>
    </Sender>
    <Addressee>
      <Name>Anna Müller</Name>
      <Address>
        <Street>Hauptstraße</Street><HouseNumber>5</HouseNumber><Postcode>{postcode}</Postcode>
        <City>Berlin</City><Country>DE</Country>
      </Address>
      <Phone>+49 30 1234567</Phone>
      <Email>anna@example.de</Email>
    </Addressee>
    <ContentPiece>
      <Index>1</Index>
      <Description>Men's cotton T-shirt</Description>
      <Quantity>2</Quantity>
      <NetWeight>0.300</NetWeight>
      <Value currency="EUR">39.90</Value>
      <HSCode>{hs_code}</HSCode>
      <OriginCountry>CN</OriginCountry>
    </ContentPiece>
  </Item>"""


def itmatt(message_id: str, *items: str) -> str:
    """An ITMATT 1.2 message from operator CNA to DEA, prepared now."""
    prepared = datetime.now(UTC).replace(microsecond=0).isoformat()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2">
  <Header>
    <MessageId>{message_id}</MessageId>
    <MessageFunction>9</MessageFunction>
    <SenderOperator>{OPERATOR}</SenderOperator>
    <RecipientOperator>DEA</RecipientOperator>
    <PreparedAt>{prepared}</PreparedAt>
  </Header>{"".join(items)}
</ITMATT>
"""


def test_a_clean_item_is_released_and_a_bad_hs_code_is_rejected(
    aedex_operator: OperatorClient,
) -> None:
    clean, wrong = unique_s10("CN"), unique_s10("CN")
    message_id = unique_message_id(OPERATOR)
    # 999999 is no HS subheading: that item is rejected, the other one is still assessed.
    posted = aedex_operator.post_message(
        itmatt(message_id, item(clean), item(wrong, hs_code="999999"))
    )
    assert posted.status_code == 202, posted.text
    assert posted.json()["items"] == 2

    answers = aedex_operator.await_responses([clean, wrong], timeout=60)

    assert answers[clean].decision == "RELEASE", answers[clean].reasons
    assert answers[clean].security is None
    assert answers[clean].codes == ()
    assert answers[clean].in_reply_to == message_id
    assert answers[wrong].decision == "REJECTED"
    assert "HS_UNKNOWN" in answers[wrong].codes
    assert answers[wrong].in_reply_to == message_id
