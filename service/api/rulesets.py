"""Ruleset governance over HTTP: versions, four eyes, activation, shadow, backtests, stats.

Reading is for officers and above; changing is for supervisors, and the
author of a version never approves or activates it (service.governance).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select

from service.accounts import audit
from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas import KEYED, refusals
from service.api.staff import OfficerDep, SupervisorDep
from service.db.base import aware
from service.db.models import Backtest, StoredRuleset
from service.errors import NotFound
from service.governance import backtest, shadow, stats, versions
from service.governance.live import announce_live

router = APIRouter(prefix="/v1", tags=["rules"])

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Days = Annotated[float, Query(gt=0, le=3660, description="the period: this many days back")]

READ = refusals(403, *KEYED)
CHANGE = refusals(400, 403, 404, 409, 422, *KEYED)


class RulesetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: Annotated[str, StringConstraints(min_length=1, max_length=versions.MAX_RULESET_BYTES)]
    reason: Reason = Field(description="why the change: shown to the approver, kept in the audit")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note = ""


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class BacktestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since_days: float = Field(30, gt=0, le=3660, description="stored items of this many days")


class RulesetOut(BaseModel):
    id: str
    name: str
    version: str
    status: str = Field(description="DRAFT, APPROVED, ACTIVE, SHADOW or RETIRED")
    author: str | None
    reason: str | None
    created_at: str
    golden: dict[str, Any] | None
    approved_by: str | None
    approved_at: str | None
    activated_by: str | None
    activated_at: str | None
    retired_at: str | None
    backtests: int = Field(0, description="finished backtests on record")

    @classmethod
    def of(cls, row: StoredRuleset, backtests: int = 0) -> RulesetOut:
        return cls(
            id=str(row.id), name=row.name, version=row.version, status=row.status,
            author=row.author, reason=row.reason, created_at=_iso(row.created_at),
            golden=row.golden, approved_by=row.approved_by, approved_at=_iso(row.approved_at),
            activated_by=row.activated_by, activated_at=_iso(row.activated_at),
            retired_at=_iso(row.retired_at), backtests=backtests,
        )  # fmt: skip


class RulesetText(RulesetOut):
    yaml: str


class BacktestOut(BaseModel):
    id: str
    ruleset_id: str | None
    candidate: str
    baseline: str
    since: str
    until: str
    status: str = Field(description="QUEUED, RUNNING, DONE or FAILED")
    items_total: int
    items_done: int
    requested_by: str
    created_at: str
    finished_at: str | None
    error: str | None
    result: dict[str, Any] | None

    @classmethod
    def of(cls, job: Backtest) -> BacktestOut:
        return cls(
            id=str(job.id), ruleset_id=str(job.ruleset_id) if job.ruleset_id else None,
            candidate=job.candidate, baseline=job.baseline, since=_iso(job.since) or "",
            until=_iso(job.until) or "", status=job.status, items_total=job.items_total,
            items_done=job.items_done, requested_by=job.requested_by,
            created_at=_iso(job.created_at) or "", finished_at=_iso(job.finished_at),
            error=job.error, result=job.result,
        )  # fmt: skip


def _iso(at: datetime | None) -> str | None:
    return aware(at).isoformat() if at is not None else None


async def _counts(session: SessionDep) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(Backtest.ruleset_id, func.count())
        .where(Backtest.status == "DONE", Backtest.ruleset_id.is_not(None))
        .group_by(Backtest.ruleset_id)
    )
    return {ruleset_id: int(n) for ruleset_id, n in rows if ruleset_id is not None}


@router.get("/rulesets", response_model=list[RulesetOut], responses=READ)
async def list_rulesets(_caller: OfficerDep, session: SessionDep) -> list[RulesetOut]:
    """Every stored version, oldest first: who wrote, approved and activated it, and why."""
    counts = await _counts(session)
    return [RulesetOut.of(row, counts.get(row.id, 0)) for row in await versions.versions(session)]


@router.post("/rulesets", response_model=RulesetOut, status_code=201, responses=CHANGE)
async def upload_ruleset(body: RulesetIn, caller: SupervisorDep, session: SessionDep) -> RulesetOut:
    """Store a draft. It must load and its golden tests must pass: otherwise 422 with every
    problem (rule id, line, column) in `findings`, and nothing is stored."""
    row = await versions.upload(session, body.yaml, caller.username, body.reason)
    return RulesetOut.of(row)


# Static paths before /rulesets/{ruleset_id}, which would take "shadow" for an id.
@router.delete("/rulesets/shadow", response_model=RulesetOut, responses=CHANGE)
async def stop_shadow(caller: SupervisorDep, session: SessionDep, rt: RuntimeDep) -> RulesetOut:
    row = await versions.stop_shadow(session, caller.username)
    await announce_live(session, rt.settings, rt.producer)
    return RulesetOut.of(row)


@router.get("/rulesets/shadow/comparison", responses=READ)
async def shadow_comparison(
    _caller: OfficerDep, session: SessionDep, since_days: Days = 7
) -> list[dict[str, Any]]:
    """Each shadow version against the active one on the same items of the period."""
    since, until = backtest.period(since_days)
    return await shadow.compare_shadow(session, since, until)


@router.get("/rulesets/{ruleset_id}", response_model=RulesetText, responses=CHANGE)
async def read_ruleset(
    ruleset_id: uuid.UUID, _caller: OfficerDep, session: SessionDep
) -> RulesetText:
    row = await versions.get(session, ruleset_id)
    counts = await _counts(session)
    return RulesetText(**RulesetOut.of(row, counts.get(row.id, 0)).model_dump(), yaml=row.text)


@router.get("/rulesets/{ruleset_id}/diff", response_model=list[str], responses=CHANGE)
async def diff_rulesets(
    ruleset_id: uuid.UUID,
    _caller: OfficerDep,
    session: SessionDep,
    against: Annotated[
        uuid.UUID | None, Query(description="the older version (default: active)")
    ] = None,
) -> list[str]:
    """A unified diff from `against` (default: the active version) to this version."""
    row = await versions.get(session, ruleset_id)
    old = await versions.get(session, against) if against else (await versions.live(session))[0]
    return versions.diff(old, row)


@router.post("/rulesets/{ruleset_id}/approve", response_model=RulesetOut, responses=CHANGE)
async def approve_ruleset(
    ruleset_id: uuid.UUID, body: ApproveIn, caller: SupervisorDep, session: SessionDep
) -> RulesetOut:
    """Four eyes: a supervisor who is not the author (403 FOUR_EYES), with a finished
    backtest of this version on record (409 BACKTEST_REQUIRED)."""
    return RulesetOut.of(await versions.approve(session, ruleset_id, caller.username, body.note))


@router.post("/rulesets/{ruleset_id}/activate", response_model=RulesetOut, responses=CHANGE)
async def activate_ruleset(
    ruleset_id: uuid.UUID,
    body: ActivateIn,
    caller: SupervisorDep,
    session: SessionDep,
    rt: RuntimeDep,
) -> RulesetOut:
    """Make an approved version (or an earlier active one: a rollback) the active one.
    Running assess workers switch at their next batch; never by the version's author."""
    row, _previous = await versions.activate(session, ruleset_id, caller.username, body.reason)
    sent = await announce_live(session, rt.settings, rt.producer)
    if rt.producer is not None and not sent:  # the workers' poll still finds it
        async with rt.sessions() as later, later.begin():
            audit(later, caller.username, "ruleset.announce.failed", versions.label(row))
    return RulesetOut.of(row)


