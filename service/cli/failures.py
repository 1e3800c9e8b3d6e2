"""Every CLI failure as one clear line on stderr and a non-zero exit, never a traceback.

Commands raise what their libraries raise; `AedexGroup`, the root command
group, turns each failure into one sentence that says what to do: a database
that is not migrated or cannot be reached, an API or broker that does not
answer, a refused key, a file that cannot be read, an invalid setting. Exit 2
for what the caller must fix in the invocation (a file, a setting), 1 for a
failure of the run. typer's own usage errors keep their form and exit 2.
Anything else gets its type and first line and a pointer to AEDEX_DEBUG=1,
which lets the traceback through. Every line is redacted: keys, passwords in
URLs and bearer tokens never reach the terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from service.broker import BrokerError
from service.logs import redact_text

if TYPE_CHECKING:
    # typer vendors click; TyperGroup.invoke is typed with the vendored Context.
    from typer._click import Context

EXIT_FAILED, EXIT_USAGE = 1, 2
DEBUG_ENV = "AEDEX_DEBUG"
DEBUG_HINT = f"run with {DEBUG_ENV}=1 for the traceback"


class AedexGroup(TyperGroup):
    """The `aedex` root group: runs a command and reports its failure in one line."""

    def invoke(self, ctx: Context) -> Any:
        threading.excepthook = _quiet_closed_loop
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exits, Ctrl-C and usage errors: typer reports them itself
        except Exception as exc:
            if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                raise
            line, code = describe(exc)
            sys.stderr.write(f"aedex: {line}\n")
            raise typer.Exit(code) from None


def _quiet_closed_loop(args: threading.ExceptHookArgs) -> None:
    """aiosqlite's worker thread finding its loop closed says nothing.

    When a connect fails, asyncio.run closes the loop as the failure leaves it;
    aiosqlite's thread, still finishing that connect, then prints a traceback
    about the closed loop after our one line. Every other thread error is printed.
    """
    value = args.exc_value
    if (
        isinstance(value, RuntimeError)
        and str(value) == "Event loop is closed"
        and _raised_in(value, ("aiosqlite",))
    ):
        return
    threading.__excepthook__(args)


class CliFailure(Exception):
    """A failure a command has already put in words; raise it instead of printing and exiting."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def describe(exc: BaseException) -> tuple[str, int]:
    """(one redacted line, exit code) for a failure.

    The first failure we know in the chain (`exc`, what it was raised from, ...)
    is described; so a RuntimeError raised from a missing table reads as the table.
    """
    if isinstance(exc, CliFailure):
        return _one_line(str(exc)), exc.exit_code
    for cause in _causes(exc):
        known = _known(cause)
        if known is not None:
            return _one_line(known[0]), known[1]
    return _one_line(f"{type(exc).__name__}: {_first_line(exc)} ({DEBUG_HINT})"), EXIT_FAILED


def database_problem(exc: BaseException, url: str) -> str | None:
    """What is wrong with the database at `url`, if `exc` says so (None otherwise)."""
    from sqlalchemy import exc as sa

    from service.settings import Settings

    shown = _shown_url(url)
    if isinstance(exc, sa.DBAPIError):
        reason = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
        if _no_table(exc):
            return f"the database at {shown} is not migrated ({reason}); run `aedex db upgrade`"
        missing = _missing_sqlite_directory(url)
        if missing is not None:
            default = url == Settings.model_fields["database_url"].default
            todo = "run `aedex db upgrade`" if default else "create it or set AEDEX_DATABASE_URL"
            return f"cannot open the database at {shown}: no such directory {missing}; {todo}"
        if isinstance(exc, sa.OperationalError):
            return f"cannot use the database at {shown}: {reason}"
        return f"database error at {shown}: {reason}"
    if isinstance(exc, sa.ArgumentError | sa.NoSuchModuleError):
        return f"{shown} is not a usable database URL: {_first_line(exc)}"
    if isinstance(exc, OSError) and _raised_in(exc, ("asyncpg", "aiosqlite", "sqlalchemy")):
        return f"the database at {shown} is unreachable: {_first_line(exc)}"
    if isinstance(exc, sa.SQLAlchemyError) or _from_driver(exc):
        return f"database error at {shown}: {_first_line(exc)}"
    return None


# ------------------------------------------------------------------ known failures


