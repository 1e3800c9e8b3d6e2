"""Structured logs (structlog): JSON lines in production, readable lines in a terminal.

Every sink goes through the same chain, and the last step before rendering is
`redact_secrets`, so no renderer, library logger or traceback can put a key,
password, token or cookie into a log. Tracebacks are rendered as plain text
without local variables: locals hold request scopes (headers, keys) and
rendering them cost ~1 MB and ~2 s per error on the event loop.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog

REDACTED = "[REDACTED]"

#: Field names (case-insensitive, `-` and `_` alike) whose values are secrets wherever they
#: appear in an event, at any depth.
SECRET_FIELDS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "x_api_key",
        "api_key",
        "apikey",
        "password",
        "passwd",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "session_id",
        "csrf_token",
    }
)

#: Secrets inside free text (messages, exception texts, tracebacks, reprs of headers).
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # aedex API keys and tokens: a prefix and a urlsafe random part (service.keys).
    (re.compile(r"\baedexu?_[A-Za-z0-9_\-]{8,}"), REDACTED),  # operator keys, staff tokens
    # `Bearer <token>` / `Basic <credentials>` in a header value or a repr of one.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"), r"\1 " + REDACTED),
    # Header pairs in reprs: (b'authorization', b'...'), 'cookie': '...'.
    (
        re.compile(
            r"(?i)(['\"]?(?:authorization|cookie|set-cookie|x-api-key)['\"]?\s*[,:=]\s*b?)"
            r"(['\"])[^'\"]*\2"
        ),
        r"\1\2" + REDACTED + r"\2",
    ),
    # Credentials in URLs: scheme://user:password@host.
    (re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^:/@\s]+:)[^@/\s]+@"), r"\1" + REDACTED + "@"),
    # password=..., token: ... in free text.
    (
        re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key)(\s*[=:]\s*)[^\s,;&'\"]+"),
        r"\1\2" + REDACTED,
    ),
)

#: Longest value kept in a log line; a huge exception text is cut, not rendered whole.
MAX_VALUE_CHARS = 20_000


def _field(name: str) -> str:
    return name.lower().replace("-", "_")


def redact_text(text: str) -> str:
    """`text` with every secret pattern replaced by `[REDACTED]`."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + f"... [{len(value) - MAX_VALUE_CHARS} chars cut]"
        return redact_text(value)
    if isinstance(value, bytes):
        return _redact(value.decode("utf-8", "replace"), depth)
    if depth > 8 or isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _field(str(k)) in SECRET_FIELDS else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v, depth + 1) for v in value]
    # Anything else is rendered by repr(): redact that text rather than trust the object.
    return _redact(repr(value), depth)


#: Exception info stays an exception until the renderer (or format_exc_info) turns it into
#: text, which is redacted there; `_record` and the like are structlog's bookkeeping.
_LEFT_TO_RENDERER = frozenset({"exc_info"})


def redact_secrets(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret fields and secret-looking text in every value."""
    for name in list(event):
        if name.startswith("_") or name in _LEFT_TO_RENDERER:
            continue
        if _field(name) in SECRET_FIELDS:
            event[name] = REDACTED
        else:
            event[name] = _redact(event[name])
    return event


def _pre_chain() -> list[structlog.typing.Processor]:
    """What a standard-library record (uvicorn, aiokafka) gets before rendering; structlog's
    own events got the first three in `configure_logging` already."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _formatter(*, json: bool) -> logging.Formatter:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # Plain text, no locals: see the module docstring.
            exception_formatter=_redacted_plain_traceback,
        )
    )
    # JSON keeps the stack trace as text in an `exception` field, redacted like the rest;
    # the console renders it itself (_redacted_plain_traceback).
    text_traceback = [structlog.processors.format_exc_info] if json else []
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *text_traceback,
            redact_secrets,
            renderer,
        ],
        foreign_pre_chain=_pre_chain(),
    )


def configure_logging(
    *, level: str = "INFO", json: bool = False, file: str | None = None, console: bool = True
) -> None:
    """Route structlog and the standard library (uvicorn, aiokafka) through one chain.

    `console` logs to stderr (JSON lines when `json`); `file` also appends JSON lines to
    that path (`{pid}` in it becomes the process id, so processes never share a file).
    Every sink redacts secrets.
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handlers: list[logging.Handler] = []
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
        handlers[-1].setFormatter(_formatter(json=json))
    if file:
        path = Path(file.replace("{pid}", str(os.getpid())))
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
        handlers[-1].setFormatter(_formatter(json=True))
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    # aiokafka logs every rebalance and retry at INFO: useful only when debugging.
    for noisy in ("aiokafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _redacted_plain_traceback(sio: Any, exc_info: Any) -> None:
    """The console's traceback: plain text without locals, with secrets masked."""
    buffer = io.StringIO()
    structlog.dev.plain_traceback(buffer, exc_info)
    sio.write(redact_text(buffer.getvalue()))
