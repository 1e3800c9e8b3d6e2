"""What an assess worker scores with (service.governance.live), on a real database.

It loads the active version of the database, switches when the database
changes and says so in its log, hands a batch one whole pair of engines, and
keeps scoring with the previous version if a new one cannot be compiled.
"""

from __future__ import annotations

from sqlalchemy import update
from structlog.testing import capture_logs

from risk import InMemoryState
from risk.goldens import build_item
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import RulesetStatus, StoredRuleset
from service.governance.live import LiveRulesets
from service.settings import Settings
from tests.governance_data import TSHIRT_RULE, with_rules


async def test_the_worker_follows_the_database_whole_and_says_so(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    live = LiveRulesets(Settings(database_url=database_url, ruleset_poll_s=3600))
    try:
        with capture_logs() as logs:
            async with sessions() as session, session.begin():
                first = await live.refresh(session)  # a fresh database is seeded
        assert first.label == live.current.label == f"default {first.active.ruleset.version}"
        assert [e["event"] for e in logs] == ["ruleset loaded"]
        async with sessions() as session, session.begin():
            new = StoredRuleset(
                name="default", version="2026.12.77", text=with_rules("2026.12.77", TSHIRT_RULE),
                status=RulesetStatus.DRAFT, author="ann",
            )  # fmt: skip
            session.add(new)
            await session.execute(
                update(StoredRuleset)
                .where(StoredRuleset.status == RulesetStatus.ACTIVE)
                .values(status=RulesetStatus.RETIRED)
            )
            await session.flush()
            new.status = RulesetStatus.ACTIVE
        # Not nudged and not due: the batch keeps the engines it has.
        async with sessions() as session:
            assert await live.refresh(session) is first
        live.nudge()
        with capture_logs() as logs:
            async with sessions() as session:
                second = await live.refresh(session)
        assert second.label == "default 2026.12.77"
        (switched,) = [e for e in logs if e["event"] == "ruleset switched"]
        assert switched["previous"] == first.label and switched["ruleset"] == second.label
        # The batch that took `first` still scores with it: one version per batch.
        tshirt = build_item({})
        assert first.active.ruleset.version != "2026.12.77"
        assert [h.rule for h in second.active.assess(tshirt, _state()).hits] == ["TSHIRT_SHOWCASE"]
        assert "TSHIRT_SHOWCASE" not in [h.rule for h in first.active.assess(tshirt, _state()).hits]
        # A version this code cannot compile: the worker scores on with the one it has.
        async with sessions() as session, session.begin():
            await session.execute(
                update(StoredRuleset)
                .where(StoredRuleset.version == "2026.12.77")
                .values(
                    text=with_rules("2026.12.77", TSHIRT_RULE).replace(
                        "hs_in(l.hs_code", "no_such_helper(l"
                    )
                )
            )
        live.current = first  # as if the worker had not loaded 2026.12.77 yet
        live.nudge()
        with capture_logs() as logs:
            async with sessions() as session:
                kept = await live.refresh(session)
        assert kept is first
        assert any(e["event"].startswith("ruleset not loaded") for e in logs), logs
    finally:
        await engine.dispose()


def _state() -> InMemoryState:
    return InMemoryState(learn=False)
