"""`/metrics` describes the whole pipeline: per-stage lag from the broker, latency from the database."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from messages import s10
from messages.codec import encode_itmatt
from service.broker import EmbeddedBroker
from tests import builders
from tests.e2e.pipeline import Pipeline, supervised_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

MESSAGES = 6
ITEMS_PER_MESSAGE = 20


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def _metrics(pipeline: Pipeline) -> str:
    answer = await pipeline.client.get("/metrics")
    assert answer.status_code == 200
    return answer.text


async def test_lag_counts_what_a_stopped_stage_has_left_and_latency_what_the_others_did(
    database_url: str, embedded_broker: EmbeddedBroker
) -> None:
    # No respond worker: everything stops on its input topics, which the lag must show
    # (and the relay does not re-send the unanswered messages while the test runs).
    async with supervised_pipeline(
        database_url,
        embedded_broker,
        stages=("relay", "validate", "assess"),
        reconcile_after_s=3600,
    ) as pipeline:
        for n in range(MESSAGES):
            items = [
                builders.item(item_id=s10.make("RR", n * 1000 + i, "CN"))
                for i in range(ITEMS_PER_MESSAGE)
            ]
            message = builders.itmatt(*items, message_id=f"CNA-LAG-{n}")
            answer = await pipeline.post("CNA", encode_itmatt(message))
            assert answer.status_code == 202, answer.text
        expected = MESSAGES * ITEMS_PER_MESSAGE
        deadline = time.monotonic() + 120
        while True:
            text = await _metrics(pipeline)
            lag = {
                dict(k)["stage"]: v for k, v in _samples(text, "aedex_stage_lag_records").items()
            }
            if lag.get("respond") == expected and lag.get("assess") == 0:
                break
            assert time.monotonic() < deadline, f"lag never settled: {lag}"
            await asyncio.sleep(0.5)
        assert lag["validate"] == 0
        # A scrape reads the database before the broker: scrape again for latencies that
        # include the last batch the lag above already counted as done.
        text = await _metrics(pipeline)
        latency = _samples(text, "aedex_intake_to_stage_seconds")
        for stage in ("validate", "assess"):
            p50 = latency[(("quantile", "0.5"), ("stage", stage))]
            p99 = latency[(("quantile", "0.99"), ("stage", stage))]
            assert 0 <= p50 <= p99 < 120
        # Nothing answered yet: no respond latency, and every message is unsettled.
        assert math.isnan(latency[(("quantile", "0.99"), ("stage", "respond"))])
        assert _samples(text, "aedex_inbox_unsettled")[()] == MESSAGES
