"""Commands that run the system: `run`, `api`, `worker`, `keys`, `ingest`."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import orjson
import typer
import uvicorn

from service.cli.failures import CliFailure
from service.heap import freeze_startup_objects
from service.logs import configure_logging, redact_text
from service.settings import WORKERS, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

keys_app = typer.Typer(help="Operator API keys.", no_args_is_help=True)


def serve(app: FastAPI, settings: Settings) -> None:
    """uvicorn with a bounded shutdown: requests still in flight after
    `shutdown_timeout_s` are cut off, so SIGTERM always ends the process."""
    freeze_startup_objects()  # the app is built: its routes, schemas and models stay
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
        limit_concurrency=settings.max_connections,
    )


def _settings(**overrides: object) -> Settings:
    settings = Settings()
    if overrides:
        settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    configure_logging(level=settings.log_level, json=settings.log_json, file=settings.log_file)
    return settings


def api(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Run the HTTP API alone (publishes to the broker when AEDEX_KAFKA_BOOTSTRAP is set)."""
    from service.api.app import create_app

    settings = _settings(host=host, port=port)
    serve(create_app(settings), settings)


def worker(
    stage: Annotated[str, typer.Option(help=f"one of: {', '.join(WORKERS)}")],
    metrics_port: Annotated[
        int | None, typer.Option(help="serve this worker's Prometheus metrics on this port")
    ] = None,
) -> None:
    """Run one pipeline stage until SIGTERM (needs AEDEX_KAFKA_BOOTSTRAP)."""
    from service.stages.worker import run_worker

    if stage not in WORKERS:
        raise typer.BadParameter(f"unknown stage {stage!r}; stages: {', '.join(WORKERS)}")
    asyncio.run(run_worker(stage, _settings(), metrics_port=metrics_port))


@keys_app.command("create")
def create_key(
    operator: Annotated[str, typer.Option(help="operator code the key is scoped to")],
    name: Annotated[str | None, typer.Option(help="operator name, when it is new")] = None,
) -> None:
    """Create an API key for OPERATOR; the key is printed once, alone, on the last line."""
    from service.keys import create_keys

    settings = _settings()
    names = {operator: name} if name else None
    key = asyncio.run(create_keys(settings.database_url, [operator], names=names))[operator]
    typer.echo(f"API key for operator {operator} (shown once; store it now):", err=True)
    typer.echo(key)


def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="ITMATT/CUSITM XML, manifest JSON or CSV files, or a directory of "
            "`aedex generate` (its files in order, each with its operator's key)"
        ),
    ],
    url: Annotated[
        str, typer.Option(envvar="AEDEX_URL", help="aedex API base URL")
    ] = "http://127.0.0.1:8000",
    key: Annotated[str, typer.Option(envvar="AEDEX_API_KEY", help="operator API key")] = "",
    keys: Annotated[
        Path | None,
        typer.Option(help='JSON {"OPERATOR": "key"} (the demo writes out/demo/keys.json)'),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="print only the totals")] = False,
) -> None:
    """POST files to the API in order; prints each answer. Exit 1 if any was refused."""
    postings = _postings(files)
    by_operator = _keys_file(keys) if keys else {}
    if not key and not by_operator:
        raise typer.BadParameter("an API key is needed: --key, --keys or AEDEX_API_KEY")
    missing = [] if key else sorted({op for _, op in postings if op and op not in by_operator})
    if missing:
        raise CliFailure(
            f"no key for operator(s) {', '.join(missing)} in {keys}: aedex keys create OPERATOR"
        )
    refused = accepted = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        for path, operator in postings:
            route, media = _route(path)
            secret = by_operator.get(operator or "", key) or key
            answer = client.post(
                route,
                content=path.read_bytes(),
                headers={"Content-Type": media, "Authorization": f"Bearer {secret}"},
            )
            if answer.status_code == 401:
                answer.raise_for_status()  # one line from the CLI: the key, not each file
            if answer.status_code >= 400:
                refused += 1
            else:
                accepted += 1
            if not quiet:
                typer.echo(f"{path}: {answer.status_code} {answer.text}")
    typer.echo(f"{accepted} accepted, {refused} refused")
    raise typer.Exit(1 if refused else 0)


