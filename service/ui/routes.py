"""The officers' web UI pages: sign-in, sign-out and the work queue.

Pages are thin views over the service functions the JSON API calls (the queue is
`service.review.queue.find_tasks`). `install(app)` wires the UI into the app: this
router, the static files, the security headers and the refusal pages. A new page
renders with `render(request, "page.html", ui=ui, ...)`, its template extending
`base.html` (blocks `title` and `main`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.datastructures import QueryParams

from risk.ruleset import FISCAL_ACTIONS, SECURITY_ACTIONS
from service.api.deps import RuntimeDep, SessionDep
from service.review.queue import QueueQuery, QueueStatus, Sort, TaskOut, count_waiting, find_tasks
from service.ui.security import SecurityHeaders
from service.ui.sessions import (
    COOKIE_PATH,
    CSRF_FIELD,
    SESSION_COOKIE,
    UiCsrfDep,
    UiRefusal,
    UiStaff,
    UiStaffDep,
    end_session,
    live_session,
    log_in,
    read_form,
    secure_cookies,
    tokens_match,
)

#: The pre-session cookie the login form's CSRF token is checked against (double submit).
LOGIN_COOKIE = "aedex_login"
LOGIN_PATH = "/ui/login"
ACTIONS = ("RELEASE", *FISCAL_ACTIONS, *SECURITY_ACTIONS)
PAGE_SIZE = 50

# Autoescape on for every template: message data is shown as text, never as markup.
templates = Jinja2Templates(
    env=Environment(
        loader=PackageLoader("service.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

router = APIRouter(prefix="/ui", include_in_schema=False)


def render(
    request: Request, name: str, *, ui: UiStaff | None, status: int = 200, **context: Any
) -> Response:
    """A page from `name`; `ui` (None on the login page) fills the header and the CSRF fields."""
    return templates.TemplateResponse(
        request, name, {"ui": ui, "message": None, **context}, status_code=status
    )


def install(app: FastAPI) -> None:
    """Serve the UI from `app`: pages, static files, security headers, refusal pages."""
    from service.ui import cases, governance  # noqa: PLC0415 - they import render from here

    app.include_router(router)
    app.include_router(cases.router)
    app.include_router(governance.router)
    app.mount("/ui/static", StaticFiles(packages=[("service.ui", "static")]), name="ui-static")
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(UiRefusal)
    async def refused(request: Request, refusal: UiRefusal) -> Response:
        if refusal.location is not None:
            return RedirectResponse(refusal.location, status_code=303)
        return render(
            request, "error.html", ui=None, status=refusal.status, message=refusal.message
        )


@router.get("")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/queue", status_code=303)


def _login_page(
    request: Request, rt: RuntimeDep, *, status: int = 200, message: str | None = None
) -> Response:
    """The login form, its CSRF token bound to the pre-session cookie (kept while valid)."""
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if len(token) != 43:
        token = secrets.token_urlsafe(32)
    page = render(request, "login.html", ui=None, status=status, message=message, csrf_token=token)
    page.set_cookie(
        LOGIN_COOKIE,
        token,
        path=LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, rt.settings),
    )
    return page


@router.get("/login")
async def login_form(request: Request, rt: RuntimeDep) -> Response:
    return _login_page(request, rt)


@router.post("/login")
async def login(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    form = await read_form(request)
    if not tokens_match(request.cookies.get(LOGIN_COOKIE, ""), form.get(CSRF_FIELD)):
        return _login_page(
            request, rt, status=403, message="the form has expired; please sign in again"
        )
    now = datetime.now(UTC)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        # A new sign-in in this browser ends the session it had (no session fixation).
        old = await live_session(session, previous, settings=rt.settings, now=now)
        if old is not None:
            await end_session(session, old, now=now)
    outcome = await log_in(
        session,
        username=form.get("username", ""),
        password=form.get("password", ""),
        settings=rt.settings,
        now=now,
    )
    if outcome.token is None:
        return _login_page(request, rt, status=outcome.status, message=outcome.message)
    answer = RedirectResponse("/ui/queue", status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, rt.settings),
    )
    answer.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return answer


@router.post("/logout")
async def logout(ui: UiCsrfDep, session: SessionDep) -> Response:
    await end_session(session, ui, now=datetime.now(UTC))
    answer = RedirectResponse(LOGIN_PATH, status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")
    return answer


def _text(params: QueryParams, name: str) -> str | None:
    value = params.get(name, "").strip()
    return value or None


def _number(params: QueryParams, name: str) -> int | None:
    # Lenient: an empty or mistyped box in the filter form filters nothing (no 422 page).
    value = _text(params, name)
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def queue_query(params: QueryParams) -> QueueQuery:
    """The filter form's GET parameters as a QueueQuery; values that do not parse are ignored."""
    status = params.get("status", "").strip()
    sort = params.get("sort", "").strip()
    return QueueQuery(
        status=QueueStatus(status) if status in set(QueueStatus) else QueueStatus.OPEN,
        action=_text(params, "action"),
        security_only=params.get("security_only") in ("1", "on", "true"),
        score_min=_number(params, "score_min"),
        score_max=_number(params, "score_max"),
        rule=(_text(params, "rule") or "").upper() or None,
        operator=_text(params, "operator"),
        origin=(_text(params, "origin") or "").upper() or None,
        sort=Sort(sort) if sort in set(Sort) else Sort.PRIORITY,
        after=max(_number(params, "after") or 0, 0),
        limit=PAGE_SIZE,
    )


def row_class(task: TaskOut) -> str:
    """The CSS class a row is coloured by: its security action first, else its action."""
    action = task.security_action or task.action
    return f"action-{action.lower()}" if action in ACTIONS else "action-other"


@router.get("/queue")
async def queue(request: Request, ui: UiStaffDep, session: SessionDep) -> Response:
    query = queue_query(request.query_params)
    page = await find_tasks(session, query)
    waiting = await count_waiting(session)
    next_params = None
    if page.next is not None:
        next_params = {**dict(request.query_params), "after": str(page.next)}
    return render(
        request,
        "queue.html",
        ui=ui,
        query=query,
        page=page,
        waiting=waiting,
        rows=[(task, row_class(task)) for task in page.tasks],
        actions=ACTIONS,
        statuses=list(QueueStatus),
        sorts=list(Sort),
        next_params=next_params,
    )


@router.get("/queue/waiting")
async def waiting_count(ui: UiStaffDep, session: SessionDep) -> JSONResponse:
    """Open tasks nobody holds, for the queue page's live count (aedex.js asks every 15 s)."""
    return JSONResponse(
        {"waiting": await count_waiting(session)}, headers={"Cache-Control": "no-store"}
    )
