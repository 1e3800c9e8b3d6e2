"""The case page and the officers' decisions from the web UI.

`GET /ui/items/{item_id}` shows one item as `service.review.case.load_case` gives it
(declared data laid out like a CN 23, the rule hits, history, the splitting window)
with the decision form; the POSTs below are thin form wrappers over the same
service functions the JSON API calls (`decide`, `decide_group`, `claim_task`,
`claim_next_task`), every one CSRF-checked. `GET /ui/audit` is the audit log's
latest entries, for supervisors.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.deps import RuntimeDep, SessionDep
from service.db.base import aware
from service.db.models import AuditEntry, Role
from service.errors import AedexError, NotFound
from service.review.case import load_case
from service.review.decide import (
    DecisionIn,
    GroupDecisionIn,
    GroupMember,
    OfficerDecision,
    Outcome,
    decide,
    decide_group,
)
from service.review.queue import claim_next_task, claim_task, parse_task_id
from service.ui.routes import render
from service.ui.sessions import UiCsrfDep, UiRefusal, UiStaff, UiStaffDep, read_form

router = APIRouter(prefix="/ui", include_in_schema=False)

DECISIONS = list(OfficerDecision)
#: The case page's keyboard shortcuts (aedex.js reads them from the radio buttons).
SHORTCUTS = {
    OfficerDecision.RELEASE: "r",
    OfficerDecision.DOCUMENTS_REQUIRED: "d",
    OfficerDecision.INSPECT: "i",
    OfficerDecision.HOLD: "h",
    OfficerDecision.SEIZE: "s",
}


#: The audit page shows this many entries, newest first.
AUDIT_ROWS = 200


def _case_url(item_id: str) -> str:
    return f"/ui/items/{quote(item_id, safe='')}"


def _ttl(rt: RuntimeDep) -> timedelta:
    return timedelta(seconds=rt.settings.review_claim_s)


async def _case_page(
    request: Request,
    session: AsyncSession,
    ui: UiStaff,
    item_id: str,
    *,
    status: int = 200,
    message: str | None = None,
) -> Response:
    try:
        case = await load_case(session, item_id)
    except NotFound as missing:
        return render(request, "error.html", ui=ui, status=404, message=missing.detail)
    return render(
        request,
        "case.html",
        ui=ui,
        status=status,
        message=message,
        case=case,
        decisions=DECISIONS,
        shortcuts=SHORTCUTS,
    )


def _outcome(form: dict[str, str]) -> Outcome:
    """The outcome fields of a decision form; a bad revenue is a 422 page."""
    revenue_text = form.get("revenue", "").strip().replace(",", ".")
    revenue: Decimal | None = None
    if revenue_text:
        try:
            revenue = Decimal(revenue_text)
        except InvalidOperation:
            raise UiRefusal(422, "the corrected revenue must be a number of euros") from None
        if not revenue.is_finite():
            raise UiRefusal(422, "the corrected revenue must be a number of euros")
    try:
        return Outcome(
            infringement=form.get("infringement") in ("on", "1", "true"),
            kind=form.get("kind", "").strip() or None,
            revenue_corrected_eur=revenue,
        )
    except ValidationError:
        raise UiRefusal(
            422,
            "the corrected revenue must be 0 or more with at most 2 decimals, "
            "and the kind at most 200 characters",
        ) from None


def _decision(form: dict[str, str]) -> OfficerDecision:
    chosen = form.get("decision", "").strip().upper()
    if chosen not in set(OfficerDecision):
        raise UiRefusal(422, "choose a decision: " + ", ".join(DECISIONS))
    return OfficerDecision(chosen)


def _version(text: str | None) -> int:
    value = (text or "").strip()
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise UiRefusal(422, "the form lacks the task version; reload the case")
    return int(value)


@router.get("/items/{item_id}")
async def case_page(
    item_id: str, request: Request, ui: UiStaffDep, session: SessionDep
) -> Response:
    return await _case_page(request, session, ui, item_id)


@router.post("/items/group-decision")
async def group_decision(
    request: Request, ui: UiCsrfDep, session: SessionDep, rt: RuntimeDep
) -> Response:
    form = await read_form(request)
    members = [
        GroupMember(item_id=name[5:], version=_version(form.get(f"version_{name[5:]}")))
        for name, value in form.items()
        if name.startswith("item_") and value == "on" and 1 <= len(name) - 5 <= 35
    ]
    if not members:
        raise UiRefusal(422, "tick at least one item to decide together")
    try:
        body = GroupDecisionIn(
            items=members,
            decision=_decision(form),
            outcome=_outcome(form),
            note=form.get("note", ""),
        )
    except ValidationError:
        raise UiRefusal(422, "the group decision is not valid (at most 200 items)") from None
    try:
        decided = await decide_group(
            session, ui.staff, body, customs_office=rt.settings.customs_office
        )
    except AedexError as refused:
        # Raised, not rendered: the transaction must roll back (all or none of the group).
        raise UiRefusal(refused.status, f"nothing was decided: {refused.detail}") from None
    return RedirectResponse(
        f"/ui/queue?decided={quote(f'{len(decided)} items')}&decision={body.decision}",
        status_code=303,
    )


@router.post("/items/{item_id}/decision")
async def decision(
    item_id: str, request: Request, ui: UiCsrfDep, session: SessionDep, rt: RuntimeDep
) -> Response:
    form = await read_form(request)
    chosen = _decision(form)
    outcome = _outcome(form)
    try:
        body = DecisionIn(
            decision=chosen,
            outcome=outcome,
            note=form.get("note", ""),
            version=_version(form.get("version")),
        )
    except ValidationError:
        raise UiRefusal(422, "the note is too long") from None
    try:
        done = await decide(
            session, ui.staff, item_id, body, customs_office=rt.settings.customs_office
        )
    except AedexError as refused:
        # A refused decision changed nothing: show the case as it is now, and why.
        return await _case_page(
            request, session, ui, item_id, status=refused.status, message=refused.detail
        )
    return RedirectResponse(
        f"/ui/queue?decided={quote(done.item_id)}&decision={done.decision}", status_code=303
    )


@router.post("/next")
async def take_next(ui: UiCsrfDep, session: SessionDep, rt: RuntimeDep) -> Response:
    try:
        task = await claim_next_task(session, ui.staff, _ttl(rt))
    except NotFound:
        return RedirectResponse("/ui/queue?empty=1", status_code=303)
    return RedirectResponse(_case_url(task.item_id), status_code=303)


@router.post("/tasks/{task_id}/claim")
async def claim(
    task_id: str, request: Request, ui: UiCsrfDep, session: SessionDep, rt: RuntimeDep
) -> Response:
    form = await read_form(request)
    item_id = form.get("item_id", "")
    try:
        task = await claim_task(session, parse_task_id(task_id), ui.staff, _ttl(rt))
    except AedexError as refused:
        if not item_id:
            raise UiRefusal(refused.status, refused.detail) from None
        return await _case_page(
            request, session, ui, item_id, status=refused.status, message=refused.detail
        )
    return RedirectResponse(_case_url(task.item_id), status_code=303)


@router.get("/audit")
async def audit_page(request: Request, ui: UiStaffDep, session: SessionDep) -> Response:
    if not ui.staff.at_least(Role.SUPERVISOR):
        raise UiRefusal(403, "the audit log is for supervisors")
    actor = request.query_params.get("actor", "").strip()[:100]
    action = request.query_params.get("action", "").strip()[:50]
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    rows = (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(AUDIT_ROWS))).all()
    entries = [
        {
            "at": aware(row.at).isoformat(timespec="seconds"),
            "actor": row.actor,
            "action": row.action,
            "subject": row.subject,
            # Text, autoescaped by the template like all stored data.
            "detail": json.dumps(row.detail, sort_keys=True, ensure_ascii=False),
        }
        for row in rows
    ]
    return render(
        request, "audit.html", ui=ui, entries=entries, actor=actor, action=action, limit=AUDIT_ROWS
    )
