"""No loss, no doubles: `kill -9` of a stage worker mid-batch, and of the broker mid-stream.

The stages run as worker processes under the Supervisor that `aedex run`
uses, on a broker of the test's own. The test kills one of them while it
works through the traffic; the Supervisor starts it again. Every accepted
item must still get exactly one answer, and no row may be stored twice.
Each test records its row of the fault table (rows 1 and 3; tests/e2e/fault_table.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from adapters.generator import GeneratorOptions, generate
from service.broker import EmbeddedBroker
from service.db.models import Assessment, InboxMessage, ItemRecord, Response, ReviewTask
from service.settings import STAGES
from service.stages.settlement import is_answer
from tests.e2e.conftest import FaultRows
from tests.e2e.fault_harness import (
    answered_items,
    assert_nothing_lost_or_doubled,
    duplicated_rows,
    republished,
    wait_recovered,
)
from tests.e2e.fault_table import FaultRow
from tests.e2e.pipeline import Pipeline, supervised_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(600)]

ITEMS = 2000
#: Records per batch. Small, so the victim is killed inside one: a message holds 50
#: items, so the validate stage's batches are a few messages.
BATCH = {"validate": 4, "assess": 100, "respond": 100, "broker": 100}

#: What each stage has done so far, counted in the database.
PROGRESS: dict[str, Select[tuple[int]]] = {
    "validate": select(func.count()).select_from(ItemRecord),
    "assess": select(func.count()).select_from(Assessment),
    "respond": select(func.count()).select_from(Response),
}


@pytest.fixture
async def pipeline(database_url: str, embedded_broker: EmbeddedBroker) -> AsyncIterator[Pipeline]:
    """Every stage running; the relay re-publishes unsettled messages after 5 s."""
    async with supervised_pipeline(
        database_url, embedded_broker, batch_max_records=BATCH["broker"], reconcile_after_s=5
    ) as started:
        yield started


async def _post_traffic(pipeline: Pipeline) -> int:
    """Generated traffic with defects and scenarios, through the API; returns items accepted."""
    options = GeneratorOptions(
        items=ITEMS, seed=31, defects=True, defect_rate=0.05, scenarios=True, scenario_rate=0.04,
        share_cn23_csv=0.0, items_per_message=50,
    )  # fmt: skip
    return await pipeline.post_files(generate(options))


async def _kill_midway(
    pipeline: Pipeline, progress: Select[tuple[int]], pid: int, total: int
) -> int:
    """SIGKILL `pid` once `progress` has passed a tenth of `total`; return progress then."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        done = await pipeline.count(progress)
        if done >= total // 10:
            os.kill(pid, signal.SIGKILL)
            return done
        await asyncio.sleep(0.02)
    raise AssertionError(f"no progress to {total // 10} within 180 s")


async def _assert_exactly_once(pipeline: Pipeline, accepted: int) -> None:
    await pipeline.wait_answered(accepted, timeout=240)
    async with pipeline.sessions() as session:
        items = list(await session.scalars(select(ItemRecord)))
        responses = list(await session.scalars(select(Response)))
        assessments = list(await session.scalars(select(Assessment)))
        tasks = list(await session.scalars(select(ReviewTask)))
    assert len(items) == accepted, "an item was stored twice or not at all"
    answers = Counter(r.item_row_id for r in responses if is_answer(r.dedupe_key))
    assert len(answers) == accepted
    assert set(answers.values()) == {1}, "an item was answered twice"
    scored = [i for i in items if i.canonical is not None and i.message_function != 1]
    assert len(assessments) == len(scored) == len({a.item_row_id for a in assessments})
    held = [
        r
        for r in responses
        if r.dedupe_key.endswith(":fiscal") and (r.decision != "RELEASE" or r.security_decision)
    ]  # every held item and every security hit is a task for an officer
    assert len(tasks) == len(held)
    security = [r for r in responses if r.security_decision]
    assert len(security) == sum(1 for a in assessments if a.security_action)
    assert await pipeline.unsettled() == 0


def _database(pipeline: Pipeline) -> str:
    return "PostgreSQL" if pipeline.settings.database_url.startswith("postgresql") else "SQLite"


async def _answered(pipeline: Pipeline) -> int:
    return sum((await answered_items(pipeline.sessions)).values())