def _known(exc: BaseException) -> tuple[str, int] | None:
    module = type(exc).__module__.partition(".")[0]
    if module == "sqlalchemy" or _from_driver(exc):
        problem = database_problem(exc, _setting("database_url", "the configured database"))
        return (problem, EXIT_FAILED) if problem is not None else None
    if module == "httpx":
        return _http(exc), EXIT_FAILED
    if module in ("aiokafka", "kafka"):
        return _kafka(exc), EXIT_FAILED
    if module == "alembic":
        return f"migration failed: {_first_line(exc)}", EXIT_FAILED
    if module in ("pydantic", "pydantic_core") and hasattr(exc, "errors"):
        return _invalid_setting(exc), EXIT_USAGE
    if isinstance(exc, BrokerError):
        return f"cannot run the embedded broker: {_first_line(exc)}", EXIT_FAILED
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: {exc.reason} at byte {exc.start}", EXIT_FAILED
    if isinstance(exc, OSError):
        return _os_error(exc)
    return None


def _http(exc: BaseException) -> str:
    import httpx

    where = "the API"
    try:
        url = (
            exc.request.url if isinstance(exc, httpx.RequestError | httpx.HTTPStatusError) else None
        )
    except RuntimeError:  # an error raised outside a request has none
        url = None
    if url is not None:
        where = f"the API at {url.scheme}://{url.netloc.decode()}"
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return f"{where} refused the key ({status}); check --key or AEDEX_API_KEY"
        return f"{where} answered {status} {exc.response.reason_phrase}"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return f"{where} is unreachable ({_first_line(exc)}); is `aedex run` or `aedex api` up?"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer in time"
    return f"request to {where} failed: {_first_line(exc)}"


def _kafka(exc: BaseException) -> str:
    bootstrap = _setting("kafka_bootstrap", "") or "the embedded broker"
    if type(exc).__name__ in ("KafkaConnectionError", "NoBrokersAvailable"):
        return (
            f"the Kafka broker at {bootstrap} is unreachable; start one (`aedex broker`) "
            "or set AEDEX_KAFKA_BOOTSTRAP"
        )
    return f"Kafka error at {bootstrap}: {type(exc).__name__}: {_first_line(exc)}"


def _invalid_setting(exc: BaseException) -> str:
    errors: list[dict[str, Any]] = exc.errors()  # type: ignore[attr-defined]
    if not errors:
        return f"invalid settings: {_first_line(exc)}"
    first = errors[0]
    field = "_".join(str(part) for part in first.get("loc", ()))
    # The message only: pydantic's own text repeats the input value, which may be a secret.
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"invalid setting AEDEX_{field.upper()}: {first.get('msg', 'invalid')}{more}"


def _os_error(exc: OSError) -> tuple[str, int]:
    reason = exc.strerror or _first_line(exc)
    if exc.filename is not None:
        return f"{exc.filename}: {reason}", EXIT_USAGE
    return reason, EXIT_FAILED


# ------------------------------------------------------------------ helpers


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it was raised from, and the first failure inside a group."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < 16:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            stack.append(current.exceptions[0])
            continue
        yield current
        following = current.__cause__ or current.__context__
        if following is not None:
            stack.append(following)


def _no_table(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    undefined = type(getattr(exc, "orig", None)).__name__ == "UndefinedTableError"
    return undefined or "no such table" in text or ("relation" in text and "does not exist" in text)


def _missing_sqlite_directory(url: str) -> Path | None:
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    database = url.partition(":///")[2].partition("?")[0]
    if database in ("", ":memory:"):
        return None
    parent = Path(database).parent
    return None if parent.is_dir() else parent


def _from_driver(exc: BaseException) -> bool:
    """Raised by a database driver itself, unwrapped (asyncpg's connect errors are OSErrors)."""
    drivers = ("asyncpg", "aiosqlite")
    return type(exc).__module__.partition(".")[0] in drivers or _raised_in(exc, drivers)


def _raised_in(exc: BaseException, packages: tuple[str, ...]) -> bool:
    for frame, _line in traceback.walk_tb(exc.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if module.partition(".")[0] in packages:
            return True
    return False


def _setting(name: str, default: str) -> str:
    """A setting for the message, or `default` when the settings themselves are broken."""
    from service.settings import Settings

    try:
        return str(getattr(Settings(), name))
    except Exception:  # the failure being described may be this very one
        return default


def _shown_url(url: str) -> str:
    if "://" not in url:
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return redact_text(url)


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _one_line(text: str) -> str:
    return redact_text(" ".join(text.split()))
