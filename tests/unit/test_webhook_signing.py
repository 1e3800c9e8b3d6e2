"""The webhook signature (Stripe's scheme) and the back-off schedule."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from service.webhooks.retry import retry_delay
from service.webhooks.signing import InvalidSignature, sign, verify

SECRET = "whsec-0123456789abcdef"
BODY = b'<CUSRSP xmlns="urn:aedex:msg:cusrsp:1" version="1"><Header/></CUSRSP>'
T = 1_764_633_600


def test_a_signed_body_verifies_and_gives_its_timestamp() -> None:
    header = sign(SECRET, BODY, timestamp=T)
    assert verify(SECRET, header, BODY, now=T + 10) == T


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """What a receiver in any language computes: HMAC-SHA256(secret, f"{t}." + body), hex."""
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, timestamp=T) == f"t={T},v1={expected}"


@pytest.mark.parametrize(
    ("secret", "header", "body", "now", "why"),
    [
        ("another-secret-0123456", sign(SECRET, BODY, timestamp=T), BODY, T, "no signature matches"),
        (SECRET, sign(SECRET, BODY, timestamp=T), BODY + b" ", T, "no signature matches"),
        (SECRET, sign(SECRET, BODY, timestamp=T).replace(f"t={T}", f"t={T + 1}"), BODY, T, "no signature matches"),
        (SECRET, sign(SECRET, BODY, timestamp=T), BODY, T + 301, "from now"),
        (SECRET, sign(SECRET, BODY, timestamp=T), BODY, T - 301, "from now"),
        (SECRET, None, BODY, T, "no Aedex-Signature header"),
        (SECRET, "", BODY, T, "no Aedex-Signature header"),
        (SECRET, "v1=" + "0" * 64, BODY, T, "no timestamp"),
        (SECRET, f"t={T}", BODY, T, "no v1="),
        (SECRET, f"t=-{T},v1=00", BODY, T, "no timestamp"),
        (SECRET, f"t={T}," + "v1=0," * 300, BODY, T, "overlong"),
    ],
    ids=["wrong secret", "body changed", "timestamp changed", "too old", "too new", "no header",
         "empty header", "no timestamp", "no v1", "negative timestamp", "overlong"],
)  # fmt: skip
def test_what_does_not_verify(
    secret: str, header: str | None, body: bytes, now: int, why: str
) -> None:
    with pytest.raises(InvalidSignature, match=why):
        verify(secret, header, body, now=now)


def test_any_of_several_v1_entries_may_match() -> None:
    """A sender rotating its secret signs with the old and the new one."""
    old = sign("old-secret-0123456789", BODY, timestamp=T).split(",")[1]
    header = f"t={T},{old},{sign(SECRET, BODY, timestamp=T).split(',')[1]}"
    assert verify(SECRET, header, BODY, now=T) == T
    assert verify("old-secret-0123456789", header, BODY, now=T) == T


def test_the_tolerance_is_the_receivers_choice() -> None:
    header = sign(SECRET, BODY, timestamp=T)
    assert verify(SECRET, header, BODY, now=T + 3600, tolerance_s=3600) == T
    with pytest.raises(InvalidSignature):
        verify(SECRET, header, BODY, now=T + 61, tolerance_s=60)


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999999])
def test_back_off_grows_until_the_cap_whatever_the_jitter(draw: float) -> None:
    delays = [retry_delay(n, base_s=1.0, cap_s=60.0, draw=lambda: draw) for n in range(1, 12)]
    nominal = [min(60.0, 2.0 ** (n - 1)) for n in range(1, 12)]
    assert all(d / 2 <= got <= d for got, d in zip(delays, nominal, strict=True)), delays
    growing = delays[: nominal.index(60.0)]
    assert growing == sorted(growing) and len(set(growing)) == len(growing), delays
    assert all(got <= 60.0 for got in delays)


def test_every_delay_outlasts_the_one_before_for_any_two_draws() -> None:
    """The smallest delay after failure n+1 is at least the largest after failure n."""
    for n in range(1, 8):
        longest = retry_delay(n, base_s=0.5, cap_s=1e6, draw=lambda: 0.999999)
        shortest_next = retry_delay(n + 1, base_s=0.5, cap_s=1e6, draw=lambda: 0.0)
        assert shortest_next >= longest


def test_back_off_stays_finite_for_absurd_attempt_counts() -> None:
    assert retry_delay(10_000, base_s=1.0, cap_s=900.0, draw=lambda: 1.0) == 900.0