async def _measure(pipeline: Pipeline, row: FaultRow, accepted: int, killed: float) -> None:
    """The row's figures, counted over the whole database (every row in it was accepted):
    recovery from the kill until all is answered and settled, then loss and doubles."""

    async def recovered() -> bool:
        return await pipeline.answers() >= accepted and await pipeline.unsettled() == 0

    row.recovery_s = await wait_recovered(recovered, since=killed)
    row.lost = max(0, accepted - await _answered(pipeline))
    doubles = await duplicated_rows(pipeline.sessions)
    row.duplicated = sum(doubles.values())
    if doubles:
        row.notes["doubled"] = ", ".join(f"{n} {kind}" for kind, n in doubles.items())
    row.accepted = accepted
    row.notes["re-published"] = await republished(pipeline.sessions)


async def _backlog_ready(pipeline: Pipeline, stage: str, accepted: int) -> bool:
    """Has everything upstream of `stage` been done, so the stage starts on a full backlog?"""
    if stage == "validate":
        return True
    items = await pipeline.count(select(func.count()).select_from(ItemRecord))
    if stage == "assess" or items < accepted:
        return items >= accepted
    scored = await pipeline.count(
        select(func.count())
        .select_from(ItemRecord)
        .where(ItemRecord.canonical.is_not(None), ItemRecord.message_function != 1)
    )
    return await pipeline.count(PROGRESS["assess"]) >= scored


#: Rows of the fault table.
ROWS = {"validate": "1a", "assess": "1b", "respond": "1c"}


@pytest.mark.parametrize("stage", ["validate", "assess", "respond"])
async def test_a_stage_worker_killed_mid_batch_loses_and_doubles_nothing(
    database_url: str, embedded_broker: EmbeddedBroker, stage: str, fault_rows: FaultRows
) -> None:
    # The victim starts on a full backlog, so it is inside a batch nearly all the
    # time until killed. The relay's re-publishing, which would heal a stage that
    # dropped records, is held off for longer than the test: the stage's own
    # commit discipline is what must hold.
    others = tuple(s for s in STAGES if s != stage)
    async with supervised_pipeline(
        database_url, embedded_broker, stages=others, batch_max_records=BATCH[stage],
        reconcile_after_s=3600,
    ) as pipeline:  # fmt: skip
        supervisor = pipeline.supervisor
        assert supervisor is not None
        row = fault_rows.open(ROWS[stage], f"kill -9 of the {stage} worker mid-batch", _database(pipeline))  # fmt: skip
        accepted = await _post_traffic(pipeline)
        assert accepted >= ITEMS * 0.95
        deadline = time.monotonic() + 180
        while not await _backlog_ready(pipeline, stage, accepted):
            assert time.monotonic() < deadline, f"upstream of {stage} did not finish"
            await asyncio.sleep(0.1)
        supervisor.add(stage)
        victim = supervisor.workers[stage].pid
        done = await _kill_midway(pipeline, PROGRESS[stage], victim, accepted)
        killed = time.monotonic()
        row.in_flight = accepted - await _answered(pipeline)
        assert done < accepted, "the worker had finished before it was killed"

        await _measure(pipeline, row, accepted, killed)
        row.notes["batch (records)"] = BATCH[stage]
        row.notes["re-publishing"] = "off (the stage's own commits must hold)"
        assert_nothing_lost_or_doubled(row)
        await _assert_exactly_once(pipeline, accepted)
        assert supervisor.restarts[stage] == 1
        assert supervisor.workers[stage].pid != victim


async def test_the_broker_killed_mid_stream_loses_and_doubles_nothing(
    pipeline: Pipeline, embedded_broker: EmbeddedBroker, fault_rows: FaultRows
) -> None:
    supervisor = pipeline.supervisor
    assert supervisor is not None
    row = fault_rows.open("3", "kill -9 of the broker mid-stream (memory storage: restarts empty)", _database(pipeline))  # fmt: skip
    accepted = await _post_traffic(pipeline)
    broker_pid = embedded_broker.pid
    assert broker_pid is not None
    answered = select(func.count()).select_from(Response)
    done = await _kill_midway(pipeline, answered, broker_pid, accepted)
    killed = time.monotonic()
    row.in_flight = accepted - await _answered(pipeline)
    assert done < accepted, "the stream had finished before the broker was killed"

    await _measure(pipeline, row, accepted, killed)
    # The records in flight died with the broker; the relay sent their messages again.
    resent = await pipeline.count(
        select(func.count()).select_from(InboxMessage).where(InboxMessage.publish_count > 1)
    )
    row.notes["re-publish after (s)"] = pipeline.settings.reconcile_after_s
    assert_nothing_lost_or_doubled(row)
    await _assert_exactly_once(pipeline, accepted)
    assert supervisor.restarts["broker"] == 1
    assert resent > 0