def _postings(paths: list[Path]) -> list[tuple[Path, str | None]]:
    """Each file to post and its operator (known for a generated directory's files; the
    kinds the demo posts: a CN 23 CSV export is converted first, `aedex convert`)."""
    from service.demo import ROUTES

    out: list[tuple[Path, str | None]] = []
    for path in paths:
        listing = path / "files.jsonl"
        if path.is_dir() and listing.is_file():
            for line in listing.read_text(encoding="utf-8").splitlines():
                entry = orjson.loads(line)
                if entry.get("kind") in ROUTES:
                    out.append((path / entry["file"], entry.get("sender_operator")))
        elif path.is_dir():
            raise CliFailure(f"{path}: a directory without files.jsonl (not `aedex generate`)")
        else:
            out.append((path, None))
    return out


def _keys_file(path: Path) -> dict[str, str]:
    try:
        found = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise CliFailure(f"{path}: not a readable JSON object of keys ({error})") from None
    if not isinstance(found, dict):
        raise CliFailure(f"{path}: not a JSON object of keys")
    return {str(k): str(v) for k, v in found.items()}


def _route(path: Path) -> tuple[str, str]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "/v1/express/manifests", "application/json"
    if suffix == ".csv":
        return "/v1/express/manifests", "text/csv"
    return "/v1/messages", "application/xml"


def run(
    host: Annotated[str | None, typer.Option(help="API address")] = None,
    port: Annotated[int | None, typer.Option(help="API port")] = None,
    demo: Annotated[bool, typer.Option(help="create demo keys and feed generated traffic")] = False,
    demo_items: Annotated[int, typer.Option(help="items of demo traffic")] = 2000,
) -> None:
    """Everything in one process group: migrations, embedded broker (unless
    AEDEX_KAFKA_BOOTSTRAP is set), the API and one process per stage."""
    from service.api.app import create_app
    from service.broker import EmbeddedBroker
    from service.db.migrate import upgrade_sync
    from service.kafka import ensure_topics
    from service.supervise import Supervisor, worker_env

    settings = _settings(host=host, port=port)
    _make_default_database_directory(settings)
    upgrade_sync(settings.database_url)
    broker: EmbeddedBroker | None = None
    if settings.embedded_broker:
        broker = EmbeddedBroker()
        broker.start()
        settings = settings.model_copy(
            update={
                "kafka_bootstrap": broker.bootstrap,
                "kafka_session_timeout_ms": 1000,
                "kafka_heartbeat_interval_ms": 100,
                "kafka_rebalance_timeout_ms": 1000,
            }
        )
    asyncio.run(ensure_topics(settings, settings.kafka_bootstrap))
    env = worker_env(settings, os.environ)
    supervisor = Supervisor(settings, stages=WORKERS, env=env, broker=broker)
    supervisor.start()
    typer.echo(
        f"aedex: API http://{settings.host}:{settings.port} (docs at /docs), "
        f"broker {settings.kafka_bootstrap}, database {redact_text(settings.database_url)}",
        err=True,
    )
    if demo:
        from service.demo import start_demo

        start_demo(settings, items=demo_items)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with the default
    # handler that would end the process before the workers and broker are stopped.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        serve(create_app(settings), settings)
    finally:
        supervisor.stop()
        if broker is not None:
            broker.stop()


def _make_default_database_directory(settings: Settings) -> None:
    """out/ for the default SQLite file, so `aedex run` works on a fresh checkout (a
    directory missing from a URL someone typed is left for the one-line error to name)."""
    from sqlalchemy.engine import make_url

    if settings.database_url != Settings.model_fields["database_url"].default:
        return
    database = make_url(settings.database_url).database
    if database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(api)
    app.command()(worker)
    app.command()(ingest)
    app.add_typer(keys_app, name="keys")
