"""aedex's pytest plugin: a carrier's conformance tests against a real aedex, in a few lines.

Why: a postal operator or express carrier that integrates with aedex wants to know that
what its systems send is accepted, judged and answered as it expects, end to end: the
HTTP API, the Kafka pipeline, the risk rules and the CUSRSP it reads back. Mocks of the
API prove nothing about that. The plugin starts the whole system (`aedex run`: the API,
every pipeline stage, the embedded Kafka-protocol broker, a SQLite database of its own)
once per test session, or points at one already running, and hands tests small clients
that speak the API the way a carrier's systems do.

It is registered as the `aedex` pytest11 entry point, so installing aedex is enough::

    def test_a_clean_item_is_released(aedex_operator):
        answer = aedex_operator.post_message(itmatt_xml)
        assert answer.status_code == 202, answer.text
        answers = aedex_operator.await_responses(["RR123456785CN"])
        assert answers["RR123456785CN"].decision == "RELEASE"

docs/examples/test_carrier_conformance.py is a complete example to copy. Loading the
plugin costs a test run nothing until a test asks for one of its fixtures: the module
imports only the standard library and pytest; everything else is imported when used.

Fixtures (session-scoped server, function-scoped operator):

- `aedex_server` -> `AedexServer`: `url`, `database_url` (None for an external server),
  `log_path` (the server's console log, named in every failure), `operator(code)` ->
  `OperatorClient` (creates an API key for `code` on a server of its own) and
  `officer(role="officer")` -> `OfficerClient` (creates a staff user and its token).
- `aedex_operator` -> `OperatorClient` for `--aedex-operator` (default CNA).

`OperatorClient`: `post_message(xml)`, `post_manifest(data, media=None)`,
`await_responses(item_ids, timeout=60)` -> {item id: `Answer`} (long-polls
GET /v1/responses; the cursor stays on the client, so each answer is handed out once),
and `http`, the underlying httpx.Client, for any other route. `OfficerClient`:
`queue(**filters)`, `case(item_id)`, `task(item_id)`, `decide(item_id, decision, ...)`.

Options (each has an environment variable, handier in CI and kept out of `ps`):

- `--aedex-url URL` / `AEDEX_TEST_URL`: test an aedex that is already running instead of
  starting one. It has no database here, so the keys must be given:
- `--aedex-key OPERATOR=KEY` (repeatable) / `AEDEX_TEST_KEYS="CNA=key1,DHL=key2"`.
- `--aedex-officer-token TOKEN` / `AEDEX_TEST_OFFICER_TOKEN`: a staff token
  (`aedex users token NAME`) for `officer()` on an external server; without one, tests
  that need an officer are skipped. (The officers' JSON API takes bearer tokens only;
  there is no HTTP route that trades a password for one.)
- `--aedex-operator CODE` / `AEDEX_TEST_OPERATOR`: the operator of `aedex_operator`.
- `--aedex-ruleset PATH`: the server started uses this ruleset (AEDEX_RULESET_PATH).
- `--aedex-startup-timeout SECONDS` (default 120): how long the server may take to be
  ready (GET /readyz answering 200).

The server the plugin starts listens on a free loopback port, with the embedded broker
(AEDEX_KAFKA_BOOTSTRAP is removed from its environment) and a fresh SQLite database in a
temporary directory, next to its log. It is stopped with SIGTERM at the end of the
session (SIGKILL to its process group if it has not stopped after 30 s). It is shared by
every test of the session, and risk rules look at history (several items to one
addressee within days, for instance), so give every test fresh item ids and addressees
(`unique_s10`, `unique_message_id`). Tests that use the server run after the others,
so that it runs only while it is used. Under pytest-xdist the workers share one server:
the first that needs it starts it, the last to finish stops it.

Keys, tokens and passwords never reach a repr, a log line or a failure message.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

URL_ENV = "AEDEX_TEST_URL"
KEYS_ENV = "AEDEX_TEST_KEYS"
OFFICER_TOKEN_ENV = "AEDEX_TEST_OFFICER_TOKEN"  # noqa: S105 - the variable's name, not a secret
OPERATOR_ENV = "AEDEX_TEST_OPERATOR"
DEFAULT_OPERATOR = "CNA"
DEFAULT_STARTUP_TIMEOUT_S = 120.0
#: SIGTERM, then this long for the supervisor to stop the stages and the broker.
STOP_TIMEOUT_S = 30.0
#: Settings the plugin decides for the server it starts; the rest of AEDEX_* is inherited.
_OWNED_ENV = (
    "AEDEX_KAFKA_BOOTSTRAP",
    "AEDEX_DATABASE_URL",
    "AEDEX_HOST",
    "AEDEX_PORT",
    "AEDEX_RULESET_PATH",
    "AEDEX_READY_STAGES",
)
_LOG_TAIL_LINES = 40
#: GET /v1/responses?wait= is granted at most this long (service.settings.long_poll_max_s).
_LONG_POLL_S = 30.0


# ---------------------------------------------------------------------------- helpers


def unique_s10(country: str = "CN", service: str = "RR") -> str:
    """A valid S10 item id (check digit included) no earlier test of the server used, as
    far as 10^8 random serials go: a shared server remembers every item it was sent."""
    from messages import s10

    return s10.make(service, secrets.randbelow(100_000_000), country)


def unique_message_id(operator: str) -> str:
    """A fresh MessageId (an..35): a MessageId sent again with other bytes is refused."""
    return f"{operator}-T-{secrets.token_hex(8).upper()}"


def normalise_item_id(item_id: str) -> str:
    """Item ids as aedex keys them: trimmed, upper case."""
    return item_id.strip().upper()


def _run_async(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to the end from sync code, also inside an async test (whose loop
    is running): in a thread of its own, with a loop of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def main() -> T:
        return await work()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _tail(path: Path | None, lines: int = _LOG_TAIL_LINES) -> str:
    """The log's last lines, without the readiness probes' own (they would be all of it)."""
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join([line for line in text if '"GET /readyz ' not in line][-lines:])


def _http(base_url: str, token: str, timeout: float = 60.0) -> httpx.Client:
    import httpx

    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    )


# ---------------------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class Answer:
    """Customs' final answer on one item, as the carrier reads it from GET /v1/responses.

    `decision` is the fiscal decision (RELEASE, DOCUMENTS_REQUIRED, INSPECT, HOLD, and an
    officer's SEIZE or RETURN), REJECTED or CANCELLED; `security` the SECURITY decision
    (SCREEN, DO_NOT_LOAD) sent with it, if any. `codes` are the codes of the CUSRSP's
    Error elements (errors and warnings, in order), `reasons` its Reason texts."""

    item_id: str
    decision: str
    security: str | None
    in_reply_to: str
    cusrsp: str = field(repr=False)
    codes: tuple[str, ...]
    reasons: tuple[str, ...]
    response_id: int


def is_final(decision: str) -> bool:
    """An answer the carrier acts on: fiscal, REJECTED or CANCELLED (not ACCEPTED, and not
    a SECURITY decision alone: the fiscal one follows). The replay harness's rule."""
    from service.harness.expect import FINAL

    return decision in FINAL


def _answer(row: Mapping[str, Any], security: str | None) -> Answer:
    """An Answer from one row of GET /v1/responses, its CUSRSP decoded."""
    from messages.codec import decode_cusrsp

    item_id = normalise_item_id(str(row["item_id"]))
    xml = str(row["cusrsp"])
    mine = [r for r in decode_cusrsp(xml.encode("utf-8")).responses if r.item_id.upper() == item_id]
    decision = str(row["decision"])
    return Answer(
        item_id=item_id,
        decision=decision,
        security=row.get("security_decision") or security,
        in_reply_to=str(row["in_reply_to"]),
        cusrsp=xml,
        codes=tuple(dict.fromkeys(e.code for r in mine for e in r.errors)),
        reasons=tuple(reason for r in mine if r.decision == decision for reason in r.reasons),
        response_id=int(row["id"]),
    )


# ---------------------------------------------------------------------------- clients


class OperatorClient:
    """A carrier's view of aedex: post messages and manifests, read the CUSRSP answers.

    Holds its key only in the HTTP client's Authorization header: no attribute, repr or
    failure message shows it."""

    def __init__(self, url: str, operator: str, key: str) -> None:
        self.url = url
        self.operator = operator
        #: The httpx client, with the key: for routes the helpers below do not cover.
        self.http = _http(url, key)
        self._after = 0
        #: The newest final answer per item not handed out yet, and security decisions
        #: sent ahead of their item's final answer (CUSRSP rows from before 2026-12).
        self._unclaimed: dict[str, Answer] = {}
        self._security: dict[str, str] = {}
        self._last_seen: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"OperatorClient(operator={self.operator!r}, url={self.url!r})"

    def close(self) -> None:
        self.http.close()

    def post_message(self, xml: bytes | str) -> httpx.Response:
        """POST /v1/messages: an ITMATT or CUSITM; 202 when stored."""
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        return self.http.post(
            "/v1/messages", content=body, headers={"Content-Type": "application/xml"}
        )

    def post_manifest(
        self, data: bytes | str | Mapping[str, Any], media: str | None = None
    ) -> httpx.Response:
        """POST /v1/express/manifests: a dict is sent as JSON; bytes or text as `media`,
        by default JSON when it starts with `{`, else CSV."""
        if isinstance(data, Mapping):
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            media = media or "application/json"
        else:
            body = data.encode("utf-8") if isinstance(data, str) else data
            if media is None:
                media = "application/json" if body.lstrip().startswith(b"{") else "text/csv"
        return self.http.post(
            "/v1/express/manifests", content=body, headers={"Content-Type": media}
        )

    def await_responses(self, item_ids: Iterable[str], timeout: float = 60) -> dict[str, Answer]:
        """The final answer on each item, keyed by the ids as given, waiting up to `timeout`
        seconds in all; AssertionError naming the items still unanswered.

        Each answer is handed out once: the newest one not returned by an earlier call
        (another item's answer that arrived meanwhile waits for its own call). So after an
        officer decides a held item, the next call returns the officer's decision."""
        asked = {item_id: normalise_item_id(item_id) for item_id in item_ids}
        deadline = time.monotonic() + timeout
        polled = False
        while missing := sorted(set(asked.values()) - self._unclaimed.keys()):
            left = deadline - time.monotonic()
            if left <= 0 and polled:
                seen = [f"{i} (only {self._last_seen[i]})" for i in missing if i in self._last_seen]
                raise AssertionError(
                    f"operator {self.operator}: no final answer after {timeout:g} s for "
                    f"{len(missing)} item(s): {', '.join(missing)}"
                    + (f"; seen: {', '.join(seen)}" if seen else "")
                )
            self._poll(min(max(left, 0), _LONG_POLL_S))
            polled = True
        found = {given: self._unclaimed[key] for given, key in asked.items()}
        for key in set(asked.values()):
            del self._unclaimed[key]
        return found

    def _poll(self, wait: float) -> None:
        """One long poll from the cursor; every row read is kept for some later call."""
        answer = self.http.get(
            "/v1/responses",
            params={"after": self._after, "limit": 1000, "wait": round(wait, 3)},
            timeout=wait + 30,
        )
        assert answer.status_code == 200, (
            f"GET /v1/responses as {self.operator}: {answer.status_code} {answer.text}"
        )
        page = answer.json()
        for row in page["responses"]:
            item_id = normalise_item_id(str(row["item_id"]))
            decision = str(row["decision"])
            self._last_seen[item_id] = decision
            if not is_final(decision):
                if row.get("axis") == "SECURITY":
                    self._security[item_id] = decision
                continue
            self._unclaimed[item_id] = _answer(row, self._security.pop(item_id, None))
        self._after = int(page["next"])


class OfficerClient:
    """A customs officer on the review routes (/v1/review/*, /v1/items/*), by staff token."""

    def __init__(self, url: str, username: str | None, token: str) -> None:
        self.url = url
        self.username = username
        self.http = _http(url, token)

    def __repr__(self) -> str:
        return f"OfficerClient(username={self.username!r}, url={self.url!r})"

    def close(self) -> None:
        self.http.close()

    def _json(self, answer: httpx.Response) -> Any:
        assert answer.status_code == 200, (
            f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}"
        )
        return answer.json()

    def queue(self, **filters: str | int | bool) -> list[dict[str, Any]]:
        """Every task of GET /v1/review/queue with these filters (status, action, operator,
        security_only...), page after page."""
        tasks: list[dict[str, Any]] = []
        after = 0
        while True:
            params = {"limit": 200, **filters, "after": after}
            page = self._json(self.http.get("/v1/review/queue", params=params))
            tasks.extend(page["tasks"])
            if page["next"] is None:
                return tasks
            after = int(page["next"])

    def case(self, item_id: str) -> dict[str, Any]:
        """GET /v1/items/{id} as an officer: declared data, rule hits, the task, history."""
        found: dict[str, Any] = self._json(self.http.get(f"/v1/items/{item_id.strip()}"))
        return found

    def task(self, item_id: str) -> dict[str, Any] | None:
        """The item's review task (the open one first), or None if it has none."""
        task: dict[str, Any] | None = self.case(item_id)["task"]
        return task

    def decide(
        self,
        item_id: str,
        decision: str,
        *,
        outcome: Mapping[str, Any] | None = None,
        version: int | None = None,
        **fields: Any,
    ) -> httpx.Response:
        """POST /v1/items/{id}/decision; `version` defaults to the task's current one and
        `outcome` to no infringement found. Returns the response: 200, or the 404/409."""
        if version is None:
            task = self.task(item_id)
            assert task is not None, f"item {item_id} has no review task"
            version = int(task["version"])
        body = {
            "decision": decision,
            "outcome": dict(outcome or {"infringement": False}),
            "version": version,
            **fields,
        }
        return self.http.post(f"/v1/items/{item_id.strip()}/decision", json=body)


