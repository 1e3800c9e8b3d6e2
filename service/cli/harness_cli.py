"""Commands of the integration harness: `record` (`replay` is in replay_cli)."""

from __future__ import annotations

import asyncio
import inspect
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from service.cli.failures import EXIT_USAGE, CliFailure, database_problem
from service.harness.capture import Period, record_topic
from service.settings import Settings

#: What TIME may be, as every message about a bad one says.
TIME_FORMS = (
    "an ISO 8601 date-time (2026-11-22T08:00:00+01:00, or ...Z; without an offset it is UTC) "
    "or how long ago (30s, 90m, 6h, 2d)"
)
_AGO = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def register(app: typer.Typer) -> None:
    app.command("record", help=_unwrapped(record.__doc__ or ""))(record)


def _unwrapped(doc: str) -> str:
    """A docstring's paragraphs each on one line: typer's help keeps a docstring's line
    breaks, which wrap again mid-line in a terminal narrower than the source."""
    return "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(doc).split("\n\n"))


def parse_time(text: str, *, option: str = "TIME", now: datetime | None = None) -> datetime:
    """The aware UTC time `text` names: an ISO 8601 date-time (naive is UTC) or a duration
    before `now` (`90m`: 90 minutes ago). A usage failure naming the accepted forms otherwise."""
    value = text.strip()
    ago = _AGO.fullmatch(value.lower())
    if ago is not None:
        amount, unit = ago.groups()
        try:
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            return (now or datetime.now(UTC)).astimezone(UTC) - delta
        except OverflowError:
            raise CliFailure(f"{option} {text!r} is too long ago", EXIT_USAGE) from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliFailure(
            f"{option} {text!r} is not a time: give {TIME_FORMS}", EXIT_USAGE
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period_of(
    since: str | None,
    until: str | None,
    *,
    from_beginning: bool = False,
    now: datetime | None = None,
) -> Period:
    """The period the options name; both relative times count back from the same `now`."""
    if from_beginning and since is not None:
        raise CliFailure("--from-beginning and --since contradict each other: give one", EXIT_USAGE)
    now = now or datetime.now(UTC)
    period = Period(
        None if since is None else parse_time(since, option="--since", now=now),
        None if until is None else parse_time(until, option="--until", now=now),
    )
    if period.since is not None and period.until is not None and period.since > period.until:
        raise CliFailure(
            f"--since {since} is after --until {until}: the period is empty", EXIT_USAGE
        )
    return period


def record(
    out: Annotated[Path, typer.Option(help="the recording file to write")],
    topic: Annotated[
        str | None, typer.Option(help="the topic to capture, e.g. aed.inbound")
    ] = None,
    http: Annotated[
        bool,
        typer.Option(
            "--http",
            help="capture what the API received (inbox rows from the database) instead of a topic",
        ),
    ] = False,
    from_beginning: Annotated[
        bool,
        typer.Option("--from-beginning", help="from the earliest record (the default)"),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="from this time on: ISO 8601, or ago as 90m, 6h, 2d"),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="up to and including this time (same forms)"),
    ] = None,
    count: Annotated[
        int | None, typer.Option(min=1, help="stop after this many records (default: all)")
    ] = None,
    bootstrap: Annotated[
        str | None, typer.Option(help="broker address (default: AEDEX_KAFKA_BOOTSTRAP)")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="with --http: the database (default: AEDEX_DATABASE_URL)"),
    ] = None,
) -> None:
    """Capture a stream into one recording file (format: service/harness/recording.py).

    With --topic: the topic's records from any Kafka-protocol broker, every partition,
    with keys, headers and timestamps; no consumer group is joined.

    With --http: the messages the API received (POST /v1/messages and manifests, as the
    CUSITM they became), read from the database, oldest first, so they replay over HTTP
    each under its own operator.

    TIME is an ISO 8601 date-time (2026-11-22T08:00:00+01:00; without an offset, UTC) or
    how long ago: 30s, 90m, 6h, 2d. --since starts each partition at its first record at
    or after TIME, --until ends it before its first record after TIME (with --http: the
    messages received from --since up to and including --until). --count still applies.
    """
    period = period_of(since, until, from_beginning=from_beginning)
    console = Console(highlight=False, soft_wrap=True)
    settings = Settings()
    if http:
        if topic is not None or bootstrap is not None:
            raise CliFailure(
                "--http reads the database: --topic and --bootstrap are for a topic", EXIT_USAGE
            )
        written = _record_http(
            database_url or settings.database_url, out, period, count, settings.topics.inbound
        )
        console.print(f"recorded {written:,} messages the API received to {out}")
        return
    if topic is None:
        raise CliFailure("nothing to record: pass --topic T, or --http", EXIT_USAGE)
    if database_url is not None:
        raise CliFailure("--database-url is for --http", EXIT_USAGE)
    address = bootstrap or ("" if settings.embedded_broker else settings.kafka_bootstrap)
    if not address:
        raise CliFailure("no broker to record from: pass --bootstrap or set AEDEX_KAFKA_BOOTSTRAP")
    try:
        written = asyncio.run(record_topic(address, topic, out, count=count, period=period))
    except LookupError as error:
        raise CliFailure(str(error)) from None
    console.print(f"recorded {written:,} records of {topic} to {out}")


def _record_http(url: str, out: Path, period: Period, count: int | None, topic: str) -> int:
    """`record_http`, with a database failure described for the URL used (the shared
    description names the configured one, which --database-url overrides)."""
    from service.harness.capture_http import record_http

    try:
        return asyncio.run(record_http(url, out, period=period, count=count, topic=topic))
    except Exception as error:
        problem = database_problem(error, url)
        if problem is None:
            raise
        raise CliFailure(problem) from None
