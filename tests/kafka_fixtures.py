"""Kafka-protocol broker fixtures: one broker per test session, private brokers, unique names.

The session broker is the embedded Tansu on a free loopback port, or the
broker named by `AEDEX_TEST_KAFKA_BOOTSTRAP` (e.g. Apache Kafka in CI). A
broker that cannot start fails the test: Kafka tests never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from service.broker import EmbeddedBroker

EXTERNAL_BOOTSTRAP_ENV = "AEDEX_TEST_KAFKA_BOOTSTRAP"

#: Tansu 0.6 holds a group join until the group's timeouts pass: ~5 s with
#: aiokafka's defaults, and ~18 s when a group's previous member has just left.
#: These make either take ~1 s. Apache Kafka refuses session timeouts below its
#: group.min.session.timeout.ms (6 s by default), so they apply to Tansu only.
_TANSU_GROUP_TIMEOUTS = {
    "session_timeout_ms": 1000,
    "heartbeat_interval_ms": 100,
    "rebalance_timeout_ms": 1000,
}


def unique_name(prefix: str) -> str:
    """A topic, group or topic-prefix name no other test (or xdist worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def group_timeouts() -> dict[str, int]:
    """Consumer options that make group joins fast on the broker the tests use."""
    return {} if os.environ.get(EXTERNAL_BOOTSTRAP_ENV, "").strip() else dict(_TANSU_GROUP_TIMEOUTS)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of the session's broker, shared by every Kafka test of a worker."""
    external = os.environ.get(EXTERNAL_BOOTSTRAP_ENV, "").strip()
    if external:
        yield external
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap


@pytest.fixture
def embedded_broker() -> Iterator[EmbeddedBroker]:
    """A started broker of the test's own, for tests that stop or restart it."""
    with EmbeddedBroker() as broker:
        yield broker
