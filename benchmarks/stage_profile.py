"""CPU per item of each stage's own work, without Kafka: the profile behind issue 15.

The records a stage would fetch are built in memory and handed to its
`handle` in batches, inside a transaction, on a fresh SQLite file (or
`AEDEX_PROFILE_DATABASE_URL`), the way `StageRunner` does; what each stage
emits is the next one's input. CPU time is this process's own
(`time.process_time`), so the figures hold on a busy machine. With
`--profile STAGE` the top functions of that stage are printed (cProfile),
which is how the costs in README's per-process table were found.

Run: `python -m benchmarks.stage_profile [--items N] [--batch N] [--profile validate]`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.generator import generate, itmatt_only
from service.db.engine import create_engine, create_sessionmaker
from service.db.migrate import upgrade
from service.governance.versions import ensure_seed
from service.settings import Settings
from service.stages.assess import AssessStage
from service.stages.respond import RespondStage
from service.stages.runner import Outgoing, Stage
from service.stages.validate import ValidateStage

SEED = 15
ITEMS_PER_MESSAGE = 50


@dataclass(frozen=True, slots=True)
class StageCost:
    stage: str
    records: int
    items: int
    cpu_s: float

    @property
    def us_per_item(self) -> float:
        return self.cpu_s / max(1, self.items) * 1e6


def _record(
    topic: str, offset: int, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic, partition=0, offset=offset, timestamp=int(time.time() * 1000),
        timestamp_type=0, key=key, value=value, checksum=None,
        serialized_key_size=len(key or b""), serialized_value_size=len(value),
        headers=tuple(headers),
    )  # fmt: skip


def _records(outgoing: Sequence[Outgoing]) -> list[ConsumerRecord[bytes, bytes]]:
    return [_record(o.topic, n, o.key, o.value, o.headers) for n, o in enumerate(outgoing)]


async def _run(
    stage: Stage,
    sessions: async_sessionmaker[AsyncSession],
    records: list[ConsumerRecord[bytes, bytes]],
    batch: int,
    profiler: cProfile.Profile | None,
) -> tuple[list[Outgoing], float]:
    out: list[Outgoing] = []
    spent = 0.0
    for start in range(0, len(records), batch):
        part = records[start : start + batch]
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        async with sessions() as session, session.begin():
            out += await stage.handle(session, part)  # type: ignore[attr-defined]
        if profiler is not None:
            profiler.disable()
        spent += time.process_time() - started
    return out, spent


async def profile(items: int, batch: int, profiled: str | None, url: str) -> list[StageCost]:
    await upgrade(url)
    settings = Settings(database_url=url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    messages = [
        _record(settings.topics.inbound, n, None, file.data, ())
        for n, file in enumerate(
            generate(itmatt_only(items, SEED, scenarios=True, items_per_message=ITEMS_PER_MESSAGE))
        )
    ]
    stages: list[tuple[Stage, int]] = [
        (ValidateStage(settings), max(1, batch // ITEMS_PER_MESSAGE)),
        (AssessStage(settings), batch),
        (RespondStage(settings), batch),
    ]
    # What a running system has before the first item: a seeded database, and an assess
    # worker that has loaded its ruleset (once per worker, not per item).
    async with sessions() as session, session.begin():
        await ensure_seed(session)
        for stage, _ in stages:
            if isinstance(stage, AssessStage):
                await stage.rulesets.refresh(session)
    costs: list[StageCost] = []
    records = messages
    try:
        for stage, size in stages:
            profiler = cProfile.Profile() if stage.name == profiled else None
            out, spent = await _run(stage, sessions, records, size, profiler)
            counted = items if stage.name == "validate" else len(records)
            costs.append(StageCost(stage.name, len(records), counted, spent))
            if profiler is not None:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
                print(text.getvalue())
            records = _records([o for o in out if o.topic in stage_inputs(settings, stages, stage)])
    finally:
        await engine.dispose()
    return costs


def stage_inputs(settings: Settings, stages: list[tuple[Stage, int]], stage: Stage) -> set[str]:
    """The topics the stage after `stage` reads (its output that goes on)."""
    names = [s.name for s, _ in stages]
    following = names.index(stage.name) + 1
    if following >= len(names):
        return set()
    return set(settings.topics.inputs(names[following]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="records per batch (items)")
    parser.add_argument("--profile", choices=["validate", "assess", "respond"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aedex-profile-") as tmp:
        url = os.environ.get(
            "AEDEX_PROFILE_DATABASE_URL", f"sqlite+aiosqlite:///{Path(tmp) / 'profile.db'}"
        )
        costs = asyncio.run(profile(args.items, args.batch, args.profile, url))
    print(f"{'stage':<10} {'records':>8} {'items':>8} {'CPU s':>8} {'CPU µs/item':>12}")
    for cost in costs:
        print(
            f"{cost.stage:<10} {cost.records:>8} {cost.items:>8} {cost.cpu_s:>8.2f} "
            f"{cost.us_per_item:>12.0f}"
        )
    print(f"{'sum':<10} {'':>8} {'':>8} {'':>8} {sum(c.us_per_item for c in costs):>12.0f}")


if __name__ == "__main__":
    main()
