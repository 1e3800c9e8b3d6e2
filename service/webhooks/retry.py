"""The back-off schedule of failed webhook deliveries: exponential, capped, jittered."""

from __future__ import annotations

import random
from collections.abc import Callable

#: Exponents beyond this change nothing once the cap applies, and keep floats finite.
_MAX_EXPONENT = 60


def retry_delay(
    failed_attempts: int,
    *,
    base_s: float,
    cap_s: float,
    draw: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after the `failed_attempts`-th failed attempt (1-based).

    Nominal delay `base_s * 2**(failed_attempts - 1)`, at most `cap_s`, then
    jittered into its upper half, [d/2, d): receivers that come back are not hit
    by every webhook's retries at the same moment, and each delay is still at
    least the previous one's nominal value, so the waits grow until the cap.
    """
    exponent = min(max(failed_attempts - 1, 0), _MAX_EXPONENT)
    nominal = min(cap_s, base_s * 2.0**exponent)
    return nominal * (0.5 + 0.5 * draw())