# ---------------------------------------------------------------------------- the server


class AedexServer:
    """An aedex under test: one the plugin started, or an external one (`--aedex-url`)."""

    def __init__(
        self,
        url: str,
        *,
        database_url: str | None = None,
        log_path: Path | None = None,
        keys: Mapping[str, str] | None = None,
        officer_token: str | None = None,
    ) -> None:
        self.url = url
        self.database_url = database_url
        self.log_path = log_path
        self._keys = dict(keys or {})
        self._officer_token = officer_token
        self._officers: dict[str, tuple[str | None, str]] = {}
        self._clients: list[OperatorClient | OfficerClient] = []

    def __repr__(self) -> str:
        own = "started by the plugin" if self.database_url else "external"
        return f"AedexServer(url={self.url!r}, {own}, log_path={self.log_path!r})"

    @property
    def external(self) -> bool:
        return self.database_url is None

    def operator(self, code: str) -> OperatorClient:
        """A client for operator `code`: with a new key (made once per code) on a server of
        the plugin's own, with the key given (`--aedex-key`) on an external one."""
        if code not in self._keys:
            if self.database_url is None:
                pytest.fail(
                    f"no API key for operator {code} on {self.url}: pass --aedex-key {code}=KEY "
                    f"or set {KEYS_ENV}={code}=KEY",
                    pytrace=False,
                )
            self._keys[code] = self._create_key(self.database_url, code)
        client = OperatorClient(self.url, code, self._keys[code])
        self._clients.append(client)
        return client

    def officer(self, role: str = "officer") -> OfficerClient:
        """A client for a staff user of `role` (officer, supervisor, admin), made once per
        role; on an external server, the one token given (`--aedex-officer-token`), whatever
        its role, else the test is skipped."""
        if role not in self._officers:
            if self.database_url is None:
                if not self._officer_token:
                    pytest.skip(
                        f"an officer is needed on the external aedex {self.url}: pass "
                        f"--aedex-officer-token TOKEN or set {OFFICER_TOKEN_ENV} "
                        "(`aedex users token NAME` prints one)"
                    )
                self._officers[role] = (None, self._officer_token)
            else:
                self._officers[role] = self._create_officer(self.database_url, role)
        username, token = self._officers[role]
        client = OfficerClient(self.url, username, token)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    @staticmethod
    def _create_key(database_url: str, code: str) -> str:
        """`aedex keys create --operator CODE`, in process: the same database, the same
        service.keys.create_key (so a test suite that records the keys it makes sees it)."""
        from sqlalchemy.exc import IntegrityError

        import service.keys

        async def create() -> str:
            keys = await service.keys.create_keys(database_url, [code])
            return keys[code]

        try:
            return _run_async(create)
        except IntegrityError:
            # Another xdist worker created the operator at the same moment: it exists now.
            return _run_async(create)

    @staticmethod
    def _create_officer(database_url: str, role: str) -> tuple[str, str]:
        """`aedex users create NAME --role ROLE` and `aedex users token NAME`, in process."""
        from service.accounts import create_user, issue_token, new_password
        from service.db.engine import create_engine, create_sessionmaker

        username = f"aedex-test-{role}-{secrets.token_hex(4)}"

        async def create() -> str:
            engine = create_engine(database_url)
            try:
                async with create_sessionmaker(engine)() as session, session.begin():
                    await create_user(session, username, role, new_password(), actor="pytest")
                    return await issue_token(session, username, actor="pytest")
            finally:
                await engine.dispose()

        return username, _run_async(create)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command() -> list[str]:
    script = Path(sys.executable).with_name("aedex")
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-m", "service.cli.main", "run"]


