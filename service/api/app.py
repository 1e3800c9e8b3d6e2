"""The app factory: everything is built in the lifespan, nothing connects at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from service import kafka
from service.api import audit, decisions, health, intake, records, review, rulesets, webhooks
from service.api.deps import Runtime
from service.api.guard import CALLER, MESSAGE_ID, REQUEST_ID, RequestGuard
from service.api.limits import TooManyRequests
from service.db.engine import create_engine, create_sessionmaker
from service.db.outage import is_outage
from service.errors import AedexError
from service.governance.backtest import fail_interrupted
from service.lag import LagProbe
from service.metrics import Metrics
from service.settings import Settings
from service.ui import routes as ui

log = structlog.get_logger(__name__)

#: Seconds a client is told to wait when the database is unavailable.
UNAVAILABLE_RETRY_AFTER_S = 5


async def _governance_start(sessions: async_sessionmaker[AsyncSession]) -> None:
    """End the backtests a stopped process left. (A fresh database is seeded with its
    ruleset by the first route or worker that needs one, not here: start-up stays fast.)"""
    try:
        interrupted = await fail_interrupted(sessions)
        if interrupted:
            log.warning("backtests interrupted by a restart", jobs=interrupted)
    except DBAPIError as error:  # not migrated yet, or down: the routes say so when asked
        log.warning("backtest clean-up skipped", error=repr(error)[:200])


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        producer: AIOKafkaProducer | None = None
        lag: LagProbe | None = None
        if not settings.embedded_broker:
            producer = kafka.producer(settings, settings.kafka_bootstrap)
            await producer.start()
            lag = LagProbe(settings, settings.kafka_bootstrap)
            await lag.start()
        sessions = create_sessionmaker(engine)
        await _governance_start(sessions)
        app.state.runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=sessions,
            metrics=Metrics(),
            producer=producer,
            lag=lag,
        )
        try:
            yield
        finally:
            if lag is not None:
                await lag.stop()
            if producer is not None:
                await producer.stop()
            await engine.dispose()

    # FastAPIOffline serves Swagger UI and ReDoc from the package, not a CDN: /docs works
    # at a border post with no internet, and no third party sees who reads the contract.
    app = FastAPIOffline(
        title="aedex",
        summary="Advance electronic data exchange: intake, validation, risk, CUSRSP",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(intake.router)
    app.include_router(records.router)
    app.include_router(webhooks.router)
    app.include_router(health.router)
    app.include_router(audit.router)
    app.include_router(review.router)
    ui.install(app)
    app.include_router(decisions.router)
    app.include_router(rulesets.router)
    _install_error_handlers(app)
    app.add_middleware(RequestGuard, on_disconnect=lambda: _count_disconnect(app))
    return app


def _count_disconnect(app: FastAPI) -> None:
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    if runtime is not None:
        runtime.metrics.client_disconnects.inc()


#: Routes whose refusals are refused *messages* (DESIGN.md §6): counted by code and operator.
INTAKE_ROUTES = frozenset({"/v1/messages", "/v1/express/manifests"})


def _count_refusal(request: Request, code: str, status: int) -> None:
    """A refused upload is counted and logged as one (with operator and MessageId when
    known); any other 4xx (a failed GET, an unknown route) is counted apart, by method."""
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None or status >= 500:
        return
    state = request.scope.get("state", {})
    if request.method == "POST" and request.url.path in INTAKE_ROUTES:
        operator = state.get(CALLER) or "-"
        runtime.metrics.refusals.labels(code, operator).inc()
        log.info(
            "intake refused",
            outcome=code,
            status=status,
            operator=operator,
            message_id=state.get(MESSAGE_ID),
            path=request.url.path,
            request_id=state.get(REQUEST_ID),
        )
    else:
        runtime.metrics.http_refusals.labels(request.method, code).inc()


def _install_error_handlers(app: FastAPI) -> None:
    """Refusals as `{"error", "detail"}`; unexpected errors are RequestGuard's (one log line)."""

    @app.exception_handler(AedexError)
    async def aedex_error(request: Request, error: AedexError) -> JSONResponse:
        _count_refusal(request, error.code, error.status)
        headers: dict[str, str] = {}
        if isinstance(error, TooManyRequests):
            headers["Retry-After"] = str(error.retry_after_s)
        return JSONResponse(
            error.as_body(),
            status_code=error.status,
            headers=headers,
        )

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        # The database is down, locked or full: the client should retry, and nothing is
        # wrong with its request. One line, no traceback; other errors are RequestGuard's.
        if not is_outage(error):
            raise error
        log.warning(
            "database unavailable; answered 503",
            path=request.url.path,
            error=f"{type(error).__name__}: {str(error)[:300]}",
        )
        return JSONResponse(
            {"error": "UNAVAILABLE", "detail": "the database is unavailable; retry later"},
            status_code=503,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals (unknown route, method not allowed) in the same shape.
        code = {400: "REQUEST_INVALID", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(
            error.status_code, "HTTP_ERROR"
        )
        _count_refusal(request, code, error.status_code)
        return JSONResponse(
            {"error": code, "detail": str(error.detail)},
            status_code=error.status_code,
            headers=dict(error.headers or {}),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        _count_refusal(request, "REQUEST_INVALID", 422)
        return JSONResponse({"error": "REQUEST_INVALID", "detail": problems}, status_code=422)
