"""Webhook signatures, Stripe's scheme: `Aedex-Signature: t=TIMESTAMP,v1=HEX`.

HEX is HMAC-SHA256, keyed with the webhook's secret, over `b"{t}."` followed by
the exact body bytes. The timestamp is signed with the body, so a receiver that
refuses old timestamps cannot be fed a captured request again later. A receiver
verifies with `verify` (constant-time, with a tolerance); no framework needed.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Aedex-Signature"
SCHEME = "v1"
#: How far a signed timestamp may be from the receiver's clock.
DEFAULT_TOLERANCE_S = 300
#: A signature header longer than this is not ours (bounds the parsing work).
MAX_HEADER_LENGTH = 1024


class InvalidSignature(ValueError):
    """The request is not signed with the secret (or too old): refuse it."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `b"{timestamp}." + body` under `secret`."""
    payload = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The `Aedex-Signature` header value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{SCHEME}={signature(secret, body, t)}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> int:
    """The signed timestamp if `header` signs `body` with `secret` within `tolerance_s`
    of `now`; raises InvalidSignature saying why otherwise. Any one of several `v1`
    entries may match (a sender rotating its secret signs with both)."""
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise InvalidSignature(f"no {SIGNATURE_HEADER} header, or an overlong one")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == SCHEME:
            candidates.append(value)
    if timestamp is None:
        raise InvalidSignature("the signature has no timestamp (t=...)")
    if not candidates:
        raise InvalidSignature(f"the signature has no {SCHEME}=... entry")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance_s:
        raise InvalidSignature(
            f"the signed timestamp is {abs(clock - timestamp):.0f} s from now "
            f"(tolerance {tolerance_s:g} s)"
        )
    expected = signature(secret, body, timestamp)
    # Check every candidate (no early exit), each in constant time.
    matched = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    if not any(matched):
        raise InvalidSignature("no signature matches the body and the secret")
    return timestamp