@router.post("/rulesets/{ruleset_id}/shadow", response_model=RulesetOut, responses=CHANGE)
async def start_shadow(
    ruleset_id: uuid.UUID, caller: SupervisorDep, session: SessionDep, rt: RuntimeDep
) -> RulesetOut:
    """Run this version beside the active one on live traffic; its results are stored
    apart and never reach an operator, the queue or `aed.responses`."""
    row = await versions.start_shadow(session, ruleset_id, caller.username)
    await announce_live(session, rt.settings, rt.producer)
    return RulesetOut.of(row)


@router.post(
    "/rulesets/{ruleset_id}/backtest", response_model=BacktestOut, status_code=202,
    responses=CHANGE,
)  # fmt: skip
async def start_backtest(
    ruleset_id: uuid.UUID,
    body: BacktestIn,
    caller: SupervisorDep,
    session: SessionDep,
    rt: RuntimeDep,
) -> BacktestOut:
    """Queue a backtest of this version against the active one; poll the job resource."""
    row = await versions.get(session, ruleset_id)
    job = await backtest.queue_job(session, row, body.since_days, caller.username)
    audit(session, caller.username, "ruleset.backtest", versions.label(row), job=str(job.id))
    out = BacktestOut.of(job)
    await session.commit()
    backtest.start_job(rt.sessions, job.id)
    return out


@router.get("/backtests/{job_id}", response_model=BacktestOut, responses=CHANGE)
async def read_backtest(job_id: uuid.UUID, _caller: OfficerDep, session: SessionDep) -> BacktestOut:
    job = await session.get(Backtest, job_id)
    if job is None:
        raise NotFound("backtest")
    return BacktestOut.of(job)


@router.get("/backtests", response_model=list[BacktestOut], responses=READ)
async def list_backtests(
    _caller: OfficerDep,
    session: SessionDep,
    ruleset_id: Annotated[uuid.UUID | None, Query()] = None,
) -> list[BacktestOut]:
    query = select(Backtest).order_by(Backtest.created_at.desc()).limit(100)
    if ruleset_id is not None:
        query = query.where(Backtest.ruleset_id == ruleset_id)
    return [BacktestOut.of(job) for job in await session.scalars(query)]


@router.get("/rules/stats", responses=READ)
async def rule_statistics(
    _caller: OfficerDep,
    session: SessionDep,
    since_days: Days = 30,
    shadow_hits: Annotated[bool, Query(alias="shadow")] = False,
) -> dict[str, Any]:
    """Per rule and version: hits, hit rate, reviewed, confirmed, cleared, precision, lift,
    revenue corrected, seizures; and per band."""
    since, until = backtest.period(since_days)
    return await stats.rule_stats(session, since, until, shadow=shadow_hits)
