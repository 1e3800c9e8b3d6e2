"""Hostile clients against the real API process: aborted and slow uploads, floods, huge
numbers, oversize cursors, unexpected errors. None may stop it, stall it or leak a key.

The API runs as `aedex api` over real HTTP (uvicorn, as in production), alone on a
migrated SQLite database: without a broker it answers exactly as with one, and the
relay would publish later.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from messages.codec import encode_itmatt
from service.api.app import create_app
from service.api.deps import OperatorDep
from service.keys import create_keys
from service.logs import configure_logging
from service.settings import Settings
from service.supervise import worker_env
from tests import builders
from tests.e2e.fault_harness import HealthProbe, request_head, send_and_drop
from tests.e2e.pipeline import ApiProcess
from tests.log_secrets import LOG_DIR
from tests.unit.adapters.test_adapter_express_manifest import MANIFEST_JSON

pytestmark = pytest.mark.timeout(300)

OPERATOR = "CNA"
CARRIER = "DHL"


def _message() -> bytes:
    """A real ITMATT of OPERATOR's."""
    return encode_itmatt(builders.itmatt(message_id="CNA-HOSTILE-1", sender_operator=OPERATOR))


@asynccontextmanager
async def live_api(database_url: str, tmp_path: Path, **settings: object) -> AsyncIterator[
    tuple[ApiProcess, dict[str, str]]
]:  # fmt: skip
    """`aedex api` on a free port with `settings`; yields it and a key per operator."""
    keys = await create_keys(database_url, [OPERATOR, CARRIER])
    # Console logs (the default, and where rendering tracebacks stalled the loop) to the
    # process's output, and JSON lines to a file of its own for the test to read.
    values = {
        "database_url": database_url,
        "kafka_bootstrap": "",
        "log_file": str(LOG_DIR / f"api-{tmp_path.name}.json.log"),
        **settings,
    }
    env = worker_env(Settings.model_validate(values), os.environ)
    api = ApiProcess(env, LOG_DIR / f"api-{tmp_path.name}.console.log")
    api.start()
    try:
        await api.wait_ready()
        yield api, keys
    finally:
        await asyncio.to_thread(api.stop)


def _log_events(api: ApiProcess) -> list[dict[str, object]]:
    """The API's JSON log lines (its `log_file`)."""
    path = Path(str(api.env["AEDEX_LOG_FILE"]))
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    """One HTTP response, head and body (they may arrive in separate segments)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await asyncio.wait_for(reader.readexactly(length), 10)


async def _half_upload(port: int, key: str, *, declared: int, sent: int) -> None:
    """Send a POST's headers and `sent` of `declared` body bytes, then reset the connection."""
    head = request_head("/v1/messages", key=key, media="application/xml", length=declared)
    await send_and_drop(port, head + b"<" * sent, after_s=0.01, reset=True)


async def test_200_aborted_uploads_neither_stall_the_api_nor_fill_its_log(
    sqlite_migrated_url: str, tmp_path: Path
) -> None:
    async with live_api(sqlite_migrated_url, tmp_path) as (api, keys):
        probe = HealthProbe(api.url)
        probe.start()
        try:
            for _wave in range(10):
                await asyncio.gather(
                    *(
                        _half_upload(api.port, keys[OPERATOR], declared=200_000, sent=100_000)
                        for _ in range(20)
                    )
                )
            await asyncio.sleep(1.0)
            # A well-behaved client is still served at once.
            async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
                answer = await client.post(
                    "/v1/messages",
                    content=_message(),
                    headers={
                        "Content-Type": "application/xml",
                        "Authorization": f"Bearer {keys[OPERATOR]}",
                    },
                )
            assert answer.status_code == 202, answer.text
        finally:
            probe.stop()
        # Before the fix the loop stalled for seconds per upload (the post above timed out).
        probe.assert_answers_quickly()

        assert api.process is not None
        started = time.monotonic()
        api.process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the SIGTERM it handled once it has shut down.
        assert api.process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert time.monotonic() - started < 12, "shutdown took longer than its bound"

    events = _log_events(api)
    gone = [e for e in events if e["event"] == "client went away before the request was complete"]
    assert len(gone) == 200, "one line per dropped upload"
    assert all("exception" not in e for e in events), "a disconnect is not an error"
    console = api.log_path.read_text()
    assert "Traceback" not in console
    assert keys[OPERATOR] not in console and keys[CARRIER] not in console
    assert len(console) < 200 * 1000, "a line per disconnect, not a rendered traceback"


async def test_slow_and_never_ending_bodies_end_with_408(
    sqlite_migrated_url: str, tmp_path: Path
) -> None:
    async with live_api(sqlite_migrated_url, tmp_path, body_idle_timeout_s=1, body_timeout_s=3) as (
        api,
        keys,
    ):
        head = request_head(
            "/v1/messages", key=keys[OPERATOR], media="application/xml", length=1000
        )

        async def stalled() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
            writer.write(head + b"<ITMATT")
            await writer.drain()
            answer = await _read_answer(reader)
            writer.close()
            return answer

        async def trickle() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
            writer.write(head)
            read = asyncio.create_task(_read_answer(reader))
            for _ in range(40):  # 1 byte per 0.25 s: never idle for 1 s, never done in 3 s
                if read.done():
                    break
                writer.write(b"<")
                await writer.drain()
                await asyncio.sleep(0.25)
            answer = await read
            writer.close()
            return answer

        probe = HealthProbe(api.url)
        probe.start()
        try:
            answers = await asyncio.gather(stalled(), trickle())
        finally:
            probe.stop()
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b'"REQUEST_TIMEOUT"' in answer
        assert not probe.failures


