"""Test-wide settings."""

from __future__ import annotations

from hypothesis import settings

# Property tests assert behaviour, not speed: no per-example deadline on shared,
# noisy machines (timings live in benchmarks/).
settings.register_profile("aedex", deadline=None)
settings.load_profile("aedex")
