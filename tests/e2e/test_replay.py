"""`aedex replay`: a stream recorded from one instance, replayed into a fresh one, gets the
same answer for every item, over Kafka and over HTTP (with the API killed mid-stream);
an altered expectation fails with the item named, in the report and in the JUnit file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from adapters.generator import GeneratorOptions, generate
from service.api import examples
from service.broker import EmbeddedBroker
from service.cli.event_time import now
from service.db.models import InboxMessage
from service.harness.capture import record_topic
from service.harness.capture_http import record_http
from service.harness.expect import expectations_from_run, read_answers
from service.harness.recording import Recorded, write_recording
from service.harness.replay import Pace, survey
from service.harness.session import Hooks, Plan, replay
from service.harness.targets import HttpTarget, KafkaTarget
from tests.e2e.pipeline import Pipeline, free_port, start_pipeline, supervised_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


async def _post_traffic(pipeline: Pipeline, *, items: int, seed: int) -> int:
    """Generated traffic (defects, scenarios, manifests) posted as its senders would."""
    options = GeneratorOptions(
        items=items, seed=seed, base_time=now(), scenarios=True, scenario_rate=0.3,
        defects=True, defect_rate=0.1, items_per_message=15, share_cn23_csv=0.0,
    )  # fmt: skip
    return await pipeline.post_files(generate(options))


async def test_a_recorded_stream_replays_into_fresh_instances_with_the_same_answers(
    sqlite_migrated_url: str, _sqlite_template: Path, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Instance A's traffic, recorded from its topic and from its inbox, replayed into fresh
    instances over Kafka and over HTTP, with A's answers as the expectations."""
    inbound, inbox, responses = (tmp_path / n for n in ("in.rec", "http.rec", "out.rec"))
    first_db = tmp_path / "first.db"
    shutil.copyfile(_sqlite_template, first_db)
    first_url = f"sqlite+aiosqlite:///{first_db}"
    async for first in start_pipeline(first_url, kafka_bootstrap):
        items = await _post_traffic(first, items=120, seed=16)
        await first.wait_answered(items)
        topics = first.settings.topics
        assert await record_topic(kafka_bootstrap, topics.inbound, inbound) > 0
        assert await record_http(first_url, inbox) > 0
        assert await record_topic(kafka_bootstrap, topics.responses, responses) >= items
    expected = expectations_from_run(responses)
    assert len(expected) == items
    assert {a.decision for a in read_answers(responses)} >= {"RELEASE", "REJECTED"}

    # Over Kafka, into a fresh instance, at the recorded pace: every item answered as A
    # answered it (the order condition of README "Testing your integration").
    async for fresh in start_pipeline(sqlite_migrated_url, kafka_bootstrap):
        topics = fresh.settings.topics
        target = KafkaTarget(kafka_bootstrap, topics.inbound, topics.responses)
        outcome = await replay(
            Plan(inbound, target, Pace(), keep_times=True, window=8,
                 expectations=expected),
        )  # fmt: skip
        assert not outcome.offset
        assert outcome.report is not None
        assert [(v.expectation.item_id, v.problems) for v in outcome.report.failures()] == []
        assert outcome.tally.acknowledged == outcome.survey.records

        # An altered expectation fails, named in the report and in the JUnit file. The
        # same bytes again (times kept) are duplicates, answered with the stored CUSRSP.
        released = next(a for a in read_answers(responses) if a.decision == "RELEASE")
        altered = tmp_path / "altered.jsonl"
        altered.write_text(f'{{"item_id": "{released.item_id}", "decision": "HOLD"}}\n')
        junit = tmp_path / "junit.xml"
        run = await asyncio.to_thread(
            _aedex,
            "replay", str(inbound), "--to", "kafka", "--bootstrap", kafka_bootstrap,
            "--as-fast-as-possible", "--keep-times", "--expect", str(altered), "--junit", str(junit),
            "--timeout", "30", env={"AEDEX_TOPIC_PREFIX": fresh.settings.topic_prefix},
        )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"✗ {released.item_id}" in run.stdout
    assert "decision RELEASE, expected HOLD" in run.stdout
    case = etree.parse(str(junit)).find(f".//testcase[@name='{released.item_id}']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and "expected HOLD" in failure.get("message", "")

    # Over HTTP, into another fresh instance whose API is killed mid-stream.
    third_db = tmp_path / "third.db"
    shutil.copyfile(_sqlite_template, third_db)
    with EmbeddedBroker() as broker:
        async with supervised_pipeline(
            f"sqlite+aiosqlite:///{third_db}", broker, api_log=tmp_path / "api.log"
        ) as third:
            assert third.api is not None
            keys = {operator: await third.key(operator) for operator in survey(inbox).operators}
            # One operator's key as --key gives it (for every operator without its own):
            # its messages are sent and its answers polled with it all the same.
            keys["*"] = keys.pop(sorted(keys)[0])
            target_http = HttpTarget(third.api.url, keys, window=4, outage_s=90)
            sent = asyncio.Event()
            restart = asyncio.create_task(_kill_and_restart(third, sent))
            outcome = await replay(
                Plan(inbox, target_http, Pace(rate=4.0), window=4, expectations=expected),
                Hooks(on_sent=lambda record, _: sent.set() if record.index == 2 else None),
            )
            await restart
            assert outcome.offset.total_seconds() > 0  # re-timed: the stream ends now
            assert third.api.starts == 2
            stored = await third.count(select(func.count()).select_from(InboxMessage))
    assert outcome.report is not None
    assert [(v.expectation.item_id, v.problems) for v in outcome.report.failures()] == []
    assert outcome.tally.errors == {}
    assert outcome.tally.retries > 0  # it waited for the restarted API
    assert outcome.tally.acknowledged + outcome.tally.duplicates == outcome.survey.records
    assert stored == outcome.survey.records  # nothing stored twice


async def _kill_and_restart(pipeline: Pipeline, killed: asyncio.Event) -> None:
    assert pipeline.api is not None
    await killed.wait()
    pipeline.api.kill()
    await asyncio.sleep(2.0)
    pipeline.api.start()
    await pipeline.api.wait_ready()


def _aedex(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(Path(sys.executable).with_name("aedex")), *args],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200", **env},
        timeout=120, check=False,
    )  # fmt: skip


