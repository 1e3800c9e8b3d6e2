"""Per-key admission: a token bucket for the request rate and a cap on requests in flight.

One misbehaving client (a retry loop, a stuck uploader) must not take the API
from every other operator. Limits are per API key and per API process (N
replicas admit N times the rate; put a shared limiter in front for a global one).
Only keys that authenticated are tracked, and at most `MAX_TRACKED_KEYS` of them,
so random keys cannot grow this table.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from service.errors import AedexError

#: Keys whose buckets are kept; the least recently used beyond this are forgotten.
MAX_TRACKED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class Admission:
    """What the RateLimit headers of a response say."""

    limit: int
    remaining: int
    reset_s: int
    window_s: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_s).encode()),
            (b"ratelimit-policy", f"{self.limit};w={self.window_s}".encode()),
        ]


class TooManyRequests(AedexError):
    def __init__(self, detail: str, retry_after_s: int, admission: Admission | None) -> None:
        super().__init__("RATE_LIMITED", detail, 429)
        self.retry_after_s = max(1, retry_after_s)
        self.admission = admission


class _Bucket:
    __slots__ = ("tokens", "updated", "in_flight")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.updated = now
        self.in_flight = 0


class KeyLimiter:
    """`rate` requests per second per key with bursts up to `burst`; at most
    `concurrency` requests of one key in flight at once."""

    def __init__(self, *, rate: float, burst: int, concurrency: int) -> None:
        self.rate = rate
        self.burst = burst
        self.concurrency = concurrency
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            while len(self._buckets) > MAX_TRACKED_KEYS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def acquire(self, key: str) -> Admission:
        """Admit one request of `key` or raise TooManyRequests; pair with `release`."""
        now = time.monotonic()
        bucket = self._bucket(key, now)
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            admission = self._admission(bucket)
            raise TooManyRequests(
                f"more than {self.rate:g} requests per second for this key; retry in {wait} s",
                wait,
                admission,
            )
        if bucket.in_flight >= self.concurrency:
            raise TooManyRequests(
                f"this key already has {bucket.in_flight} requests in flight "
                f"(limit {self.concurrency}); retry when one has finished",
                1,
                self._admission(bucket),
            )
        bucket.tokens -= 1
        bucket.in_flight += 1
        return self._admission(bucket)

    def release(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None and bucket.in_flight > 0:
            bucket.in_flight -= 1

    def _admission(self, bucket: _Bucket) -> Admission:
        missing = self.burst - bucket.tokens
        return Admission(
            limit=self.burst,
            remaining=max(0, math.floor(bucket.tokens)),
            reset_s=max(0, math.ceil(missing / self.rate)),
            window_s=max(1, math.ceil(self.burst / self.rate)),
        )