def _wait_ready(
    url: str, timeout: float, process: subprocess.Popen[bytes] | None, log_path: Path | None
) -> None:
    """Until GET /readyz answers 200; fails with the log's tail if the process ends first."""
    import httpx

    where = f" (log: {log_path})" if log_path else ""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(base_url=url, timeout=5) as client:
        while True:
            if process is not None and process.poll() is not None:
                pytest.fail(
                    f"aedex run exited with status {process.returncode} before it was "
                    f"ready{where}; its last lines:\n{_tail(log_path)}",
                    pytrace=False,
                )
            try:
                answer = client.get("/readyz")
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text}"
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)
    raise _NotReady(f"aedex at {url} not ready after {timeout:g} s{where}: GET /readyz: {last}")


class _NotReady(Exception):
    """The server did not become ready in time (the fixture fails with the log's tail)."""


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the supervisor stops the stages and the broker), then SIGKILL to the group."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # Still unreaped, so the group id is still this process's: its stages and broker.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


def _start(
    config: pytest.Config, directory: Path, timeout: float
) -> tuple[AedexServer, subprocess.Popen[bytes]]:
    """`aedex run` on a free port, the embedded broker and a new SQLite file in `directory`;
    returns the server and its process once GET /readyz answers 200."""
    port = _free_port()
    database_url = f"sqlite+aiosqlite:///{directory / 'aedex.db'}"
    log_path = directory / "aedex-server.log"
    env = {k: v for k, v in os.environ.items() if k not in _OWNED_ENV}
    env.update(AEDEX_DATABASE_URL=database_url, AEDEX_HOST="127.0.0.1", AEDEX_PORT=str(port))
    ruleset = config.getoption("aedex_ruleset")
    if ruleset:
        path = (config.invocation_params.dir / ruleset).resolve()
        if not path.is_file():
            pytest.fail(f"--aedex-ruleset {ruleset}: no such file ({path})", pytrace=False)
        env["AEDEX_RULESET_PATH"] = str(path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - aedex's own console script, fixed arguments
            _command(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=directory,
            start_new_session=True,  # one process group: the stages and the broker with it
        )
    url = f"http://127.0.0.1:{port}"
    late: _NotReady | None = None
    try:
        _wait_ready(url, timeout, process, log_path)
    except _NotReady as error:
        late = error
    except BaseException:
        _stop(process)
        raise
    if late is not None:
        _stop(process)
        pytest.fail(f"{late}; its last lines:\n{_tail(log_path)}", pytrace=False)
    return AedexServer(url, database_url=database_url, log_path=log_path), process


def _running(pid: int) -> bool:
    """Whether process `pid` is alive (a zombie, dead but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: kill(0) is all there is
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _stop_pid(pid: int) -> None:
    """`_stop` for a server another xdist worker started (no Popen here to wait on)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _running(pid):
        os.killpg(pid, signal.SIGKILL)


class _SharedServer:
    """One `aedex run` for all the pytest-xdist workers of a test run, not one each: the
    first worker that needs it starts it, the others use it, the last to finish stops it.

    What they share (URL, database, log, pid, which workers use it, or why it failed to
    start) is a JSON file in the run's common temporary directory, read and written under
    an exclusive lock; a worker waits on the lock while another starts the server."""

    def __init__(self, root: Path, worker: str) -> None:
        self.root = root
        self.worker = worker
        self.state_path = root / "server.json"
        self.process: subprocess.Popen[bytes] | None = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "lock").open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def _read(self) -> dict[str, Any] | None:
        if not self.state_path.exists():
            return None
        state: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        return state

    def _write(self, state: dict[str, Any]) -> None:
        self.state_path.write_text(json.dumps(state), encoding="utf-8")

    def join(
        self, start: Callable[[Path], tuple[AedexServer, subprocess.Popen[bytes]]]
    ) -> AedexServer:
        with self._locked():
            state = self._read()
            if state is not None and "failed" in state:
                pytest.fail(state["failed"], pytrace=False)  # once is enough: fail fast
            if state is None or not _running(int(state["pid"])):
                directory = Path(tempfile.mkdtemp(prefix="run-", dir=self.root))
                try:
                    server, self.process = start(directory)
                except pytest.fail.Exception as failed:
                    self._write({"failed": str(failed)})
                    raise
                state = {
                    "url": server.url,
                    "database_url": server.database_url,
                    "log_path": str(server.log_path),
                    "pid": self.process.pid,
                    "users": [],
                }
            state["users"].append(self.worker)
            self._write(state)
        return AedexServer(
            state["url"], database_url=state["database_url"], log_path=Path(state["log_path"])
        )

    def leave(self) -> None:
        """This worker is done; the last one out stops the server."""
        with self._locked():
            state = self._read()
            if state is None or "failed" in state:
                return
            state["users"] = [user for user in state["users"] if user != self.worker]
            if state["users"]:
                self._write(state)
                return
            self.state_path.unlink()
            pid = int(state["pid"])
            if self.process is not None and self.process.pid == pid:
                _stop(self.process)
            else:
                _stop_pid(pid)


