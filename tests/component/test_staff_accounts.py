"""Officers' accounts (issue 13, part 1): `aedex users …`, Argon2, staff tokens, roles, audit.

The commands run as the installed console script; the routes through the app
with real tokens on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from service.accounts import create_user, disable_user, issue_token, password_matches
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import AuditEntry, User, UserToken
from service.demo import demo_staff
from service.keys import create_keys
from service.settings import Settings

AEDEX = shutil.which("aedex") or str(Path(sys.executable).with_name("aedex"))
PASSWORD = "correct horse battery staple"


def _aedex(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AEDEX_DATABASE_URL": url}
    return subprocess.run(
        [AEDEX, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


async def _rows(url: str, model: type[Any]) -> list[Any]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await session.scalars(select(model)))
    finally:
        await engine.dispose()


async def test_users_commands_print_each_secret_once_on_the_last_line(
    sqlite_migrated_url: str,
) -> None:
    url = sqlite_migrated_url
    created = _aedex(url, "users", "create", "anna", "--role", "officer")
    assert created.returncode == 0, created.stderr
    generated = created.stdout.strip().splitlines()[-1]
    assert len(generated) >= 20
    piped = _aedex(url, "users", "create", "ben", "--role", "supervisor", "--password-stdin",
                   stdin=PASSWORD + "\n")  # fmt: skip
    assert piped.returncode == 0 and piped.stdout == "", piped.stderr

    users = {u.username: u for u in await _rows(url, User)}
    assert users["anna"].password_hash.startswith("$argon2id$")
    assert password_matches(users["anna"].password_hash, generated)
    assert password_matches(users["ben"].password_hash, PASSWORD)
    assert not password_matches(users["ben"].password_hash, generated)

    token = _aedex(url, "users", "token", "anna")
    assert token.returncode == 0, token.stderr
    issued = token.stdout.strip().splitlines()[-1]
    assert issued.startswith("aedexu_") and issued not in token.stderr
    stored = await _rows(url, UserToken)
    assert [t.prefix for t in stored] == [issued[:12]] and issued not in stored[0].digest

    reset = _aedex(url, "users", "reset-password", "anna")
    assert reset.returncode == 0
    fresh = reset.stdout.strip().splitlines()[-1]
    users = {u.username: u for u in await _rows(url, User)}
    assert password_matches(users["anna"].password_hash, fresh)
    assert not password_matches(users["anna"].password_hash, generated)

    assert _aedex(url, "users", "disable", "anna").returncode == 0
    refused = _aedex(url, "users", "token", "anna")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "aedex: user 'anna' is disabled"
    for args, said in (
        (("create", "anna", "--role", "officer"), "aedex: user 'anna' exists already"),
        (("create", "carl", "--role", "operator"), "operators use API keys"),
        (("disable", "nobody"), "aedex: no user 'nobody'"),
    ):
        answer = _aedex(url, "users", *args)
        assert answer.returncode == 1 and said in answer.stderr, answer.stderr
        assert "Traceback" not in answer.stderr and len(answer.stderr.splitlines()) == 1
    short = _aedex(url, "users", "create", "dora", "--role", "officer", "--password-stdin",
                   stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "12 to 1024 characters" in short.stderr

    actions = [(e.action, e.subject, e.actor) for e in await _rows(url, AuditEntry)]
    assert actions == [
        ("user.create", "anna", "cli"),
        ("user.create", "ben", "cli"),
        ("user.token", "anna", "cli"),
        ("user.reset_password", "anna", "cli"),
        ("user.disable", "anna", "cli"),
    ]
    assert all(generated not in str(e.detail) and issued not in str(e.detail)
               for e in await _rows(url, AuditEntry))  # fmt: skip


class Staff:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def get(self, who: str | None, path: str, **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return await self.client.get(path, headers=headers, params=params)


@pytest.fixture
async def staff(database_url: str) -> AsyncIterator[Staff]:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        tokens = {}
        for name, role in (("olga", "officer"), ("sam", "supervisor"), ("ada", "admin"),
                           ("gone", "officer")):  # fmt: skip
            await create_user(session, name, role, PASSWORD, actor="test")
            tokens[name] = await issue_token(session, name, actor="test")
    await engine.dispose()
    tokens["CNA"] = (await create_keys(database_url, ["CNA"]))["CNA"]
    tokens["forged"] = "aedexu_" + "x" * 43
    app = create_app(Settings(database_url=database_url, kafka_bootstrap=""))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Staff(client, tokens)


async def test_officers_routes_admit_by_role(staff: Staff, database_url: str) -> None:
    assert (await staff.get(None, "/v1/me")).status_code == 401
    assert (await staff.get("forged", "/v1/me")).status_code == 401
    operator = await staff.get("CNA", "/v1/me")
    assert (operator.status_code, operator.json()["error"]) == (403, "FORBIDDEN")
    assert (await staff.get("olga", "/v1/me")).json() == {"username": "olga", "role": "officer"}
    assert (await staff.get("CNA", "/v1/audit")).status_code == 403
    assert (await staff.get("olga", "/v1/audit")).status_code == 403
    for who in ("sam", "ada"):
        page = await staff.get(who, "/v1/audit", action="user.create")
        assert page.status_code == 200, page.text
        assert [e["subject"] for e in page.json()["entries"]] == ["olga", "sam", "ada", "gone"]
    # Operators' routes stay operators': a staff token is not an operator key.
    assert (await staff.get("olga", "/v1/responses")).status_code == 401


async def test_a_disabled_user_cannot_use_a_token(staff: Staff, database_url: str) -> None:
    assert (await staff.get("gone", "/v1/me")).status_code == 200
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await disable_user(session, "gone", actor="sam")
    await engine.dispose()
    assert (await staff.get("gone", "/v1/me")).status_code == 401


async def test_audit_filters_and_pages(staff: Staff) -> None:
    first = (await staff.get("sam", "/v1/audit", limit="3")).json()
    assert len(first["entries"]) == 3
    rest = (await staff.get("sam", "/v1/audit", after=str(first["next"]))).json()
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 8
    naive = await staff.get("sam", "/v1/audit", since="2026-12-01T00:00:00")
    assert (naive.status_code, naive.json()["error"]) == (422, "REQUEST_INVALID")
    later = await staff.get("sam", "/v1/audit", since="2999-01-01T00:00:00Z")
    assert later.json()["entries"] == []


async def test_demo_staff_get_fresh_working_logins_on_every_run(sqlite_migrated_url: str) -> None:
    first = await demo_staff(sqlite_migrated_url)
    second = await demo_staff(sqlite_migrated_url)
    assert set(first) == set(second) == {"officer", "supervisor"}
    assert first["officer"] != second["officer"]
    engine = create_engine(sqlite_migrated_url)
    async with create_sessionmaker(engine)() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
    await engine.dispose()
    assert users["officer"].role == "officer" and users["supervisor"].role == "supervisor"
    for name, password in second.items():
        assert password_matches(users[name].password_hash, password)
        assert not password_matches(users[name].password_hash, first[name])


SOME_ID = "5f0c1e2a-8d3b-4c6e-9a7f-1b2c3d4e5f61"
DECISION = {"decision": "RELEASE", "outcome": {"infringement": False}, "note": "", "version": 1}
#: Every officers' route: (method, path, body, lowest role admitted).
STAFF_ROUTES = [
    ("GET", "/v1/me", None, "officer"),
    ("GET", "/v1/audit", None, "supervisor"),
    ("GET", "/v1/review/queue", None, "officer"),
    ("POST", "/v1/review/next", None, "officer"),
    ("POST", "/v1/review/tasks/5f0c1e2a-8d3b-4c6e-9a7f-1b2c3d4e5f60/claim", None, "officer"),
    ("POST", "/v1/items/RR000000001CN/decision", DECISION, "officer"),
    ("POST", "/v1/items/RR000000001CN/amendment", {**DECISION, "reason": "why"}, "supervisor"),
    ("POST", "/v1/review/group-decision",
     {**{k: v for k, v in DECISION.items() if k != "version"},
      "items": [{"item_id": "RR000000001CN", "version": 1}]}, "officer"),
    ("GET", "/v1/rulesets", None, "officer"),
    ("POST", "/v1/rulesets", {"yaml": "ruleset: x", "reason": "a test"}, "supervisor"),
    ("GET", f"/v1/rulesets/{SOME_ID}", None, "officer"),
    ("GET", f"/v1/rulesets/{SOME_ID}/diff", None, "officer"),
    ("POST", f"/v1/rulesets/{SOME_ID}/approve", {"note": ""}, "supervisor"),
    ("POST", f"/v1/rulesets/{SOME_ID}/activate", {"reason": "go"}, "supervisor"),
    ("POST", f"/v1/rulesets/{SOME_ID}/shadow", None, "supervisor"),
    ("DELETE", "/v1/rulesets/shadow", None, "supervisor"),
    ("GET", "/v1/rulesets/shadow/comparison", None, "officer"),
    ("POST", f"/v1/rulesets/{SOME_ID}/backtest", {"since_days": 1}, "supervisor"),
    ("GET", "/v1/backtests", None, "officer"),
    ("GET", f"/v1/backtests/{SOME_ID}", None, "officer"),
    ("GET", "/v1/rules/stats", None, "officer"),
]  # fmt: skip


def test_every_officers_route_is_in_the_role_table() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite://", kafka_bootstrap=""))
    staff_paths = {
        path
        for path in app.openapi()["paths"]
        if path == "/v1/me"
        or path.startswith(
            ("/v1/audit", "/v1/review", "/v1/rulesets", "/v1/rules/", "/v1/backtests")
        )
        or path.endswith(("/decision", "/amendment"))
    }
    tabled = {path.replace(path.split("/")[4], "{task_id}") if "/tasks/" in path else path
              for _, path, _, _ in STAFF_ROUTES}  # fmt: skip
    tabled = {p.replace("RR000000001CN", "{item_id}") for p in tabled}
    tabled = {
        p.replace(SOME_ID, "{job_id}" if p.startswith("/v1/backtests") else "{ruleset_id}")
        for p in tabled
    }
    assert staff_paths == tabled


@pytest.mark.parametrize(("method", "path", "body", "lowest"), STAFF_ROUTES)
async def test_each_officers_route_admits_by_role(
    staff: Staff, method: str, path: str, body: Any, lowest: str
) -> None:
    async def call(who: str | None) -> int:
        headers = {"Authorization": f"Bearer {staff.tokens[who]}"} if who else {}
        answer = await staff.client.request(method, path, json=body, headers=headers)
        return answer.status_code

    assert await call(None) == 401
    assert await call("forged") == 401
    assert await call("CNA") == 403  # an operator's key
    for who, role in (("olga", "officer"), ("sam", "supervisor"), ("ada", "admin")):
        admitted = ["officer", "supervisor", "admin"].index(role) >= [
            "officer", "supervisor", "admin"].index(lowest)  # fmt: skip
        status = await call(who)
        if admitted:
            assert status not in (401, 403), (who, status)
        else:
            assert status == 403, (who, status)


async def test_staff_tokens_are_rate_limited_like_operator_keys(sqlite_migrated_url: str) -> None:
    engine = create_engine(sqlite_migrated_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await create_user(session, "olga", "officer", PASSWORD, actor="test")
        token = await issue_token(session, "olga", actor="test")
    await engine.dispose()
    settings = Settings(
        database_url=sqlite_migrated_url,
        kafka_bootstrap="",
        rate_limit_per_s=0.1,
        rate_limit_burst=2,
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            headers = {"Authorization": f"Bearer {token}"}
            answers = [await client.get("/v1/me", headers=headers) for _ in range(3)]
            case = await client.get("/v1/items/RR000000001CN", headers=headers)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" in answers[2].headers
    assert case.status_code == 429  # the case view shares the officer's budget
