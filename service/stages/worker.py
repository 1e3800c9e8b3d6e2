"""One stage in one process: `aedex worker --stage NAME` (SIGTERM finishes the batch in hand)."""

from __future__ import annotations

import asyncio
import signal

import structlog
from prometheus_client import start_http_server

from service.db.engine import create_engine, create_sessionmaker
from service.heap import freeze_startup_objects
from service.metrics import Metrics
from service.settings import Settings
from service.stages.assess import AssessStage
from service.stages.heartbeat import beat_until_stopped
from service.stages.relay import Relay
from service.stages.respond import RespondStage
from service.stages.runner import Handler, StageRunner
from service.stages.validate import ValidateStage
from service.webhooks.worker import STAGE as WEBHOOKS
from service.webhooks.worker import DeliveryWorker

log = structlog.get_logger(__name__)

HANDLERS: dict[str, type[ValidateStage] | type[AssessStage] | type[RespondStage]] = {
    "validate": ValidateStage,
    "assess": AssessStage,
    "respond": RespondStage,
}


async def run_worker(stage: str, settings: Settings, *, metrics_port: int | None = None) -> None:
    if settings.embedded_broker and stage != WEBHOOKS:  # webhook delivery reads the database
        raise SystemExit(
            "a worker needs a broker: set AEDEX_KAFKA_BOOTSTRAP (`aedex run` starts one for you)"
        )
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    metrics = Metrics()
    if metrics_port is not None:
        # Each worker its own endpoint: Prometheus scrapes them all; the API shows the lag.
        start_http_server(metrics_port, addr=settings.host, registry=metrics.registry)
    runner: StageRunner | Relay | DeliveryWorker
    handler: Handler | None = None
    if stage == WEBHOOKS:
        runner = DeliveryWorker(settings, sessions=sessions)
    elif stage == "relay":
        runner = Relay(settings, bootstrap=settings.kafka_bootstrap, sessions=sessions)
    else:
        handler = HANDLERS[stage](settings)
        runner = StageRunner(
            handler,
            settings=settings,
            bootstrap=settings.kafka_bootstrap,
            sessions=sessions,
            metrics=metrics,
        )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runner.stop)
    freeze_startup_objects()
    log.info("stage started", stage=stage, bootstrap=settings.kafka_bootstrap)
    beating = asyncio.create_task(
        beat_until_stopped(
            sessions, stage, runner.partitions, runner.stopping,
            ruleset=lambda: getattr(handler, "ruleset_label", None),
        )
    )  # fmt: skip
    try:
        await runner.run()
    finally:
        runner.stop()
        await beating
        await engine.dispose()
        log.info("stage stopped", stage=stage)
