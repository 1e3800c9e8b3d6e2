"""Ruleset versions in the database: upload, four eyes, activation, rollback, shadow.

The bar (issue 17): no change to live scoring without a record of who, why and
what it did on history. So a version is stored only after it loads and its
golden tests pass; a supervisor who is not its author approves it, and only
with a finished backtest on record; a supervisor who is not its author
activates it. Rolling back is activating an earlier version. Every step is in
the audit log. The packaged `risk/rules/default.yaml` is the version a fresh
database starts with.
"""

from __future__ import annotations

import difflib
import hashlib
import uuid
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from risk import Ruleset, RulesetError, compile_ruleset
from risk.errors import RuleProblem
from risk.goldens import golden_problems
from service.accounts import audit
from service.db.models import Backtest, RulesetStatus, StoredRuleset
from service.errors import AedexError, NotFound

#: Who the record names as the author and approver of the packaged seed version.
SEED_AUTHOR = "aedex (packaged default)"
#: Largest YAML accepted: the default ruleset is about 60 KB.
MAX_RULESET_BYTES = 1_000_000


class RulesetRefused(AedexError):
    """The YAML does not load or a golden test fails: every problem, located."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__(
            "RULESET_INVALID",
            f"{len(problems)} problem(s); the ruleset was not stored",
            422,
            findings=[problem_body(p) for p in problems],
        )
        self.problems = problems


class FourEyes(AedexError):
    def __init__(self, detail: str) -> None:
        super().__init__("FOUR_EYES", detail, 403)


class WrongState(AedexError):
    def __init__(self, detail: str, code: str = "RULESET_STATE") -> None:
        super().__init__(code, detail, 409)


def problem_body(problem: RuleProblem) -> dict[str, Any]:
    """A problem as the API's findings carry it: rule id, line, column, text."""
    return {
        "code": "RULESET",
        "severity": "ERROR",
        "path": problem.rule or "ruleset",
        "rule": problem.rule,
        "line": problem.line,
        "column": problem.column,
        "message": str(problem),
    }


def checked(text: str) -> tuple[Ruleset, dict[str, int]]:
    """The compiled ruleset and its golden-test summary, or RulesetRefused."""
    if len(text.encode("utf-8")) > MAX_RULESET_BYTES:
        raise RulesetRefused(
            [RuleProblem(None, None, None, f"larger than {MAX_RULESET_BYTES:,} bytes")]
        )
    try:
        ruleset = compile_ruleset(text)
    except RulesetError as error:
        raise RulesetRefused(error.problems) from None
    results, problems = golden_problems(text, ruleset)
    if problems:
        raise RulesetRefused(problems)
    summary = {
        "passed": len(results),
        "failed": 0,
        "rules": len({r.rule for r in results}),
    }
    return ruleset, summary


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def packaged_text() -> str:
    return resources.files("risk").joinpath("rules/default.yaml").read_text("utf-8")


@cache
def _packaged_checked() -> tuple[Ruleset, dict[str, int]]:
    """The packaged ruleset, compiled and golden-tested once per process (it never changes)."""
    return checked(packaged_text())


def label(row: StoredRuleset) -> str:
    return f"{row.name} {row.version}"


