"""`aedex broker`: the embedded Kafka-protocol broker with the pipeline topics, in the foreground.

For running the API and the stages as separate processes on one machine: each
is pointed at this broker with `AEDEX_KAFKA_BOOTSTRAP`. Memory storage, so
stopping it loses every record.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from types import FrameType
from typing import Annotated, NoReturn

import typer
from aiokafka.errors import KafkaError

from service.broker import BrokerError, EmbeddedBroker
from service.cli.failures import DEBUG_ENV
from service.kafka import ensure_topics
from service.logs import configure_logging
from service.settings import Settings

#: How often the foreground loop checks that Tansu is still alive.
_WATCH_S = 0.5


def _fail(line: str, log: str) -> NoReturn:
    """One line; Tansu's log tail too when AEDEX_DEBUG is set."""
    typer.echo(f"aedex: {line}", err=True)
    if log and os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        typer.echo(log, err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("broker")(broker)


def broker(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="loopback port; 0 picks a free one")
    ] = 0,
    partitions: Annotated[
        int | None,
        typer.Option(
            min=1, max=1024, help="partitions per topic (default: AEDEX_TOPIC_PARTITIONS or 3)"
        ),
    ] = None,
) -> None:
    """Run the embedded broker (Tansu, memory storage) with every pipeline topic until Ctrl-C."""
    settings = Settings()
    if partitions is not None:
        settings = settings.model_copy(update={"topic_partitions": partitions})
    configure_logging(level=settings.log_level, json=settings.log_json, file=settings.log_file)

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Installed before the start so a signal during it still ends in a clean stop.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    embedded = EmbeddedBroker(port or None)
    try:
        embedded.start()
        asyncio.run(ensure_topics(settings, embedded.bootstrap))
        topics = ", ".join(settings.topics.all())
        typer.echo(
            f"Kafka-protocol broker (embedded Tansu, memory storage) on {embedded.bootstrap}"
        )
        typer.echo(f"topics, {settings.topic_partitions} partitions each: {topics}")
        typer.echo("point the API and the stages at it:")
        typer.echo(f"  export AEDEX_KAFKA_BOOTSTRAP={embedded.bootstrap}")
        typer.echo("Ctrl-C stops it; every record is lost then.")
        while not stopping.wait(_WATCH_S):
            if not embedded.is_running():
                _fail("the broker exited on its own", embedded.log_tail())
    except (BrokerError, KafkaError, TimeoutError) as error:
        first, _, log = str(error).partition("\n")
        _fail(f"cannot run the broker: {first}", log)
    finally:
        embedded.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("broker stopped")