def _one_message(path: Path) -> Path:
    """A recording of the API's documented ITMATT example (operator CNA)."""
    xml = (Path(examples.__file__).parent / "itmatt.xml").read_bytes()
    write_recording(path, {"topic": "aed.inbound"}, [Recorded(0, 0, 0, b"k", xml)])
    return path


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--to", "http", "--url", "http://127.0.0.1:{port}", "--key", "S3CRET-KEY-123",
          "--outage", "1"], "no aedex API answers at http://127.0.0.1:{port}"),
        (["--to", "kafka", "--bootstrap", "127.0.0.1:{port}", "--outage", "1"],
         "no Kafka broker answers at 127.0.0.1:{port}"),
        (["--to", "http", "--keys", "{keys}"], "no key for operator(s) CNA"),
        (["--to", "http", "--key", "k", "--rate", "5", "--speedup", "2"],
         "choose one of --rate, --speedup and --as-fast-as-possible"),
        (["--to", "http", "--key", "k", "--junit", "j.xml"], "--junit needs --expect"),
        (["--to", "http", "--key", "k", "--expect", "{missing}"], "No such file"),
    ],
)  # fmt: skip
def test_a_replay_that_cannot_start_says_why_and_exits_2(
    tmp_path: Path, args: list[str], complaint: str
) -> None:
    port = str(free_port())
    keys = tmp_path / "keys.txt"
    keys.write_text("DEA=S3CRET-KEY-456\n")
    names = {"port": port, "keys": str(keys), "missing": str(tmp_path / "nothing.jsonl")}
    recording = _one_message(tmp_path / "one.aedexrec")
    run = _aedex("replay", str(recording), *(a.format(**names) for a in args), env={})
    assert run.returncode == 2, run.stdout + run.stderr
    assert complaint.format(**names) in run.stderr
    assert "S3CRET" not in run.stdout + run.stderr
