"""Test-wide settings."""

from __future__ import annotations

from hypothesis import settings

# Property tests assert behaviour, not speed: no per-example deadline on shared,
# noisy machines (timings live in benchmarks/).
settings.register_profile("aedex", deadline=None)
settings.load_profile("aedex")

# Kafka broker fixtures (`kafka_bootstrap`, `embedded_broker`) and database fixtures
# (`database_url`, `db_engine`, `db_sessionmaker`, ...) for every test.
# The log-secrets gate: every process logs to out/test-logs/, grepped for keys at the end.
pytest_plugins = ["tests.kafka_fixtures", "tests.db_fixtures", "tests.log_secrets"]
