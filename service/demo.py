"""`aedex run --demo`: demo operator keys and generated traffic, posted through the API.

Runs in a background thread once the API answers, so the demo exercises the
same path a postal operator does: HTTP intake, inbox, broker, every stage.
The traffic is generated when the API answers, current at that moment (its
base time), so its clean items come back RELEASE, not LATE_DATA. The seed is
the base time too: `make run` again into the same database posts new
MessageIds and item ids instead of reusing the last run's.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import structlog
from sqlalchemy import select

from adapters.generator import GeneratorOptions, generate
from service.accounts import create_user, new_password, reset_password
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import User
from service.keys import create_keys
from service.settings import Settings

log = structlog.get_logger(__name__)

KEYS_FILE = Path("out/demo/keys.json")
LOGINS_FILE = Path("out/demo/logins.json")
#: The demo's staff: one officer works the queue, one supervisor amends and reads the audit.
DEMO_STAFF = {"officer": "officer", "supervisor": "supervisor"}
#: Where each generated file kind is posted, and as what.
ROUTES = {
    "itmatt-1.2": ("/v1/messages", "application/xml"),
    "itmatt-1.1": ("/v1/messages", "application/xml"),
    "cusitm": ("/v1/messages", "application/xml"),
    "manifest-json": ("/v1/express/manifests", "application/json"),
    "manifest-csv": ("/v1/express/manifests", "text/csv"),
    "hostile": ("/v1/messages", "application/xml"),
}


def start_demo(settings: Settings, *, items: int) -> threading.Thread:
    thread = threading.Thread(target=_demo, args=(settings, items), name="demo", daemon=True)
    thread.start()
    return thread


def _demo(settings: Settings, items: int) -> None:
    base = f"http://{settings.host}:{settings.port}"
    if not _wait_healthy(base):
        log.error("demo: the API did not come up; no traffic sent")
        return
    options = demo_options(items, datetime.now(UTC).replace(microsecond=0))
    files = [f for f in generate(options) if f.kind in ROUTES]
    operators = sorted({f.envelope.sender_operator for f in files if f.envelope.sender_operator})
    keys = asyncio.run(create_keys(settings.database_url, operators))
    KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    KEYS_FILE.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    logins = asyncio.run(demo_staff(settings.database_url))
    LOGINS_FILE.write_text(json.dumps(logins, indent=2) + "\n", encoding="utf-8")
    LOGINS_FILE.chmod(0o600)
    accepted = refused = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for file in files:
            route, media = ROUTES[file.kind]
            operator = file.envelope.sender_operator or operators[0]
            answer = client.post(
                route,
                content=file.data,
                headers={"Content-Type": media, "Authorization": f"Bearer {keys[operator]}"},
            )
            if answer.status_code == 202:
                accepted += 1
            else:
                refused += 1
    some_operator = operators[0]
    print(  # noqa: T201 - the demo's instructions are for the person at the terminal
        f"\naedex demo: {accepted} messages accepted, {refused} refused (hostile and broken "
        f"files are refused on purpose); traffic of seed {options.seed}, current at "
        f"{options.base_time.isoformat()}.\nKeys per operator: {KEYS_FILE}\nTry:\n"
        f"  curl -s -H 'Authorization: Bearer {keys[some_operator]}' "
        f"'{base}/v1/responses?limit=5'\n  open {base}/docs\n"
        f"Officers' UI: {base}/ui (logins also in {LOGINS_FILE})\n"
        + "".join(f"  {name} / {password}\n" for name, password in logins.items()),
        flush=True,
    )


async def demo_staff(database_url: str) -> dict[str, str]:
    """A demo officer and supervisor with fresh passwords (reset if they exist already), so
    each `make run` prints logins that work; returns user name → password."""
    engine = create_engine(database_url)
    logins: dict[str, str] = {}
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for name, role in DEMO_STAFF.items():
                password = new_password()
                exists = await session.scalar(select(User.id).where(User.username == name))
                if exists is None:
                    await create_user(session, name, role, password, actor="demo")
                else:
                    await reset_password(session, name, password, actor="demo")
                logins[name] = password
    finally:
        await engine.dispose()
    return logins


def demo_options(items: int, base_time: datetime) -> GeneratorOptions:
    """The demo's traffic: current at `base_time`, seeded by it, scenarios and some defects."""
    return GeneratorOptions(
        items=items, seed=int(base_time.timestamp()), base_time=base_time, scenarios=True,
        scenario_rate=0.05, defects=True, defect_rate=0.03, share_cn23_csv=0.0,
    )  # fmt: skip


def _wait_healthy(base: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False
