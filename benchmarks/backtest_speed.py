"""Backtest speed: 100,000 stored items through a candidate and the active ruleset.

Issue 17 asks that a backtest of 100,000 stored items finishes in minutes on
this machine. Generated scenario traffic is stored as the pipeline stores it
(inbox message, item row with its canonical JSON, assessment, a decided review
task for every item the active rules flag, outcome from its label), in a
fresh SQLite file with Core inserts; then `service.governance.backtest.compare`
runs it, as the API job and `aedex rules backtest` do. Wall time and this
process's CPU are printed, per item as well.

Run: `python -m benchmarks.backtest_speed [--items N]` (default 100,000;
AEDEX_BENCH_BACKTEST_ITEMS overrides the default).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert

from adapters.generator import generate, itmatt_only
from messages.check import check_message
from risk import Engine, InMemoryState, compile_ruleset
from service.db.engine import create_engine, create_sessionmaker
from service.db.migrate import upgrade
from service.db.models import Assessment, InboxMessage, ItemRecord, ReviewTask
from service.governance.backtest import compare
from service.governance.versions import packaged_text

EXTRA_RULE = """  - id: BENCH_CHEAP_SHOES
    title: Shoes under 20 EUR
    tags: [undervaluation]
    when: any(hs_in(l.hs_code, "64") and l.value_eur / l.quantity < 20 for l in item.lines)
    score: 30
    reason: "cheap shoes"
    tests:
      - {given: {lines: [{hs_code: "640411", value_eur: 5}]}, expect: hit}
      - {given: {}, expect: miss}
"""


def _candidate() -> str:
    text = re.sub(r'(?m)^version: ".*"$', 'version: "bench"', packaged_text(), count=1)
    return text.replace("\nrules:\n", "\nrules:\n" + EXTRA_RULE, 1)


async def _store(url: str, items: int) -> int:
    """Generated items stored as the pipeline stores them; returns how many."""
    options = itmatt_only(items, 17, scenarios=True, scenario_rate=0.08)
    labels: dict[str, Any] = {}
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    active = Engine(compile_ruleset(packaged_text()))
    state = InMemoryState(learn=False)
    now = datetime.now(UTC)
    stored = 0
    tables = {
        name: cast(Table, model.__table__)
        for name, model in (("inbox", InboxMessage), ("items", ItemRecord),
                            ("assessments", Assessment), ("tasks", ReviewTask))
    }  # fmt: skip
    for generated in generate(options):
        for label in generated.labels:
            if label.item_id is not None:
                labels[label.item_id] = label.scenario
        check = check_message(generated.data)
        accepted = [c.item for c in check.items if c.item is not None]
        if not accepted:
            continue
        at = now - timedelta(minutes=len(labels) % 1000)
        inbox_id = uuid.uuid4()
        rows: dict[str, list[dict[str, Any]]] = {k: [] for k in tables}
        rows["inbox"].append(
            {"id": inbox_id, "sender_operator": accepted[0].sender_operator,
             "message_id": f"BENCH-{stored}", "kind": "ITMATT", "source": "API",
             "sha256": hashlib.sha256(generated.data).hexdigest(), "raw": b"", "item_count": len(accepted),
             "status": "PROCESSED", "received_at": at, "publish_count": 1}
        )  # fmt: skip
        for position, (item, scored) in enumerate(
            zip(accepted, active.assess_many(accepted, state), strict=True), start=1
        ):
            row_id = uuid.uuid4()
            rows["items"].append(
                {"id": row_id, "inbox_id": inbox_id, "position": position, "item_id": item.item_id,
                 "sender_operator": item.sender_operator, "message_id": f"BENCH-{stored}",
                 "message_function": 9, "version": 1, "status": "ANSWERED",
                 "canonical": item.model_dump(mode="json"), "findings": [], "received_at": at,
                 "sender_key": item.sender_key, "addressee_key": item.addressee_key}
            )  # fmt: skip
            rows["assessments"].append(
                {"id": uuid.uuid4(), "item_row_id": row_id, "item_id": item.item_id,
                 "ruleset": scored.ruleset, "ruleset_version": scored.ruleset_version,
                 "score": scored.score, "action": scored.action,
                 "security_action": scored.security_action, "hits": [], "skipped": [],
                 "assessed_at": at}
            )  # fmt: skip
            if scored.action != "RELEASE" or scored.security_action:
                rows["tasks"].append(
                    {"id": uuid.uuid4(), "item_row_id": row_id, "item_id": item.item_id,
                     "sender_operator": item.sender_operator, "score": scored.score,
                     "action": scored.action, "rules": [], "status": "DECIDED",
                     "infringement": labels.get(item.item_id) is not None, "version": 2,
                     "created_at": at}
                )  # fmt: skip
        async with sessions() as session, session.begin():
            for name in ("inbox", "items", "assessments", "tasks"):
                if rows[name]:
                    await session.execute(insert(tables[name]), rows[name])
        stored += len(accepted)
    await engine.dispose()
    return stored


async def _run(items: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'backtest.db'}"
        await upgrade(url)
        started = time.perf_counter()
        stored = await _store(url, items)
        print(f"stored {stored:,} items in {time.perf_counter() - started:.0f} s")  # noqa: T201
        candidate = compile_ruleset(_candidate())
        baseline = compile_ruleset(packaged_text())
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        wall, cpu = time.perf_counter(), time.process_time()
        result = await compare(
            sessions, candidate, baseline, datetime.now(UTC) - timedelta(days=1),
            datetime.now(UTC) + timedelta(seconds=1),
        )  # fmt: skip
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await engine.dispose()
        done = result["candidate"]["items"]
        print(  # noqa: T201 - a benchmark prints its figures
            f"backtest of {done:,} stored items (two rulesets each): {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU, {wall / max(done, 1) * 1e6:.0f} us per item; "
            f"{result['changed']:,} would change action; baseline precision "
            f"{result['baseline']['precision']}, candidate {result['candidate']['precision']}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, default=int(os.environ.get("AEDEX_BENCH_BACKTEST_ITEMS", "100000"))
    )
    args = parser.parse_args(argv)
    asyncio.run(_run(args.items))


if __name__ == "__main__":
    main()