def _can_share() -> bool:
    """Workers share a server where files can be locked (POSIX), else each starts its own."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


def _keys(config: pytest.Config) -> dict[str, str]:
    """OPERATOR=KEY pairs from AEDEX_TEST_KEYS, then --aedex-key (which wins)."""
    pairs = [p for p in os.environ.get(KEYS_ENV, "").split(",") if p.strip()]
    pairs += config.getoption("aedex_key") or []
    keys: dict[str, str] = {}
    for number, pair in enumerate(pairs, 1):
        code, sep, key = pair.partition("=")
        if not sep or not code.strip() or not key.strip():
            # Said by position only: the entry may be a key without its operator.
            pytest.fail(
                f"operator key {number} of {KEYS_ENV} and --aedex-key (in that order) is not "
                "OPERATOR=KEY",
                pytrace=False,
            )
        keys[code.strip()] = key.strip()
    return keys


# ---------------------------------------------------------------------------- pytest hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aedex", "aedex conformance tests (service.testing)")
    group.addoption(
        "--aedex-url",
        default=None,
        help=f"test the aedex running at this URL instead of starting one (env {URL_ENV})",
    )
    group.addoption(
        "--aedex-key",
        action="append",
        default=[],
        metavar="OPERATOR=KEY",
        help=f"an operator's API key on --aedex-url; repeatable (env {KEYS_ENV}=CNA=k1,DHL=k2)",
    )
    group.addoption(
        "--aedex-officer-token",
        default=None,
        metavar="TOKEN",
        help=f"a staff token for officer() on --aedex-url (env {OFFICER_TOKEN_ENV})",
    )
    group.addoption(
        "--aedex-operator",
        default=None,
        metavar="CODE",
        help=f"operator code of the aedex_operator fixture (env {OPERATOR_ENV}; default "
        f"{DEFAULT_OPERATOR})",
    )
    group.addoption(
        "--aedex-ruleset",
        default=None,
        metavar="PATH",
        help="ruleset file for the aedex the plugin starts (AEDEX_RULESET_PATH)",
    )
    group.addoption(
        "--aedex-startup-timeout",
        type=float,
        default=DEFAULT_STARTUP_TIMEOUT_S,
        metavar="SECONDS",
        help="how long the aedex the plugin starts may take to be ready (GET /readyz 200)",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the server run last, in their order: the server (about a third of a
    core while idle: five stage workers and a broker polling) then runs only while tests
    use it, and the session ends soon after. The order is the same in every xdist worker,
    as xdist requires."""
    uses = [item for item in items if "aedex_server" in getattr(item, "fixturenames", ())]
    if uses and len(uses) < len(items):
        chosen = set(map(id, uses))
        items[:] = [item for item in items if id(item) not in chosen] + uses


