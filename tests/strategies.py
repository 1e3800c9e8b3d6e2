"""Hypothesis strategies for messages, within what XML can carry."""

from __future__ import annotations

from datetime import timedelta, timezone

from hypothesis import strategies as st

from messages.models import (
    Address,
    ContentPiece,
    CusitmHeader,
    CusitmMessage,
    CusrspHeader,
    CusrspMessage,
    DeclaredItem,
    ItmattHeader,
    ItmattMessage,
    MessageFunction,
    Money,
    Party,
    Response,
    ResponseError,
    TransportDocument,
)

# XML 1.0 cannot carry control characters, surrogates or non-characters; the
# decoder trims ends, so generated text is trimmed and non-empty.
_xml_chars = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"))
raw_text = st.text(_xml_chars, max_size=20)
text = st.text(_xml_chars, min_size=1, max_size=20).map(str.strip).filter(bool)
opt_text = st.none() | text

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
when = st.datetimes(timezones=offsets)
opt_when = st.none() | when
decimals = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False)
opt_decimal = st.none() | decimals
money = st.builds(Money, amount=opt_decimal, currency=opt_text)
opt_int = st.none() | st.integers(min_value=0, max_value=10**6)


def address(version: str) -> st.SearchStrategy[Address]:
    if version == "1.1":
        return st.builds(
            Address,
            lines=st.lists(text, max_size=4),
            postcode=opt_text,
            city=opt_text,
            country=opt_text,
        )
    return st.builds(
        Address,
        street=opt_text,
        house_number=opt_text,
        postcode=opt_text,
        city=opt_text,
        region=opt_text,
        country=opt_text,
    )


def party(version: str) -> st.SearchStrategy[Party]:
    return st.builds(
        Party,
        name=opt_text,
        business_name=opt_text,
        address=st.none() | address(version),
        phone=opt_text,
        email=opt_text,
        tax_id=opt_text,
    )


pieces = st.builds(
    ContentPiece,
    index=opt_int,
    description=opt_text,
    quantity=opt_int,
    net_weight=opt_decimal,
    value=st.none() | money,
    hs_code=opt_text,
    origin_country=opt_text,
)


def declared_item(version: str) -> st.SearchStrategy[DeclaredItem]:
    return st.builds(
        DeclaredItem,
        item_id=opt_text,
        id_type=st.sampled_from(["S10", "HAWB", "OTHER"]),
        posting_datetime=opt_when,
        mail_class=opt_text,
        mail_category=opt_text,
        declaration_form=opt_text,
        category=opt_text,
        category_explanation=opt_text,
        total_value=st.none() | money,
        total_gross_weight=opt_decimal,
        postal_charges=st.none() | money,
        insured_value=st.none() | money,
        invoice_number=opt_text,
        licence_numbers=st.lists(text, max_size=2),
        certificate_numbers=st.lists(text, max_size=2),
        comments=opt_text,
        sender=st.none() | party(version),
        addressee=st.none() | party(version),
        contents=st.lists(pieces, max_size=3),
    )


functions = st.none() | st.sampled_from(list(MessageFunction))


def itmatt_messages(version: str) -> st.SearchStrategy[ItmattMessage]:
    header = st.builds(
        ItmattHeader,
        message_id=opt_text,
        message_function=functions,
        sender_operator=opt_text,
        recipient_operator=opt_text,
        prepared_at=opt_when,
    )
    return st.builds(
        ItmattMessage,
        version=st.just(version),
        header=header,
        items=st.lists(declared_item(version), min_size=1, max_size=3),
    )


cusitm_messages = st.builds(
    CusitmMessage,
    header=st.builds(
        CusitmHeader,
        message_id=opt_text,
        message_function=functions,
        sender_operator=opt_text,
        customs_office=opt_text,
        prepared_at=opt_when,
        expected_arrival=opt_when,
        transport_document=st.none()
        | st.builds(
            TransportDocument, type=st.sampled_from(["AWB", "RECEPTACLE", "DISPATCH"]), value=text
        ),
    ),
    items=st.lists(declared_item("1.2"), min_size=1, max_size=3),
)

cusrsp_messages = st.builds(
    CusrspMessage,
    header=st.builds(
        CusrspHeader,
        message_id=text,
        sender_authority=text,
        recipient_operator=text,
        prepared_at=when,
    ),
    responses=st.lists(
        st.builds(
            Response,
            item_id=text,
            in_reply_to=text,
            decision=text,
            axis=st.none() | st.sampled_from(["FISCAL", "SECURITY"]),
            processing_indicator=st.none() | st.integers(min_value=1, max_value=99),
            decided_at=when,
            reasons=st.lists(raw_text, max_size=3),
            errors=st.lists(
                st.builds(ResponseError, code=raw_text, path=raw_text, text=raw_text), max_size=3
            ),
        ),
        min_size=1,
        max_size=4,
    ),
)
