"""Rule governance through the API (issue 17): versions, four eyes, backtests, statistics.

Real staff tokens, the real app, SQLite and PostgreSQL. Stored items with
known outcomes (tests/governance_data.py) give backtest and statistics
figures that the tests compute by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from service.accounts import create_user, issue_token
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import AssessmentHit, AuditEntry, ShadowAssessment
from service.governance.versions import SEED_AUTHOR
from service.keys import create_keys
from service.settings import Settings
from tests.governance_data import TSHIRT_RULE, Stored, rolex, store, tshirt, with_rules

PASSWORD = "correct horse battery staple"


def candidate(version: str = "2026.12.99", rule: str = TSHIRT_RULE) -> str:
    return with_rules(version, rule)


class Desk:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], url: str) -> None:
        self.client = client
        self.tokens = tokens
        self.url = url

    def _headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self._headers(who))

    async def post(self, who: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body or {}, headers=self._headers(who))

    async def upload(self, who: str, text: str, reason: str = "a test change") -> httpx.Response:
        return await self.post(who, "/v1/rulesets", {"yaml": text, "reason": reason})

    async def backtest(self, who: str, ruleset_id: str, days: float = 7) -> dict[str, Any]:
        started = await self.post(who, f"/v1/rulesets/{ruleset_id}/backtest", {"since_days": days})
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        for _ in range(600):
            job = (await self.get(who, f"/v1/backtests/{job_id}")).json()
            if job["status"] in ("DONE", "FAILED"):
                assert job["status"] == "DONE", job
                return dict(job)
            await asyncio.sleep(0.05)
        raise AssertionError(f"backtest {job_id} did not finish")

    async def audit(self) -> list[tuple[str, str, str]]:
        engine = create_engine(self.url)
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject).order_by(
                    AuditEntry.id
                )
            )
            found = [tuple(r) for r in rows if str(r[1]).startswith("ruleset")]
        await engine.dispose()
        return found  # type: ignore[return-value]


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    engine = create_engine(database_url)
    tokens = {}
    async with create_sessionmaker(engine)() as session, session.begin():
        for name, role in (("olga", "officer"), ("ann", "supervisor"), ("ben", "supervisor")):
            await create_user(session, name, role, PASSWORD, actor="test")
            tokens[name] = await issue_token(session, name, actor="test")
    await engine.dispose()
    tokens["CNA"] = (await create_keys(database_url, ["CNA"]))["CNA"]
    app = create_app(Settings(database_url=database_url, kafka_bootstrap=""))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Desk(client, tokens, database_url)


async def test_a_fresh_database_starts_with_the_packaged_version_active(desk: Desk) -> None:
    listed = await desk.get("olga", "/v1/rulesets")
    assert listed.status_code == 200, listed.text
    (seed,) = listed.json()
    assert (seed["name"], seed["status"], seed["author"]) == ("default", "ACTIVE", SEED_AUTHOR)
    assert seed["golden"]["failed"] == 0 and seed["golden"]["passed"] > 100


async def test_only_a_supervisor_uploads_and_what_is_stored_loads_and_passes(desk: Desk) -> None:
    assert (await desk.upload("olga", candidate())).status_code == 403
    assert (await desk.upload("CNA", candidate())).status_code in (401, 403)
    broken = candidate(rule=TSHIRT_RULE.replace('hs_in(l.hs_code, "6109")', "item.no_such_field"))
    refused = await desk.upload("ann", broken)
    assert refused.status_code == 422, refused.text
    (finding,) = [f for f in refused.json()["findings"] if f["rule"] == "TSHIRT_SHOWCASE"]
    assert finding["line"] is not None and finding["column"] is not None
    assert "no_such_field" in finding["message"]
    failing = candidate(rule=TSHIRT_RULE.replace('"620342"', '"610990"'))
    refused = await desk.upload("ann", failing)
    assert refused.status_code == 422
    assert any(
        f["rule"] == "TSHIRT_SHOWCASE"
        and "golden test 'case 2 (miss)'" in f["message"]
        and f["line"]
        for f in refused.json()["findings"]
    ), refused.json()
    assert len((await desk.get("ann", "/v1/rulesets")).json()) == 1  # nothing stored
    stored = await desk.upload("ann", candidate())
    assert stored.status_code == 201, stored.text
    assert stored.json()["status"] == "DRAFT" and stored.json()["author"] == "ann"
    again = await desk.upload("ben", candidate())
    assert again.status_code == 409 and again.json()["error"] == "RULESET_VERSION_EXISTS"


async def test_four_eyes_with_a_backtest_on_record_then_activation_and_rollback(
    desk: Desk,
) -> None:
    draft = (await desk.upload("ann", candidate(), "T-shirts need documents this week")).json()
    # No backtest yet: nobody approves.
    early = await desk.post("ben", f"/v1/rulesets/{draft['id']}/approve", {"note": "ok"})
    assert early.status_code == 409 and early.json()["error"] == "BACKTEST_REQUIRED"
    await desk.backtest("ann", draft["id"])
    # The author cannot approve, nor activate; an officer can do neither.
    own = await desk.post("ann", f"/v1/rulesets/{draft['id']}/approve", {"note": "mine"})
    assert own.status_code == 403 and own.json()["error"] == "FOUR_EYES"
    assert (await desk.post("olga", f"/v1/rulesets/{draft['id']}/approve")).status_code == 403
    unapproved = await desk.post("ben", f"/v1/rulesets/{draft['id']}/activate", {"reason": "go"})
    assert unapproved.status_code == 409 and unapproved.json()["error"] == "NOT_APPROVED"
    approved = await desk.post("ben", f"/v1/rulesets/{draft['id']}/approve", {"note": "seen"})
    assert approved.status_code == 200 and approved.json()["approved_by"] == "ben"
    own = await desk.post("ann", f"/v1/rulesets/{draft['id']}/activate", {"reason": "mine"})
    assert own.status_code == 403 and own.json()["error"] == "FOUR_EYES"
    active = await desk.post("ben", f"/v1/rulesets/{draft['id']}/activate", {"reason": "go"})
    assert active.status_code == 200 and active.json()["status"] == "ACTIVE"
    statuses = {r["version"]: r["status"] for r in (await desk.get("olga", "/v1/rulesets")).json()}
    assert statuses == {"2026.12.2": "RETIRED", "2026.12.99": "ACTIVE"}
    seed = next(
        r for r in (await desk.get("olga", "/v1/rulesets")).json() if r["version"] == "2026.12.2"
    )
    diff = (await desk.get("olga", f"/v1/rulesets/{draft['id']}/diff", against=seed["id"])).json()
    assert "+  - id: TSHIRT_SHOWCASE" in diff
    # Rollback: the seed version again (its author is the package, so ann may do it).
    back = await desk.post("ann", f"/v1/rulesets/{seed['id']}/activate", {"reason": "too many"})
    assert back.status_code == 200 and back.json()["status"] == "ACTIVE"
    steps = [(actor, action) for actor, action, _ in await desk.audit()]
    assert steps == [
        (SEED_AUTHOR, "ruleset.seed"),
        ("ann", "ruleset.upload"),
        ("ann", "ruleset.backtest"),
        ("ben", "ruleset.approve"),
        ("ben", "ruleset.activate"),
        ("ann", "ruleset.rollback"),
    ]


async def test_a_backtest_gives_the_precision_and_recall_computed_by_hand(desk: Desk) -> None:
    items: list[Stored] = [
        rolex(1, True, revenue="120.00", decision="SEIZE"),
        rolex(2, True, revenue="80.00"),
        rolex(3, True),
        rolex(4, False),
        tshirt(5, True, revenue="9.50"),  # found on a random check: the active rules miss it
        tshirt(6, False),
        tshirt(7, None),  # never reviewed
    ]
    await store(desk.url, items)
    draft = (await desk.upload("ann", candidate())).json()
    job = await desk.backtest("ann", draft["id"])
    result = job["result"]
    base, new = result["baseline"], result["candidate"]
    assert (base["items"], new["items"]) == (7, 7)
    # The active (default) rules flag the four cheap Rolexes: 3 of 4 reviewed confirmed.
    assert (base["flagged"], base["reviewed"], base["confirmed"]) == (4, 4, 3)
    assert base["precision"] == 0.75 and base["recall"] == 0.75  # 3 of the 4 infringements
    assert base["hit_rate"] == round(4 / 7, 4)
    # The candidate also flags the three T-shirts: 6 reviewed, 4 confirmed, all 4 found.
    assert (new["flagged"], new["reviewed"], new["confirmed"]) == (7, 6, 4)
    assert new["precision"] == round(4 / 6, 4) and new["recall"] == 1.0
    assert new["revenue_at_stake_eur"] == "209.50" and base["revenue_at_stake_eur"] == "200.00"
    assert new["seizures"] == base["seizures"] == 1
    assert new["queue"]["DOCUMENTS_REQUIRED"] == 3 and new["hits_per_rule"]["TSHIRT_SHOWCASE"] == 3
    assert result["changed"] == 3
    changed = {c["item_id"]: c for c in result["changed_items"]}
    assert set(changed) == {"TS000000005CN", "TS000000006CN", "TS000000007CN"}
    assert changed["TS000000005CN"]["baseline"] == "RELEASE"
    assert changed["TS000000005CN"]["candidate"] == "DOCUMENTS_REQUIRED"
    assert changed["TS000000005CN"]["candidate_reasons"] == ["TSHIRT_SHOWCASE: a T-shirt"]
    assert changed["TS000000005CN"]["outcome"] == "infringement"


async def test_rule_statistics_match_counts_computed_by_hand(desk: Desk) -> None:
    await store(
        desk.url,
        [
            rolex(1, True, revenue="100.00", decision="SEIZE", hits=("A", "B"), action="INSPECT"),
            rolex(2, True, revenue="20.00", hits=("A",), action="INSPECT"),
            rolex(3, False, hits=("A", "B"), action="INSPECT"),
            rolex(4, None, hits=("B",), action="DOCUMENTS_REQUIRED"),
            tshirt(5, False, hits=(), action="RELEASE"),  # reviewed, no hit
            tshirt(6, None),
            tshirt(7, None, hits=("A",), action="DOCUMENTS_REQUIRED", hours_ago=24 * 40),
        ],
    )
    answer = await desk.get("olga", "/v1/rules/stats", since_days=30)
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    # Base rate: 4 reviewed items in the period, 2 with an infringement.
    assert stats["base_rate"] == {"reviewed": 4, "confirmed": 2, "rate": 0.5}
    rules = {r["rule"]: r for r in stats["rules"]}
    assert set(rules) == {"A", "B"}  # item 7 is outside the 30 days
    a, b = rules["A"], rules["B"]
    assert (a["hits"], a["reviewed"], a["confirmed"], a["cleared"]) == (3, 3, 2, 1)
    assert a["hit_rate"] == 0.5  # 3 of the 6 items scored in the period
    assert a["precision"] == round(2 / 3, 4) and a["lift"] == round(round(2 / 3, 4) / 0.5, 2)
    assert (a["revenue_corrected_eur"], a["seizures"]) == ("120.00", 1)
    assert (b["hits"], b["reviewed"], b["confirmed"], b["cleared"]) == (3, 2, 1, 1)
    assert b["precision"] == 0.5 and b["lift"] == 1.0
    assert (b["revenue_corrected_eur"], b["seizures"]) == ("100.00", 1)
    bands = {row["band"]: row for row in stats["bands"]}
    assert (bands["INSPECT"]["items"], bands["INSPECT"]["confirmed"]) == (3, 2)
    assert bands["RELEASE"]["items"] == 2 and bands["RELEASE"]["reviewed"] == 1


async def test_the_shadow_comparison_counts_as_computed_by_hand(desk: Desk) -> None:
    ids = await store(
        desk.url,
        [
            rolex(1, None, hits=("A",), action="INSPECT"),
            rolex(2, None, hits=("A",), action="INSPECT"),
            tshirt(3, None),
            tshirt(4, None),
        ],
    )
    shadow = {"RX000000001CN": "INSPECT", "RX000000002CN": "RELEASE",
              "TS000000003CN": "HOLD", "TS000000004CN": "RELEASE"}  # fmt: skip
    engine = create_engine(desk.url)
    async with create_sessionmaker(engine)() as session, session.begin():
        for item_id, action in shadow.items():
            hits = [{"rule": "X", "score": 80, "reason": "x"}] if action == "HOLD" else []
            session.add(
                ShadowAssessment(
                    item_row_id=ids[item_id], item_id=item_id, ruleset="default",
                    ruleset_version="2026.12.70", score=80 if hits else 0, action=action,
                    security_action=None, hits=hits,
                )
            )  # fmt: skip
            if hits:
                session.add(
                    AssessmentHit(
                        item_row_id=ids[item_id], item_id=item_id, ruleset="default",
                        ruleset_version="2026.12.70", rule="X", axis="FISCAL", score=80,
                        action=None, shadow=True,
                    )
                )  # fmt: skip
    await engine.dispose()
    answer = await desk.get("olga", "/v1/rulesets/shadow/comparison", since_days=1)
    assert answer.status_code == 200, answer.text
    (versus,) = answer.json()
    assert versus["shadow"] == "default 2026.12.70" and versus["active"] == ["default 2026.12.2"]
    assert (versus["items"], versus["flagged_active"], versus["flagged_shadow"]) == (4, 2, 2)
    assert (versus["flagged_both"], versus["changed"]) == (1, 2)
    assert versus["bands"] == {
        "INSPECT -> INSPECT": 1, "INSPECT -> RELEASE": 1,
        "RELEASE -> HOLD": 1, "RELEASE -> RELEASE": 1,
    }  # fmt: skip
    assert versus["hits_per_rule"] == [
        {"rule": "A", "active": 2, "shadow": 0},
        {"rule": "X", "active": 0, "shadow": 1},
    ]
    changed = {c["item_id"]: (c["active"], c["shadow"]) for c in versus["changed_items"]}
    assert changed == {
        "RX000000002CN": ("INSPECT", "RELEASE"),
        "TS000000003CN": ("RELEASE", "HOLD"),
    }