async def test_requests_in_flight_per_key_are_capped(
    sqlite_migrated_url: str, tmp_path: Path
) -> None:
    async with live_api(sqlite_migrated_url, tmp_path, max_concurrent_per_key=2) as (api, keys):
        head = (
            request_head("/v1/messages", key=keys[OPERATOR], media="application/xml", length=1000)
            + b"<"
        )
        held = [await asyncio.open_connection("127.0.0.1", api.port) for _ in range(2)]
        for _, writer in held:
            writer.write(head)
            await writer.drain()
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
            mine = await client.get(
                "/v1/responses", headers={"Authorization": f"Bearer {keys[OPERATOR]}"}
            )
            theirs = await client.get(
                "/v1/responses", headers={"Authorization": f"Bearer {keys[CARRIER]}"}
            )
            for _, writer in held:
                writer.transport.abort()
            await asyncio.sleep(0.3)
            again = await client.get(
                "/v1/responses", headers={"Authorization": f"Bearer {keys[OPERATOR]}"}
            )
        assert mine.status_code == 429, mine.text
        assert mine.json()["error"] == "RATE_LIMITED"
        assert "in flight" in mine.json()["detail"]
        assert int(mine.headers["retry-after"]) >= 1
        assert theirs.status_code == 200, "another key is not held back"
        assert again.status_code == 200, "a slot is free again once the uploads are gone"


# ------------------------------------------------------------------ in-process checks


@asynccontextmanager
async def app_client(database_url: str, **settings: object) -> AsyncIterator[
    tuple[httpx.AsyncClient, dict[str, str]]
]:  # fmt: skip
    values = {"database_url": database_url, "kafka_bootstrap": "", **settings}
    app = create_app(Settings.model_validate(values))

    @app.get("/v1/fail-for-test")
    async def fail(caller: OperatorDep) -> None:
        raise RuntimeError("the handler failed; headers were " + f"Bearer {caller}-secret")

    keys = await create_keys(database_url, [OPERATOR, CARRIER])
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield client, keys


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_the_rate_limit_answers_429_with_retry_after_and_shows_itself(
    sqlite_migrated_url: str,
) -> None:
    async with app_client(sqlite_migrated_url, rate_limit_per_s=0.5, rate_limit_burst=3) as (
        client,
        keys,
    ):
        answers = [
            await client.get("/v1/responses", headers=_auth(keys[OPERATOR])) for _ in range(4)
        ]
        other = await client.get("/v1/responses", headers=_auth(keys[CARRIER]))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["ratelimit-limit"] == "3" for a in answers)
    refused = answers[-1]
    assert refused.json()["error"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    assert other.status_code == 200 and other.headers["ratelimit-remaining"] == "2"


async def test_an_unexpected_error_is_one_plain_redacted_log_line_and_a_reference(
    sqlite_migrated_url: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "api.log"
    configure_logging(level="INFO", file=str(log_file), console=False)
    try:
        async with app_client(sqlite_migrated_url) as (client, keys):
            answer = await client.get("/v1/fail-for-test", headers=_auth(keys[OPERATOR]))
    finally:
        configure_logging(level="INFO", file=os.environ["AEDEX_LOG_FILE"])
    assert answer.status_code == 500
    assert answer.json()["error"] == "INTERNAL"
    reference = answer.headers["x-request-id"]
    assert reference in answer.json()["detail"]
    assert "Traceback" not in answer.text and "RuntimeError" not in answer.text
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    errors = [e for e in events if e.get("level") == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["request_id"] == reference
    assert "RuntimeError: the handler failed" in str(errors[0]["exception"])
    assert keys[OPERATOR] not in log_file.read_text()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/responses?after={2**64}", "after"),
        (f"/v1/responses?after={2**63}", "after"),
        (f"/v1/responses?after={'9' * 5000}", "after"),
        ("/v1/responses?after=-1", "after"),
        (f"/v1/responses?limit={10**30}", "limit"),
        ("/v1/responses?limit=0", "limit"),
        (f"/v1/messages/{'M' * 36}", "message_id"),
        (f"/v1/items/{'R' * 100}", "item_id"),
    ],
)
async def test_out_of_range_parameters_are_422_naming_the_parameter(
    sqlite_migrated_url: str, path: str, field: str
) -> None:
    async with app_client(sqlite_migrated_url) as (client, keys):
        answer = await client.get(path, headers=_auth(keys[OPERATOR]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "REQUEST_INVALID"
    assert field in answer.json()["detail"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (MANIFEST_JSON.replace(b'"value": 49.90', b'"value": 1e1000000', 1), "shipments[0].value"),
        (MANIFEST_JSON.replace(b'"value": 49.90', b'"value": 1e5000', 1), "shipments[0].value"),
        (MANIFEST_JSON.replace(b'"value": 49.90', b'"value": 1e400', 1), "shipments[0].value"),
        (MANIFEST_JSON.replace(b'"flight":', b'"flight": "X", "flight":', 1), "$"),
    ],
)
async def test_huge_numbers_and_duplicate_keys_in_a_manifest_are_422(
    sqlite_migrated_url: str, body: bytes, location: str
) -> None:
    assert body != MANIFEST_JSON
    async with app_client(sqlite_migrated_url) as (client, keys):
        answer = await client.post(
            "/v1/express/manifests",
            content=body,
            headers={"Content-Type": "application/json", **_auth(keys[CARRIER])},
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "MANIFEST_INVALID"
    assert location in answer.json()["detail"]
