"""The whole pipeline in one test process: API, relay and the three stages on a real
broker (topics and groups under a prefix of the test's own) and a real database.

`supervised_pipeline` runs relay and stages as worker processes, as `aedex run` does,
and with `api_log` the API too (`aedex api` on a free port), so a test can kill any of them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.generator import GeneratedFile
from service.api.app import create_app
from service.broker import EmbeddedBroker
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import InboxMessage, ItemRecord, Response
from service.demo import ROUTES
from service.kafka import ensure_topics
from service.keys import create_key
from service.settings import STAGES, Settings
from service.stages.assess import AssessStage
from service.stages.relay import Relay
from service.stages.respond import RespondStage
from service.stages.runner import StageRunner
from service.stages.settlement import ANSWER_SUFFIXES
from service.stages.validate import ValidateStage
from service.supervise import Supervisor, worker_env
from tests.kafka_fixtures import group_timeouts, unique_name


@dataclass
class Pipeline:
    settings: Settings
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    keys: dict[str, str] = field(default_factory=dict)
    #: The stage worker processes, when the stages run as `aedex run` runs them.
    supervisor: Supervisor | None = None
    #: The API process, when the API runs as `aedex api` rather than in the test's process.
    api: ApiProcess | None = None

    async def key(self, operator: str) -> str:
        if operator not in self.keys:
            async with self.sessions() as session, session.begin():
                self.keys[operator] = await create_key(session, operator=operator)
        return self.keys[operator]

    async def post(self, operator: str, data: bytes, route: str = "/v1/messages",
                   media: str = "application/xml") -> httpx.Response:  # fmt: skip
        key = await self.key(operator)
        return await self.client.post(
            route, content=data, headers={"Content-Type": media, "Authorization": f"Bearer {key}"}
        )

    async def post_files(self, files: Iterable[GeneratedFile]) -> int:
        """Every generated file the API takes (hostile ones aside) as its sender posts it;
        each must be accepted. Returns the items accepted."""
        accepted = 0
        for file in files:
            if file.kind not in ROUTES or file.kind == "hostile":
                continue
            route, media = ROUTES[file.kind]
            answer = await self.post(file.envelope.sender_operator or "", file.data, route, media)
            assert answer.status_code == 202, (file.path, answer.text)
            accepted += int(answer.json()["items"])
        return accepted

    async def count(self, statement: object) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]

    async def answers(self) -> int:
        """Item rows answered so far (fiscal decision, rejection or cancellation)."""
        clauses = [Response.dedupe_key.endswith(kind) for kind in ANSWER_SUFFIXES]
        from sqlalchemy import or_

        return await self.count(select(func.count()).select_from(Response).where(or_(*clauses)))

    async def unsettled(self) -> int:
        """Inbox messages the relay would still re-publish."""
        return await self.count(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.settled_at.is_(None))
        )

    async def items(self) -> int:
        return await self.count(select(func.count()).select_from(ItemRecord))

    async def wait_answered(self, expected: int, timeout: float = 180.0) -> None:
        """Until `expected` item rows exist and each has its answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.items() >= expected and await self.answers() >= expected:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(
            f"after {timeout:.0f} s: {await self.items()} item rows, {await self.answers()} "
            f"answers, {expected} expected"
        )


def pipeline_settings(database_url: str, bootstrap: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "kafka_bootstrap": bootstrap,
        "topic_prefix": unique_name("e2e"),
        "topic_partitions": 2,
        "batch_timeout_ms": 50,
        "reconcile_after_s": 10,
        **{f"kafka_{name}": value for name, value in group_timeouts().items()},
        **overrides,
    }
    return Settings.model_validate(values)


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield client


def free_port() -> int:
    """A loopback port nobody listens on (for a moment: bind it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ApiProcess:
    """`aedex api` in a process of its own, as an orchestrator runs it: a test can
    kill -9 it and start it again on the same port; its output goes to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        #: Processes started so far (the first and every restart).
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "service.cli.main", "api"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until GET /healthz answers 200; fails at once if the process exits."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, (
                    f"the API exited with {self.process and self.process.returncode}; "
                    f"log: {self.log_path}"
                )
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"the API did not answer /healthz within {timeout:.0f} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no finished responses, no background publishing."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@asynccontextmanager
async def _api_process(settings: Settings, log_path: Path) -> AsyncIterator[ApiProcess]:
    api = ApiProcess(worker_env(settings, os.environ), log_path)
    api.start()
    try:
        await api.wait_ready()
        yield api
    finally:
        await asyncio.to_thread(api.stop)


@asynccontextmanager
async def supervised_pipeline(
    database_url: str,
    broker: EmbeddedBroker,
    *,
    stages: tuple[str, ...] = STAGES,
    api_log: Path | None = None,
    **overrides: object,
) -> AsyncIterator[Pipeline]:
    """Relay and `stages` as worker processes under a Supervisor, exactly as `aedex run`
    starts them, so a test can kill any of them or the broker. The API runs in this
    process, or with `api_log` as an `aedex api` process (real HTTP) logging to that file."""
    settings = pipeline_settings(database_url, broker.bootstrap, **overrides)
    await ensure_topics(settings, broker.bootstrap)
    supervisor = Supervisor(
        settings, stages=stages, env=worker_env(settings, os.environ), broker=broker
    )
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    supervisor.start()
    try:
        if api_log is None:
            async with _client(settings) as client:
                yield Pipeline(settings, client, sessions, supervisor=supervisor)
        else:
            async with (
                _api_process(settings, api_log) as api,
                httpx.AsyncClient(base_url=api.url, timeout=30.0) as client,
            ):
                yield Pipeline(settings, client, sessions, supervisor=supervisor, api=api)
    finally:
        await asyncio.to_thread(supervisor.stop)
        await engine.dispose()


async def start_pipeline(
    database_url: str, bootstrap: str, **overrides: object
) -> AsyncIterator[Pipeline]:
    settings = pipeline_settings(database_url, bootstrap, **overrides)
    await ensure_topics(settings, bootstrap)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    runners: list[StageRunner | Relay] = [
        StageRunner(stage, settings=settings, bootstrap=bootstrap, sessions=sessions)
        for stage in (ValidateStage(settings), AssessStage(settings), RespondStage(settings))
    ]  # fmt: skip
    runners.append(Relay(settings, bootstrap=bootstrap, sessions=sessions))
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    try:
        async with _client(settings) as client:
            yield Pipeline(settings, client, sessions)
    finally:
        for runner in runners:
            runner.stop()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        await engine.dispose()
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