async def ensure_seed(session: AsyncSession) -> None:
    """A database without rulesets gets the packaged default as its active version."""
    if await session.scalar(select(StoredRuleset.id).limit(1)) is not None:
        return
    text = packaged_text()
    now = datetime.now(UTC)
    row = _stored(
        text, *_packaged_checked(), SEED_AUTHOR,
        "the packaged default ruleset: the seed version of a fresh database",
        status=RulesetStatus.ACTIVE, approved_by=SEED_AUTHOR, approved_at=now,
        activated_by=SEED_AUTHOR, activated_at=now,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    audit(session, SEED_AUTHOR, "ruleset.seed", label(row), id=str(row.id))


def _stored(
    text: str, ruleset: Ruleset, golden: dict[str, int], author: str, reason: str, **state: Any
) -> StoredRuleset:
    return StoredRuleset(
        name=ruleset.name, version=ruleset.version, text=text, sha256=digest(text),
        author=author, reason=reason, golden=golden, created_at=datetime.now(UTC), **state,
    )  # fmt: skip


async def get(session: AsyncSession, ruleset_id: uuid.UUID) -> StoredRuleset:
    row = await session.get(StoredRuleset, ruleset_id)
    if row is None:
        raise NotFound("ruleset")
    return row


async def by_name(session: AsyncSession, name: str, version: str) -> StoredRuleset:
    row = await session.scalar(
        select(StoredRuleset).where(StoredRuleset.name == name, StoredRuleset.version == version)
    )
    if row is None:
        raise NotFound(f"ruleset {name} {version}")
    return row


async def versions(session: AsyncSession) -> list[StoredRuleset]:
    await ensure_seed(session)
    return list(await session.scalars(select(StoredRuleset).order_by(StoredRuleset.created_at)))


async def live(session: AsyncSession) -> tuple[StoredRuleset, StoredRuleset | None]:
    """The active version and the shadow one, if any (seeding a fresh database)."""
    await ensure_seed(session)
    rows = await session.scalars(
        select(StoredRuleset).where(
            StoredRuleset.status.in_([RulesetStatus.ACTIVE, RulesetStatus.SHADOW])
        )
    )
    active = shadow = None
    for row in rows:
        if row.status == RulesetStatus.ACTIVE:
            active = row
        else:
            shadow = row
    if active is None:
        raise WrongState("no ruleset is active", "NO_ACTIVE_RULESET")
    return active, shadow


async def upload(session: AsyncSession, text: str, author: str, reason: str) -> StoredRuleset:
    """Store a draft: it loads, its golden tests pass, its name and version are new."""
    await ensure_seed(session)
    ruleset, golden = checked(text)
    clash = await session.scalar(
        select(StoredRuleset).where(
            StoredRuleset.name == ruleset.name, StoredRuleset.version == ruleset.version
        )
    )
    if clash is not None:
        same = clash.sha256 == digest(text)
        raise WrongState(
            f"{ruleset.name} {ruleset.version} is already stored"
            + (" with the same text" if same else "; give the changed ruleset a new version"),
            "RULESET_VERSION_EXISTS",
        )
    row = _stored(text, ruleset, golden, author, reason, status=RulesetStatus.DRAFT)
    session.add(row)
    await session.flush()
    audit(
        session, author, "ruleset.upload", label(row),
        id=str(row.id), reason=reason, rules=len(ruleset.rules), sha256=row.sha256,
    )  # fmt: skip
    return row


async def finished_backtest(session: AsyncSession, row: StoredRuleset) -> Backtest | None:
    found: Backtest | None = await session.scalar(
        select(Backtest)
        .where(Backtest.ruleset_id == row.id, Backtest.status == "DONE")
        .order_by(Backtest.finished_at.desc())
        .limit(1)
    )
    return found


async def approve(
    session: AsyncSession, ruleset_id: uuid.UUID, approver: str, note: str
) -> StoredRuleset:
    """Four eyes: a supervisor who is not the author, who has the backtest before them."""
    row = await get(session, ruleset_id)
    if row.status != RulesetStatus.DRAFT:
        raise WrongState(f"{label(row)} is {row.status}, not a draft")
    if approver == row.author:
        raise FourEyes(f"{label(row)} was written by {approver}: another supervisor approves it")
    backtest = await finished_backtest(session, row)
    if backtest is None:
        raise WrongState(
            f"{label(row)} has no finished backtest: run one before approving "
            f"(POST /v1/rulesets/{row.id}/backtest or `aedex rules backtest`)",
            "BACKTEST_REQUIRED",
        )
    row.status = RulesetStatus.APPROVED
    row.approved_by = approver
    row.approved_at = datetime.now(UTC)
    audit(
        session, approver, "ruleset.approve", label(row),
        id=str(row.id), note=note, backtest=str(backtest.id), author=row.author,
    )  # fmt: skip
    return row


async def activate(
    session: AsyncSession, ruleset_id: uuid.UUID, actor: str, reason: str
) -> tuple[StoredRuleset, StoredRuleset | None]:
    """Make a version the active one; the one it replaces is retired. An approved version,
    or one that was active before (a rollback); never by its own author. Its golden tests
    run again first: the engine may have changed since the upload."""
    row = await get(session, ruleset_id)
    if row.status == RulesetStatus.ACTIVE:
        raise WrongState(f"{label(row)} is already active")
    if row.approved_by is None:
        raise WrongState(f"{label(row)} is not approved", "NOT_APPROVED")
    if actor == row.author:
        raise FourEyes(f"{label(row)} was written by {actor}: another supervisor activates it")
    checked(row.text)
    now = datetime.now(UTC)
    previous, _ = await live(session)
    previous.status = RulesetStatus.RETIRED
    previous.retired_at = now
    rollback = row.status == RulesetStatus.RETIRED
    row.status = RulesetStatus.ACTIVE
    row.activated_by = actor
    row.activated_at = now
    row.retired_at = None
    audit(
        session, actor, "ruleset.rollback" if rollback else "ruleset.activate", label(row),
        id=str(row.id), replaces=label(previous), reason=reason,
    )  # fmt: skip
    return row, previous


async def start_shadow(session: AsyncSession, ruleset_id: uuid.UUID, actor: str) -> StoredRuleset:
    """Run a version beside the active one on live traffic (one at a time). Its results
    are stored apart and never reach an operator, so a draft may run in shadow."""
    row = await get(session, ruleset_id)
    if row.status in (RulesetStatus.ACTIVE, RulesetStatus.SHADOW):
        raise WrongState(f"{label(row)} is {row.status}")
    _, shadow = await live(session)
    if shadow is not None:
        _end_shadow(shadow)
        audit(session, actor, "ruleset.shadow.stop", label(shadow), id=str(shadow.id))
    row.status = RulesetStatus.SHADOW
    audit(session, actor, "ruleset.shadow.start", label(row), id=str(row.id))
    return row


async def stop_shadow(session: AsyncSession, actor: str) -> StoredRuleset:
    _, shadow = await live(session)
    if shadow is None:
        raise WrongState("no ruleset runs in shadow", "NO_SHADOW")
    _end_shadow(shadow)
    audit(session, actor, "ruleset.shadow.stop", label(shadow), id=str(shadow.id))
    return shadow


def _end_shadow(row: StoredRuleset) -> None:
    """Back to where it was: approved, or a draft, or retired if it had been active."""
    if row.activated_at is not None:
        row.status = RulesetStatus.RETIRED
    elif row.approved_by is not None:
        row.status = RulesetStatus.APPROVED
    else:
        row.status = RulesetStatus.DRAFT


def diff(old: StoredRuleset, new: StoredRuleset) -> list[str]:
    """A unified diff of two versions' YAML, old first."""
    return list(
        difflib.unified_diff(
            old.text.splitlines(),
            new.text.splitlines(),
            fromfile=label(old),
            tofile=label(new),
            lineterm="",
        )
    )
