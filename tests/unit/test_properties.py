"""Invariants that must hold for every input, not just the examples we thought of."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages import s10
from messages.canonical import normalise, to_canonical
from messages.codec import (
    decode_cusitm,
    decode_cusrsp,
    decode_itmatt,
    encode_cusitm,
    encode_cusrsp,
    encode_itmatt,
)
from messages.codes import countries
from messages.jsoncodec import (
    decode_item_json,
    decode_message_json,
    encode_item_json,
    encode_message_json,
)
from messages.models import CusitmMessage, CusrspMessage, ItmattMessage
from messages.rates import RateTable
from messages.text import clean, fold, name_key
from tests import builders as b
from tests import strategies as s

# No deadline: timing belongs in benchmarks, and CI machines are shared.
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(s.itmatt_messages("1.2"))
def test_itmatt_12_round_trip(message: ItmattMessage) -> None:
    assert decode_itmatt(encode_itmatt(message)) == message


@PROPERTY
@given(s.itmatt_messages("1.1"))
def test_itmatt_11_round_trip(message: ItmattMessage) -> None:
    assert decode_itmatt(encode_itmatt(message)) == message


@PROPERTY
@given(s.cusitm_messages)
def test_cusitm_round_trip(message: CusitmMessage) -> None:
    assert decode_cusitm(encode_cusitm(message)) == message


@PROPERTY
@given(s.cusrsp_messages)
def test_cusrsp_round_trip(message: CusrspMessage) -> None:
    assert decode_cusrsp(encode_cusrsp(message)) == message


@PROPERTY
@given(s.itmatt_messages("1.1") | s.itmatt_messages("1.2") | s.cusitm_messages | s.cusrsp_messages)
def test_json_round_trip(message: ItmattMessage | CusitmMessage | CusrspMessage) -> None:
    assert decode_message_json(encode_message_json(message)) == message


_services = st.text(string.ascii_uppercase, min_size=2, max_size=2)
_countries = st.sampled_from(sorted(countries()))


@given(_services, st.integers(0, 99_999_999), _countries)
def test_s10_generator_and_validator_agree(service: str, serial: int, country: str) -> None:
    identifier = s10.make(service, serial, country)
    assert s10.check(identifier).ok
    for wrong in set("0123456789") - {identifier[10]}:
        tampered = identifier[:10] + wrong + identifier[11:]
        assert s10.check(tampered).problem is s10.S10Problem.CHECK_DIGIT


@given(st.text(string.ascii_uppercase + string.digits, min_size=13, max_size=13))
def test_s10_validator_accepts_only_correct_check_digits(candidate: str) -> None:
    result = s10.check(candidate)
    if result.ok:
        assert s10.make(candidate[:2], int(candidate[2:10]), candidate[11:]) == candidate


@given(st.text())
def test_text_normalisation_is_idempotent(value: str) -> None:
    assert clean(clean(value)) == clean(value)
    assert fold(fold(value)) == fold(value)
    assert name_key(name_key(value)) == name_key(value)


_RATES = RateTable.default()


@PROPERTY
@given(s.declared_item("1.2"), s.when)
def test_item_normalisation_is_idempotent(declared: object, received: object) -> None:
    message = b.itmatt(declared)  # type: ignore[arg-type]
    item = to_canonical(
        message.items[0].model_copy(update={"item_id": "RR123456785CN"}),
        message,
        received_at=received,  # type: ignore[arg-type]
        rates=_RATES,
    )
    once = normalise(item)
    assert once == item, "to_canonical already yields the normal form"
    assert normalise(once) == once
    assert decode_item_json(encode_item_json(once)) == once