@pytest.fixture(scope="session")
def aedex_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AedexServer]:
    """The aedex under test for the whole session: started here, or `--aedex-url`."""
    config = request.config
    timeout = float(config.getoption("aedex_startup_timeout"))
    external = (config.getoption("aedex_url") or os.environ.get(URL_ENV, "")).strip()
    if external:
        if config.getoption("aedex_ruleset"):
            pytest.fail(
                "--aedex-ruleset is for the aedex the plugin starts, not --aedex-url",
                pytrace=False,
            )
        token = config.getoption("aedex_officer_token") or os.environ.get(OFFICER_TOKEN_ENV)
        server = AedexServer(external.rstrip("/"), keys=_keys(config), officer_token=token)
        try:
            _wait_ready(server.url, timeout, None, None)
        except _NotReady as late:
            message = str(late)
        else:
            message = ""
        if message:
            pytest.fail(message, pytrace=False)
        yield server
        server.close()
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None or not _can_share():
        server, process = _start(config, tmp_path_factory.mktemp("aedex-server"), timeout)
        try:
            yield server
        finally:
            server.close()
            _stop(process)
        return
    # The parent of a worker's base temporary directory is the run's, common to all workers.
    shared = _SharedServer(tmp_path_factory.getbasetemp().parent / "aedex-server", worker)
    server = shared.join(lambda directory: _start(config, directory, timeout))
    try:
        yield server
    finally:
        server.close()
        shared.leave()


@pytest.fixture
def aedex_operator(
    aedex_server: AedexServer, request: pytest.FixtureRequest
) -> Iterator[OperatorClient]:
    """A client for the operator of `--aedex-operator` (default CNA), new for each test (its
    own cursor: it reads every answer the operator has had on this server, from the start)."""
    code = (
        request.config.getoption("aedex_operator")
        or os.environ.get(OPERATOR_ENV, "").strip()
        or DEFAULT_OPERATOR
    )
    client = aedex_server.operator(code)
    try:
        yield client
    finally:
        client.close()
