"""Test-wide settings."""

from __future__ import annotations

from hypothesis import settings

# Property tests assert behaviour, not speed: no per-example deadline on shared,
# noisy machines (timings live in benchmarks/).
settings.register_profile("aedex", deadline=None)
settings.load_profile("aedex")

# Kafka broker fixtures (`kafka_bootstrap`, `embedded_broker`) and database fixtures
# (`database_url`, `db_engine`, `db_sessionmaker`, ...) for every test.
pytest_plugins = ["tests.kafka_fixtures", "tests.db_fixtures"]
