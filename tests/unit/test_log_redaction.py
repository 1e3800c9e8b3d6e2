"""Logs never carry a secret, in any sink, and JSON logs keep the stack trace as text."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from service.logs import configure_logging, redact_text
from tests.log_secrets import leaks

KEY = "aedex_" + "Zq3-" * 10 + "abc"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Logging into a file of the test's own; the suite's sinks come back afterwards."""
    path = tmp_path / "aedex.log"
    configure_logging(level="INFO", file=str(path), console=False)
    try:
        yield path
    finally:
        configure_logging(level="INFO", file=os.environ["AEDEX_LOG_FILE"])


def _fail_with(headers: object) -> None:
    raise RuntimeError(f"request failed with headers {headers!r}")


def _log_everything_secret() -> None:
    log = structlog.get_logger("test")
    log.info("request", authorization=f"Bearer {KEY}", headers={"X-API-Key": KEY})
    log.info(f"free text with the key {KEY} in it", url="postgresql://app:s3cret-pw@db:5432/x")
    try:
        _fail_with([(b"authorization", f"Bearer {KEY}".encode()), (b"cookie", b"sid=0123456789")])
    except RuntimeError:
        log.exception("unexpected error", password="hunter2hunter2")
    try:
        _fail_with({"authorization": f"Bearer {KEY}"})
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")


def test_no_sink_carries_a_key_header_password_or_cookie(log_file: Path) -> None:
    _log_everything_secret()
    text = log_file.read_text()
    assert list(leaks(log_file.parent, {KEY})) == []
    for secret in (KEY, "s3cret-pw", "hunter2", "sid=0123456789"):
        assert secret not in text
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["event"] for e in events][:2] == ["request", events[1]["event"]]
    assert "[REDACTED]" in events[1]["event"]


def test_json_logs_keep_the_stack_trace_as_text_without_locals(log_file: Path) -> None:
    _log_everything_secret()
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    failures = [e for e in events if "exception" in e]
    assert len(failures) == 2, "one line per error, each with its trace"
    for event in failures:
        assert event["exception"].startswith("Traceback (most recent call last)")
        assert "_fail_with" in event["exception"]
        assert "RuntimeError: request failed" in event["exception"]
        # Locals would show the frame's variables (`headers = ...`); a plain trace has none.
        assert "headers =" not in event["exception"]


def test_console_traceback_is_plain_and_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", console=True)
    try:
        _log_everything_secret()
    finally:
        configure_logging(level="INFO", file=os.environ["AEDEX_LOG_FILE"])
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert KEY not in err and "hunter2" not in err and "s3cret-pw" not in err
    assert "╭" not in err, "rich's boxed traceback (with locals) is not used"


def test_the_gate_finds_a_key_that_was_not_redacted(tmp_path: Path) -> None:
    (tmp_path / "raw.log").write_text(f'{{"event": "oops", "key": "{KEY}"}}\n')
    (tmp_path / "other.log").write_text("Authorization: Bearer abcdefghijklmnop\n")
    assert len(list(leaks(tmp_path, {KEY}))) == 2


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Authorization: Bearer {KEY}", "Authorization: Bearer [REDACTED]"),
        ("postgresql+asyncpg://postgres:pw@127.0.0.1/test", "postgres:[REDACTED]@127.0.0.1"),
        ("password=abc123&user=x", "password=[REDACTED]&user=x"),
        ("MESSAGE_ID_REUSED: message CNA-1 was sent before", "MESSAGE_ID_REUSED: message CNA-1"),
        ("sqlite+aiosqlite:///out/aedex.db", "sqlite+aiosqlite:///out/aedex.db"),
    ],
)
def test_redact_text_masks_secrets_and_keeps_the_rest(text: str, kept: str) -> None:
    assert kept in redact_text(text)
