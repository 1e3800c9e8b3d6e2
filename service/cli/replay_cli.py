"""`aedex replay`: a recording sent into aedex, answers awaited and judged (issue 16).

Exit 0 when every record was delivered and every expectation met; 1 on a
mismatch, a missing answer or a record that could not be delivered; 2 for what
the invocation must fix (a file, a key, an unreachable target).
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.cli.failures import EXIT_FAILED, EXIT_USAGE, CliFailure
from service.harness.expect import (
    Expectation,
    ExpectationError,
    expectations_from_run,
    load_expectations,
    write_answers,
)
from service.harness.recording import RecordingError
from service.harness.replay import Pace, ReplayError, Survey
from service.harness.report import print_report, write_junit
from service.harness.session import Hooks, Outcome, Plan, replay
from service.harness.targets import HttpTarget, KafkaTarget
from service.settings import Settings


class To(StrEnum):
    kafka = "kafka"
    http = "http"


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)


def replay_command(  # noqa: PLR0913 - one option per documented flag
    recording: Annotated[Path, typer.Argument(help="a recording of `aedex record`")],
    to: Annotated[To, typer.Option(help="kafka: the inbound topic; http: POST /v1/messages")],
    rate: Annotated[float | None, typer.Option(min=0.001, help="records per second")] = None,
    speedup: Annotated[
        float | None, typer.Option(min=0.001, help="recorded intervals divided by this")
    ] = None,
    as_fast_as_possible: Annotated[
        bool, typer.Option("--as-fast-as-possible", help="no pacing: as fast as the window allows")
    ] = False,
    keep_times: Annotated[
        bool,
        typer.Option(
            help="send declared times as recorded (default: shift them so the stream ends now)"
        ),
    ] = False,
    window: Annotated[int, typer.Option(min=1, max=1024, help="records in flight at most")] = 16,
    bootstrap: Annotated[
        str | None, typer.Option(help="broker (--to kafka; default: AEDEX_KAFKA_BOOTSTRAP)")
    ] = None,
    topic: Annotated[
        str | None, typer.Option(help="inbound topic (default: <prefix>.inbound)")
    ] = None,
    url: Annotated[str, typer.Option(help="aedex API (--to http)")] = "http://127.0.0.1:8000",
    key: Annotated[
        str, typer.Option(envvar="AEDEX_API_KEY", help="API key for every operator (--to http)")
    ] = "",
    keys: Annotated[
        Path | None,
        typer.Option(help="OPERATOR=KEY lines, or a JSON object of operator to key (.json)"),
    ] = None,
    expect: Annotated[
        Path | None, typer.Option(help="expected outcomes: JSON Lines or generator labels.jsonl")
    ] = None,
    expect_from_run: Annotated[
        Path | None,
        typer.Option(
            help="expect a previous run's answers: a responses recording or --save-answers file"
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(help="write JUnit XML, one test case per item")
    ] = None,
    save_answers: Annotated[
        Path | None, typer.Option(help="write the answers received (JSON Lines)")
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="stop waiting when no answer came for this many seconds")
    ] = 60.0,
    outage: Annotated[
        float, typer.Option(min=0, help="how long one record may keep failing (target down)")
    ] = 120.0,
) -> None:
    """Send a recording into aedex, paced and in order per key, re-timed so it ends now;
    with --expect, wait for every answer and judge it (the conformance gate)."""
    console = Console(highlight=False, soft_wrap=True)
    if sum((rate is not None, speedup is not None, as_fast_as_possible)) > 1:
        raise CliFailure("choose one of --rate, --speedup and --as-fast-as-possible", EXIT_USAGE)
    if expect and expect_from_run:
        raise CliFailure("choose one of --expect and --expect-from-run", EXIT_USAGE)
    if junit and not (expect or expect_from_run):
        raise CliFailure("--junit needs --expect or --expect-from-run", EXIT_USAGE)
    pace = Pace(speedup=None, rate=rate) if rate or as_fast_as_possible else Pace(speedup or 1.0)
    settings = Settings()
    expectations = _expectations(expect, expect_from_run)
    if to is To.kafka:
        address = bootstrap or settings.kafka_bootstrap
        if not address:
            raise CliFailure("no broker: pass --bootstrap or set AEDEX_KAFKA_BOOTSTRAP", EXIT_USAGE)
        target: KafkaTarget | HttpTarget = KafkaTarget(
            address, topic or settings.topics.inbound, settings.topics.responses, outage_s=outage
        )
    else:
        target = HttpTarget(url, _keys(key, keys), window=window, outage_s=outage)
    plan = Plan(
        recording, target, pace, keep_times=keep_times, window=window,
        expectations=expectations, await_answers=save_answers is not None,
        answer_timeout_s=timeout,
    )  # fmt: skip
    try:
        outcome = _run(plan, console)
    except (ReplayError, RecordingError) as error:
        raise CliFailure(str(error), EXIT_USAGE) from None
    except OSError as error:
        raise CliFailure(f"{recording}: {error.strerror or error}", EXIT_USAGE) from None
    _summary(outcome, console)
    if save_answers is not None:
        written = write_answers(outcome.answers, save_answers)
        console.print(f"{written:,} answers written to {save_answers}")
    failed = bool(outcome.tally.errors)
    if outcome.report is not None:
        print_report(outcome.report, console)
        if junit is not None:
            write_junit(outcome.report, junit, suite=f"aedex replay {recording.name}")
            console.print(f"JUnit report: {junit}")
        failed = failed or not outcome.report.passed
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _expectations(expect: Path | None, from_run: Path | None) -> list[Expectation] | None:
    try:
        if expect is not None:
            return load_expectations(expect)
        if from_run is not None:
            return expectations_from_run(from_run)
    except (ExpectationError, RecordingError) as error:
        raise CliFailure(str(error), EXIT_USAGE) from None
    return None


def _keys(key: str, keys_file: Path | None) -> dict[str, str]:
    """Operator → key, from the file and the one `--key` (for operators not in the file)."""
    found: dict[str, str] = {}
    if keys_file is not None:
        try:
            lines = keys_file.read_text().splitlines()
        except OSError as error:
            raise CliFailure(f"{keys_file}: {error.strerror}", EXIT_USAGE) from None
        if keys_file.suffix == ".json":  # {"OPERATOR": "key", ...}, as `aedex run --demo` writes
            found = _json_keys(keys_file)
            lines = []
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            operator, sep, value = line.partition("=")
            if not sep or not operator.strip() or not value.strip():
                raise CliFailure(f"{keys_file}:{number}: expected OPERATOR=KEY", EXIT_USAGE)
            found[operator.strip()] = value.strip()
    if key:
        found["*"] = key
    if not found:
        raise CliFailure("--to http needs a key: --key, AEDEX_API_KEY or --keys FILE", EXIT_USAGE)
    return found


def _json_keys(path: Path) -> dict[str, str]:
    try:
        named = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise CliFailure(f"{path}: not JSON ({error})", EXIT_USAGE) from None
    if not isinstance(named, dict) or not all(isinstance(v, str) for v in named.values()):
        raise CliFailure(f"{path}: expected an object of operator codes to keys", EXIT_USAGE)
    return {str(operator): key for operator, key in named.items()}


def _run(plan: Plan, console: Console) -> Outcome:
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console, transient=False) as progress:
        sending = progress.add_task("sent", total=None)
        answering = progress.add_task("answers", total=None, visible=False)

        def on_start(found: Survey, offset: object) -> None:
            if isinstance(plan.target, HttpTarget):
                missing = sorted(op for op in found.operators if plan.target.key_for(op) is None)
                if missing:
                    raise ReplayError(f"no key for operator(s) {', '.join(missing)}: see --keys")
            progress.update(sending, total=found.records)
            progress.update(answering, total=_awaited(plan, found), visible=plan.judged)
            topic = found.header.get("topic") or found.header.get("source", "?")
            shift = (
                "declared times as recorded"
                if not offset
                else f"declared times shifted by {offset}"
            )
            progress.console.print(
                f"replaying {found.records:,} records ({found.items:,} items) of {topic}, "
                f"{plan.pace.describe()}, {shift}"
                + (
                    ""
                    if found.complete
                    else " — the recording was cut short: its whole chunks only"
                )
            )

        hooks = Hooks(
            on_start=on_start,
            on_sent=lambda _record, _sent: progress.advance(sending),
            on_answer=lambda _answer: progress.advance(answering),
        )
        return asyncio.run(replay(plan, hooks))


def _awaited(plan: Plan, found: Survey) -> int:
    return len(plan.expectations) if plan.expectations is not None else found.items


def _summary(outcome: Outcome, console: Console) -> None:
    tally = outcome.tally
    table = Table(title="Replay", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("records sent", f"{tally.sent:,}")
    table.add_row("acknowledged", f"{tally.acknowledged:,}")
    table.add_row("duplicates (absorbed by the intake)", f"{tally.duplicates:,}")
    for code, count in tally.refused.most_common():
        table.add_row(f"refused: {code}", f"{count:,}")
    for code, count in tally.errors.most_common():
        table.add_row(f"not delivered: {code}", f"{count:,}", style="red")
    table.add_row("sends retried", f"{tally.retries:,}")
    table.add_row("sending time", f"{tally.seconds:,.1f} s")
    table.add_row(
        "achieved rate",
        f"{tally.rate:,.1f} records/s, {tally.items / max(tally.seconds, 1e-9):,.0f} items/s",
    )
    if len(outcome.answers) or outcome.report is not None:
        table.add_row("answers received", f"{len(outcome.answers):,}")
        table.add_row("waited for answers", f"{outcome.waited_s:,.1f} s")
        if not outcome.answered:
            table.add_row("answer wait", "timed out", style="red")
    console.print(table)
