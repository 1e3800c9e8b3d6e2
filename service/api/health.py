"""Liveness, readiness (database and broker) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import structlog
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.api.deps import RuntimeDep
from service.lag import CONSUMING_STAGES
from service.metrics import refresh_database_gauges
from service.stages.heartbeat import stage_readiness

log = structlog.get_logger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; says nothing about its dependencies."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready; `checks` says why"}})
async def readyz(rt: RuntimeDep) -> JSONResponse:
    """Ready when the database answers, every stage has a worker consuming (its heartbeat
    is fresh and it holds partitions) and, if the API produces, the broker answers."""
    checks: dict[str, Any] = {}
    try:
        async with rt.sessions() as session:
            await session.execute(text("SELECT 1"))
            if rt.settings.ready_stages:
                stages = await stage_readiness(session, rt.settings.ready_stages)
                checks.update({f"stage:{name}": state for name, state in stages.items()})
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - report, do not crash the probe
        checks["database"] = f"unavailable: {type(error).__name__}"
    if rt.producer is None:
        checks["broker"] = "not configured (relay publishes)"
    else:
        try:
            await rt.producer.client.fetch_all_metadata()
            checks["broker"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["broker"] = f"unavailable: {type(error).__name__}"
    ready = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


#: A scrape must answer even when the broker does not.
LAG_TIMEOUT_S = 3.0


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
            "description": "Prometheus text format",
        }
    },
)
async def metrics(rt: RuntimeDep) -> Response:
    await refresh_database_gauges(rt.metrics, rt.sessions)
    if rt.lag is not None:
        lags: dict[str, float]
        try:
            lags = dict(await asyncio.wait_for(rt.lag.read(), LAG_TIMEOUT_S))
        except Exception as error:  # noqa: BLE001 - a scrape reports what it can
            log.warning("stage lag unavailable", error=repr(error))
            lags = dict.fromkeys(CONSUMING_STAGES, math.nan)  # unknown, not last known
        for stage, lag in lags.items():
            rt.metrics.stage_lag.labels(stage).set(lag)
        try:
            parked = float(await asyncio.wait_for(rt.lag.deadletters(), LAG_TIMEOUT_S))
        except Exception as error:  # noqa: BLE001 - a scrape reports what it can
            log.warning("dead-letter count unavailable", error=repr(error))
            parked = math.nan
        rt.metrics.deadletters.set(parked)
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
