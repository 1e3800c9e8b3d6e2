"""Commands of the integration harness: `record` (issue 16; `replay` is next)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from service.cli.failures import CliFailure
from service.harness.capture import record_topic
from service.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("record")(record)


def record(
    topic: Annotated[str, typer.Option(help="the topic to capture, e.g. aed.inbound")],
    out: Annotated[Path, typer.Option(help="the recording file to write")],
    count: Annotated[
        int | None, typer.Option(min=1, help="stop after this many records (default: all)")
    ] = None,
    bootstrap: Annotated[
        str | None, typer.Option(help="broker address (default: AEDEX_KAFKA_BOOTSTRAP)")
    ] = None,
) -> None:
    """Capture a topic from any Kafka-protocol broker, from its earliest record, into one
    file (format: service/harness/recording.py). No consumer group is joined."""
    settings = Settings()
    address = bootstrap or ("" if settings.embedded_broker else settings.kafka_bootstrap)
    if not address:
        raise CliFailure("no broker to record from: pass --bootstrap or set AEDEX_KAFKA_BOOTSTRAP")
    try:
        written = asyncio.run(record_topic(address, topic, out, count=count))
    except LookupError as error:
        raise CliFailure(str(error)) from None
    Console(highlight=False, soft_wrap=True).print(
        f"recorded {written:,} records of {topic} to {out}"
    )
