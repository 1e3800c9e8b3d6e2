"""Rule governance pages: versions, diff, performance, shadow comparison, backtests.

Supervisors change (upload, backtest, approve, activate, shadow), every form
CSRF-checked and the irreversible ones confirmed with a checkbox; officers
read. The pages are thin views over service.governance, as the JSON API is.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from service.accounts import audit
from service.api.deps import RuntimeDep, SessionDep
from service.db.models import Backtest, Role
from service.errors import AedexError
from service.governance import backtest, shadow, stats, versions
from service.governance.live import announce_live
from service.ui.charts import bar_chart
from service.ui.routes import render
from service.ui.sessions import UiCsrfDep, UiRefusal, UiStaff, UiStaffDep, read_form

router = APIRouter(prefix="/ui/rules", include_in_schema=False)


def _days(request: Request, default: float) -> float:
    try:
        days = float(request.query_params.get("days", default))
    except ValueError:
        return default
    return min(max(days, 0.01), 3660.0)


def _supervisor(ui: UiStaff) -> None:
    if not ui.staff.at_least(Role.SUPERVISOR):
        raise UiRefusal(403, "changing rulesets is for supervisors")


async def _versions_page(
    request: Request,
    ui: UiStaff,
    session: SessionDep,
    *,
    status: int = 200,
    message: str | None = None,
) -> Response:
    rows = await versions.versions(session)
    counts = dict(
        (
            await session.execute(
                select(Backtest.ruleset_id, func.count())
                .where(Backtest.status == "DONE")
                .group_by(Backtest.ruleset_id)
            )
        ).all()
    )
    latest = {
        job.ruleset_id: job
        for job in await session.scalars(select(Backtest).order_by(Backtest.created_at))
    }
    active = next((r for r in rows if r.status == "ACTIVE"), None)
    return render(
        request, "rules.html", ui=ui, status=status, message=message,
        rows=list(reversed(rows)), counts=counts, latest=latest, active=active,
        supervisor=ui.staff.at_least(Role.SUPERVISOR),
    )  # fmt: skip


@router.get("")
async def rules_page(request: Request, ui: UiStaffDep, session: SessionDep) -> Response:
    return await _versions_page(request, ui, session)


async def _change(
    request: Request, ui: UiStaff, session: SessionDep, work: Any, done: str
) -> Response:
    """Run one change; a refusal shows the versions page with why, and changes nothing."""
    try:
        async with session.begin_nested():  # a refusal undoes whatever the change began
            await work
    except AedexError as refused:
        detail = refused.detail
        if refused.findings:
            detail += ": " + "; ".join(str(f.get("message")) for f in refused.findings[:10])
        return await _versions_page(request, ui, session, status=refused.status, message=detail)
    return RedirectResponse(f"/ui/rules?done={done}", status_code=303)


def _confirmed(form: dict[str, str]) -> None:
    if form.get("confirm") != "yes":
        raise UiRefusal(422, "tick the confirmation box: this changes live scoring")


@router.post("")
async def upload(request: Request, ui: UiCsrfDep, session: SessionDep) -> Response:
    _supervisor(ui)
    form = await read_form(request)
    reason = form.get("reason", "").strip()
    if not reason:
        raise UiRefusal(422, "say why the change is made")
    return await _change(
        request, ui, session,
        versions.upload(session, form.get("yaml", ""), ui.staff.username, reason[:4000]),
        "uploaded",
    )  # fmt: skip


@router.post("/{ruleset_id}/approve")
async def approve(
    ruleset_id: uuid.UUID, request: Request, ui: UiCsrfDep, session: SessionDep
) -> Response:
    _supervisor(ui)
    form = await read_form(request)
    _confirmed(form)
    work = versions.approve(session, ruleset_id, ui.staff.username, form.get("note", "")[:4000])
    return await _change(request, ui, session, work, "approved")


@router.post("/{ruleset_id}/activate")
async def activate(
    ruleset_id: uuid.UUID, request: Request, ui: UiCsrfDep, session: SessionDep, rt: RuntimeDep
) -> Response:
    _supervisor(ui)
    form = await read_form(request)
    _confirmed(form)
    reason = form.get("reason", "").strip()[:4000] or "activated from the UI"
    answer = await _change(
        request, ui, session,
        versions.activate(session, ruleset_id, ui.staff.username, reason), "activated",
    )  # fmt: skip
    if answer.status_code == 303:
        await _announce(session, rt)
    return answer


@router.post("/{ruleset_id}/shadow")
async def start_shadow(
    ruleset_id: uuid.UUID, ui: UiCsrfDep, request: Request, session: SessionDep, rt: RuntimeDep
) -> Response:
    _supervisor(ui)
    work = versions.start_shadow(session, ruleset_id, ui.staff.username)
    answer = await _change(request, ui, session, work, "shadow")
    if answer.status_code == 303:
        await _announce(session, rt)
    return answer


@router.post("/shadow/stop")
async def stop_shadow(
    ui: UiCsrfDep, request: Request, session: SessionDep, rt: RuntimeDep
) -> Response:
    _supervisor(ui)
    answer = await _change(
        request, ui, session, versions.stop_shadow(session, ui.staff.username), "shadow-stopped"
    )
    if answer.status_code == 303:
        await _announce(session, rt)
    return answer


async def _announce(session: SessionDep, rt: RuntimeDep) -> None:
    await announce_live(session, rt.settings, rt.producer)


@router.post("/{ruleset_id}/backtest")
async def start_backtest(
    ruleset_id: uuid.UUID, request: Request, ui: UiCsrfDep, session: SessionDep, rt: RuntimeDep
) -> Response:
    _supervisor(ui)
    form = await read_form(request)
    try:
        days = min(max(float(form.get("days", "30")), 0.01), 3660.0)
    except ValueError:
        raise UiRefusal(422, "days must be a number") from None
    row = await versions.get(session, ruleset_id)
    job = await backtest.queue_job(session, row, days, ui.staff.username)
    audit(session, ui.staff.username, "ruleset.backtest", versions.label(row), job=str(job.id))
    await session.commit()
    backtest.start_job(rt.sessions, job.id)
    return RedirectResponse(f"/ui/rules/backtests/{job.id}", status_code=303)


@router.get("/backtests/{job_id}")
async def backtest_page(
    job_id: uuid.UUID, request: Request, ui: UiStaffDep, session: SessionDep
) -> Response:
    job = await session.get(Backtest, job_id)
    if job is None:
        return render(request, "error.html", ui=ui, status=404, message="backtest not found")
    chart = None
    result = job.result
    if result:
        new, old = result["candidate"], result["baseline"]
        keys = (("flagged", "flagged"), ("reviewed", "reviewed"), ("confirmed", "confirmed"),
                ("cleared", "cleared"), ("seizures", "seizures"))  # fmt: skip
        chart = bar_chart(
            "Active against candidate",
            [(label, [old[key], new[key]]) for label, key in keys]
            + [
                (f"queue {band}", [old["queue"].get(band, 0), new["queue"].get(band, 0)])
                for band in sorted(set(old["queue"]) | set(new["queue"]))
            ],  # fmt: skip
            [f"{old['ruleset']} (active)", f"{new['ruleset']} (candidate)"],
        )
    return render(request, "backtest.html", ui=ui, job=job, result=result, chart=chart)


@router.get("/{ruleset_id}/diff")
async def diff_page(
    ruleset_id: uuid.UUID, request: Request, ui: UiStaffDep, session: SessionDep
) -> Response:
    row = await versions.get(session, ruleset_id)
    against = request.query_params.get("against")
    try:
        old = (
            await versions.get(session, uuid.UUID(against))
            if against
            else (await versions.live(session))[0]
        )
    except ValueError:
        raise UiRefusal(422, "against: not a ruleset id") from None
    all_rows = await versions.versions(session)
    return render(
        request, "diff.html", ui=ui, row=row, old=old, lines=versions.diff(old, row),
        choices=[r for r in all_rows if r.id != row.id],
    )  # fmt: skip


@router.get("/performance")
async def performance_page(request: Request, ui: UiStaffDep, session: SessionDep) -> Response:
    days = _days(request, 30)
    since, until = backtest.period(days)
    found = await stats.rule_stats(session, since, until)
    versions_seen = sorted({r["version"] for r in found["rules"]})
    by = {(r["rule"], r["version"]): r for r in found["rules"]}
    rules = sorted({r["rule"] for r in found["rules"]})
    series = [f"version {v}" for v in versions_seen]

    def per_rule(key: str) -> list[tuple[str, list[float | None]]]:
        return [
            (rule, [by[(rule, v)][key] if (rule, v) in by else None for v in versions_seen])
            for rule in rules
        ]

    hits = bar_chart("Hits per rule", per_rule("hits"), series)
    precision = bar_chart(
        "Precision per rule (confirmed of reviewed)", per_rule("precision"), series, percent=True
    )
    return render(
        request, "performance.html", ui=ui, days=days, found=found, hits=hits,
        precision=precision,
    )  # fmt: skip


@router.get("/shadow")
async def shadow_page(request: Request, ui: UiStaffDep, session: SessionDep) -> Response:
    days = _days(request, 7)
    since, until = backtest.period(days)
    comparisons = await shadow.compare_shadow(session, since, until)
    charts = [
        bar_chart(
            f"Hits per rule: active against {c['shadow']}",
            [(h["rule"], [h["active"], h["shadow"]]) for h in c["hits_per_rule"]],
            ["active", c["shadow"]],
        )
        for c in comparisons
    ]
    _, running = await versions.live(session)
    return render(
        request, "shadow.html", ui=ui, days=days, comparisons=list(zip(comparisons, charts, strict=True)),
        running=running, supervisor=ui.staff.at_least(Role.SUPERVISOR),
    )  # fmt: skip
