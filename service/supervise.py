"""Keeps `aedex run`'s children alive: stage workers and the embedded broker.

A worker that dies (a crash, an OOM kill, `kill -9`) is started again; its
uncommitted batch is redelivered to the new one, and the stages are
idempotent, so nothing is lost or doubled. The embedded broker that dies is
started again on its port and its topics are created again; it comes back
empty, and the relay re-publishes every message not yet settled.

In production an orchestrator (systemd, Kubernetes) does this job for
`aedex worker` processes, and Apache Kafka keeps its data.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence

import structlog

from service.broker import EmbeddedBroker
from service.kafka import ensure_topics
from service.settings import Settings

log = structlog.get_logger(__name__)

#: How often children are checked.
CHECK_INTERVAL_S = 0.5
#: How long a worker gets to finish its batch on SIGTERM before it is killed.
STOP_TIMEOUT_S = 15.0


def worker_env(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """`base` plus every setting as its AEDEX_ variable: a child sees exactly the parent's settings."""
    env = dict(base)
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            env.pop(f"AEDEX_{name.upper()}", None)
        elif isinstance(value, list | tuple | dict):
            env[f"AEDEX_{name.upper()}"] = json.dumps(value)  # how pydantic-settings reads them
        else:
            env[f"AEDEX_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    return env


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        *,
        stages: Sequence[str],
        env: Mapping[str, str],
        broker: EmbeddedBroker | None = None,
    ) -> None:
        self.settings = settings
        self.stages = tuple(stages)
        self.env = dict(env)
        self.broker = broker
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        #: Restarts so far, per stage name and "broker" (for logs and tests).
        self.restarts: Counter[str] = Counter()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for stage in self.stages:
            self.add(stage)
        self._thread = threading.Thread(target=self._watch, name="aedex-supervisor", daemon=True)
        self._thread.start()

    def add(self, stage: str) -> None:
        """Start a worker for `stage` and keep it alive from now on."""
        self.workers[stage] = self._spawn(stage)

    def stop(self) -> None:
        """SIGTERM every worker (each finishes its batch), then kill what is left."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        for process in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self, stage: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "service.cli.main", "worker", "--stage", stage], env=self.env
        )

    def _watch(self) -> None:
        while not self._stopping.wait(CHECK_INTERVAL_S):
            if self.broker is not None and not self.broker.is_running():
                self._restart_broker()
            for stage, process in list(self.workers.items()):
                if process.poll() is not None and not self._stopping.is_set():
                    log.warning("worker died; restarting", stage=stage, status=process.returncode)
                    self.workers[stage] = self._spawn(stage)
                    self.restarts[stage] += 1

    def _restart_broker(self) -> None:
        assert self.broker is not None
        log.warning("embedded broker died; restarting it empty on its port")
        try:
            self.broker.start()
            asyncio.run(ensure_topics(self.settings, self.broker.bootstrap))
        except Exception as error:  # noqa: BLE001 - keep watching; the next check retries
            log.error("broker restart failed", error=repr(error))
            return
        self.restarts["broker"] += 1
