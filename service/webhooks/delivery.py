"""One signed POST of one CUSRSP to one webhook, and what came of it.

The body is the CUSRSP XML exactly as stored; headers say which response it is
(`Aedex-Response-Id`, the receiver's dedupe key: delivery is at least once),
which delivery and attempt, and sign body and time (`Aedex-Signature`,
service.webhooks.signing). Redirects are not followed and proxies or .netrc
from the environment are not used, so a push goes to the URL registered and
nowhere else; the receiver's answer body is read only up to a small limit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from service.webhooks.signing import SIGNATURE_HEADER, sign

RESPONSE_ID_HEADER = "Aedex-Response-Id"
DELIVERY_HEADER = "Aedex-Delivery"
ATTEMPT_HEADER = "Aedex-Attempt"
ITEM_ID_HEADER = "Aedex-Item-Id"
USER_AGENT = "aedex-webhooks/1"
#: Of the receiver's answer only this much is read (enough to keep the connection reusable).
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    #: The receiver's HTTP status; None when it gave none.
    status_code: int | None
    #: Why it failed, in words: no URL, header or secret in it.
    error: str | None


def client() -> httpx.AsyncClient:
    """One client per worker: pooled connections, no redirects, nothing from the environment."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
    )


def host(url: str) -> str:
    """What logs may name of a webhook URL: its host (the path or query may hold tokens)."""
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"


async def post(
    http: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    body: bytes,
    response_id: int,
    delivery_id: int,
    item_id: str,
    attempt: int,
    timeout_s: float,
) -> Outcome:
    """POST `body`; delivered on a 2xx answer within `timeout_s` (for the whole exchange)."""
    headers = {
        "Content-Type": "application/xml; charset=utf-8",
        SIGNATURE_HEADER: sign(secret, body),
        RESPONSE_ID_HEADER: str(response_id),
        DELIVERY_HEADER: str(delivery_id),
        ATTEMPT_HEADER: str(attempt),
    }
    if item_id.isascii() and item_id.isprintable():  # a header value must be plain ASCII
        headers[ITEM_ID_HEADER] = item_id
    try:
        # httpx's timeouts are per read; this one bounds a receiver that answers byte by byte.
        async with asyncio.timeout(timeout_s):
            async with http.stream(
                "POST", url, content=body, headers=headers, timeout=timeout_s
            ) as answer:
                read = 0
                async for chunk in answer.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_ANSWER_BYTES:
                        break
                status = answer.status_code
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(False, None, f"no answer within {timeout_s:g} s")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return Outcome(False, None, f"connection failed ({type(error).__name__})")
    if 200 <= status < 300:
        return Outcome(True, status, None)
    if 300 <= status < 400:
        return Outcome(False, status, f"HTTP {status} (redirects are not followed)")
    return Outcome(False, status, f"HTTP {status}")
