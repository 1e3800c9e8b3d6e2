"""One replay from start to verdict: survey, send, wait for the answers, judge.

The CLI (`aedex replay`) and tests call `replay`; the CLI adds the progress bar and
the printed report through the two callbacks, so what a test checks is what a
carrier's CI runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from service.harness.expect import Answer, Answers, Expectation, Report, item_key, judge
from service.harness.replay import (
    Outgoing,
    Pace,
    Sent,
    Survey,
    Tally,
    now,
    outgoing,
    planned_offset,
    run_replay,
    survey,
)
from service.harness.targets import HttpTarget, KafkaTarget

Target = KafkaTarget | HttpTarget


@dataclass
class Plan:
    path: Path
    target: Target
    pace: Pace = field(default_factory=Pace)
    keep_times: bool = False
    window: int = 16
    #: Expected outcomes; None: answers are not judged.
    expectations: list[Expectation] | None = None
    #: Wait for the answers even without expectations (to save them).
    await_answers: bool = False
    #: Give up waiting when no new answer came for this long.
    answer_timeout_s: float = 60.0

    @property
    def judged(self) -> bool:
        """Whether answers are collected and waited for."""
        return self.expectations is not None or self.await_answers


@dataclass
class Outcome:
    survey: Survey
    offset: timedelta
    tally: Tally
    answers: Answers
    report: Report | None
    #: Seconds spent waiting for answers after the last send.
    waited_s: float = 0.0
    #: False when the wait ended by its timeout with answers still missing.
    answered: bool = True


@dataclass
class Hooks:
    """Progress callbacks; each is called on the event loop, so keep them quick."""

    on_start: Callable[[Survey, timedelta], None] = lambda _s, _o: None
    on_sent: Callable[[Outgoing, Sent], None] = lambda _r, _s: None
    on_answer: Callable[[Answer], None] = lambda _a: None
    on_waiting: Callable[[int], None] = lambda _missing: None


async def replay(plan: Plan, hooks: Hooks | None = None) -> Outcome:
    hooks = hooks or Hooks()
    found = await asyncio.to_thread(survey, plan.path)
    start = now()
    offset = planned_offset(found, plan.pace, start, plan.keep_times)
    hooks.on_start(found, offset)
    answers = Answers()
    pending = _Pending(plan.expectations)
    last_answer = [time.monotonic()]

    def on_answer(answer: Answer) -> None:
        if answers.add(answer):
            pending.answered(answer)
            last_answer[0] = time.monotonic()
            hooks.on_answer(answer)

    judged = plan.judged
    plan.target.sent_ids |= found.message_ids
    await plan.target.start()
    collector = asyncio.create_task(plan.target.collect(on_answer)) if judged else None
    try:
        tally = await run_replay(
            outgoing(plan.path, found, plan.pace, offset),
            plan.target.send, window=plan.window, tally=Tally(), on_sent=hooks.on_sent,
        )  # fmt: skip
        tally.retries = plan.target.retries
        waited = time.monotonic()
        answered = True
        if judged:
            last_answer[0] = max(last_answer[0], waited)
            while not pending.done(answers, tally):
                if time.monotonic() - last_answer[0] > plan.answer_timeout_s:
                    answered = False
                    break
                hooks.on_waiting(pending.missing(answers, tally))
                await asyncio.sleep(0.2)
        waited_s = time.monotonic() - waited
    finally:
        if collector is not None:
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await collector
        await plan.target.stop()
    report = judge(plan.expectations, answers) if plan.expectations is not None else None
    return Outcome(found, offset, tally, answers, report, waited_s, answered)


class _Pending:
    """Which expectations still wait for their answer, kept as answers come."""

    def __init__(self, expectations: list[Expectation] | None) -> None:
        self.expecting = expectations is not None
        self._open: dict[tuple[str, str | None], int] = {}
        for expected in expectations or ():
            key = (item_key(expected.item_id), expected.in_reply_to)
            self._open[key] = self._open.get(key, 0) + 1

    def answered(self, answer: Answer) -> None:
        item = item_key(answer.item_id)
        self._open.pop((item, answer.in_reply_to), None)
        self._open.pop((item, None), None)

    def missing(self, answers: Answers, tally: Tally) -> int:
        if self.expecting:
            return len(self._open)
        return max(0, tally.items - len(answers))

    def done(self, answers: Answers, tally: Tally) -> bool:
        return self.missing(answers, tally) == 0
