"""The log-secrets gate over the whole test suite: no key the suite created reaches a log.

Every process of the suite (pytest workers, stage workers, `aedex` subprocesses)
logs through `service.logs` into a file sink of its own under `out/test-logs/`
(`AEDEX_LOG_FILE`, inherited by every child). Every API key the suite creates is
recorded beside them. When the session ends, the controller greps every log for
each key and for anything shaped like a key or a bearer token; a hit fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import service.keys

LOG_DIR = Path(__file__).resolve().parent.parent / "out" / "test-logs"
#: Anything shaped like an aedex key, or a bearer token, left unredacted.
SECRET_SHAPES = re.compile(r"aedexu?_[A-Za-z0-9_\-]{20,}|(?i:bearer\s+[A-Za-z0-9._~+/=\-]{16,})")


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_controller(config) and not os.environ.get("AEDEX_LOG_FILE"):
        shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AEDEX_LOG_FILE", str(LOG_DIR / "aedex-{pid}.log"))
    from service.logs import configure_logging

    # In-process logs (the API under test, stage runners) go through the same chain; pytest's
    # own log capture is off (addopts: -p no:logging), as it would show unredacted records.
    configure_logging(level="INFO", file=os.environ["AEDEX_LOG_FILE"])
    _record_created_keys()


def _record_created_keys() -> None:
    """Wrap `service.keys.create_key` so every key the suite makes is written down."""
    original = service.keys.create_key
    if getattr(original, "records_keys", False):
        return
    keys_file = LOG_DIR / f"keys-{os.getpid()}.txt"

    async def create_key(*args: object, **kwargs: object) -> str:
        key = await original(*args, **kwargs)  # type: ignore[arg-type]
        with keys_file.open("a", encoding="utf-8") as out:
            out.write(key + "\n")
        return key

    create_key.records_keys = True  # type: ignore[attr-defined]
    service.keys.create_key = create_key  # type: ignore[assignment]


def created_keys(folder: Path = LOG_DIR) -> set[str]:
    return {
        line.strip()
        for path in folder.glob("keys-*.txt")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }


def leaks(folder: Path = LOG_DIR, keys: set[str] | None = None) -> Iterator[str]:
    """`file:line: what` for every secret found in the logs under `folder`."""
    keys = created_keys(folder) if keys is None else keys
    for path in sorted(folder.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                found = [k for k in keys if k in line]
                shape = SECRET_SHAPES.search(line)
                if found or shape:
                    what = f"key {found[0][:10]}..." if found else f"{shape.group()[:10]}..."  # type: ignore[union-attr]
                    yield f"{path.name}:{number}: {what}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _is_controller(session.config):
        return
    found = list(leaks())
    logs = list(LOG_DIR.glob("*.log"))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(
            f"log-secrets gate: {len(logs)} log files, {len(created_keys())} keys created, "
            f"{len(found)} leaks"
        )
        for leak in found[:20]:
            reporter.write_line(f"  SECRET IN LOG {leak}", red=True)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
