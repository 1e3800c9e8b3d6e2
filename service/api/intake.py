"""Intake routes: ITMATT/CUSITM XML, express manifests, and the dry-run validator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from adapters.errors import AdapterError
from adapters.express.manifest import manifest_to_cusitm
from adapters.express.manifest_csv import manifest_from_csv
from adapters.express.manifest_json import manifest_from_json
from adapters.post.itmatt import Envelope
from messages.check import MessageCheck, check_message
from messages.codec import encode_cusitm
from messages.xml import XmlLimits
from service.api.deps import BodyDep, OperatorDep, Runtime, RuntimeDep, media_type
from service.api.schemas import (
    MANIFEST_JSON,
    RAW,
    READ_MESSAGE_LINK,
    UPLOAD,
    AcceptedMessage,
    body,
    refusals,
)
from service.db.models import InboxMessage
from service.errors import AedexError
from service.intake import Accepted, accept, check_sender, read_envelope
from service.publish import mark_published, publish_inbound

router = APIRouter(prefix="/v1", tags=["intake"])

XML_TYPES = frozenset({"application/xml", "text/xml"})
JSON_TYPES = frozenset({"application/json"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})
#: Bodies above this are parsed in a worker thread, so one big upload does not stall the
#: loop; below it parsing takes well under a few milliseconds.
_THREAD_ABOVE = 64 * 1024


def limits(rt: Runtime) -> XmlLimits:
    return XmlLimits(max_bytes=rt.settings.max_message_bytes)


async def _cpu(function: Any, *args: Any, size: int) -> Any:
    if size > _THREAD_ABOVE:
        return await anyio.to_thread.run_sync(function, *args)
    return function(*args)


def _need(request: Request, allowed: frozenset[str], what: str) -> str:
    kind = media_type(request)
    if kind not in allowed:
        raise AedexError(
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Type {kind or 'missing'!r}; {what} takes {', '.join(sorted(allowed))}",
            415,
        )
    return kind


async def _store(
    rt: Runtime,
    background: BackgroundTasks,
    *,
    data: bytes,
    envelope: Envelope,
    source: str,
    fingerprint: bytes | None = None,
) -> JSONResponse:
    """Commit to the inbox, answer 202, then publish (the relay covers a failed publish)."""
    async with rt.sessions() as session, session.begin():
        accepted = await accept(
            session, data=data, envelope=envelope, source=source, fingerprint=fingerprint
        )
    status = "DUPLICATE_MESSAGE" if accepted.duplicate else "ACCEPTED"
    rt.metrics.messages.labels(accepted.kind, status).inc()
    if not accepted.duplicate:
        rt.metrics.items.inc(accepted.items)
    if rt.producer is not None and not accepted.duplicate:
        background.add_task(_publish, rt, accepted)
    return JSONResponse(accepted.as_dict(), status_code=202)


async def _publish(rt: Runtime, accepted: Accepted) -> None:
    assert rt.producer is not None
    async with rt.sessions() as session, session.begin():
        row = await session.get(InboxMessage, accepted.inbox_id)
        if row is None:
            return
        try:
            await publish_inbound(rt.producer, rt.settings.topics.inbound, row)
        except Exception:  # noqa: BLE001 - the relay publishes what this could not
            return
        await mark_published(session, [row], reconcile_after_s=rt.settings.reconcile_after_s)


@router.post(
    "/messages",
    status_code=202,
    responses={
        202: {"model": AcceptedMessage, "links": READ_MESSAGE_LINK},
        **refusals(400, 403, 409, *UPLOAD),
    },
    openapi_extra=body(
        {"application/xml": RAW, "text/xml": RAW}, description="one ITMATT or CUSITM message"
    ),
)
async def post_message(
    request: Request,
    rt: RuntimeDep,
    caller: OperatorDep,
    data: BodyDep,
    background: BackgroundTasks,
) -> JSONResponse:
    """Accept an ITMATT or CUSITM message: 202 once it is durable; items are answered by CUSRSP."""
    _need(request, XML_TYPES, "POST /v1/messages")
    envelope: Envelope = await _cpu(read_envelope, data, limits(rt), size=len(data))
    check_sender(envelope, caller)
    return await _store(rt, background, data=data, envelope=envelope, source="API")


@router.post(
    "/express/manifests",
    status_code=202,
    responses={
        202: {"model": AcceptedMessage, "links": READ_MESSAGE_LINK},
        **refusals(403, 409, *UPLOAD),
    },
    openapi_extra=body(
        {"application/json": MANIFEST_JSON, "text/csv": RAW, "application/csv": RAW},
        description="an express manifest, JSON or CSV (DESIGN.md §3)",
    ),
)
async def post_manifest(
    request: Request,
    rt: RuntimeDep,
    caller: OperatorDep,
    data: BodyDep,
    background: BackgroundTasks,
) -> JSONResponse:
    """Accept an express manifest (JSON or CSV); it becomes one CUSITM message."""
    kind = _need(request, JSON_TYPES | CSV_TYPES, "POST /v1/express/manifests")
    xml, envelope = await _cpu(_manifest_message, rt, kind, data, caller, size=len(data))
    return await _store(
        rt, background, data=xml, envelope=envelope, source="EXPRESS", fingerprint=data
    )


def _manifest_message(rt: Runtime, kind: str, data: bytes, caller: str) -> tuple[bytes, Envelope]:
    """The CUSITM message a manifest becomes, or the refusal (422/403) naming the problem."""
    try:
        if kind in JSON_TYPES:
            manifest = manifest_from_json(data)
        else:
            manifest = manifest_from_csv(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise AedexError("CSV_INVALID", "the CSV is not UTF-8", 422) from None
    except AdapterError as error:
        raise AedexError(error.code.value, str(error), 422) from None
    if manifest.carrier != caller:
        raise AedexError(
            "UNKNOWN_OPERATOR", f"carrier {manifest.carrier!r} is not the operator of this key", 403
        )
    try:
        message = manifest_to_cusitm(
            manifest, customs_office=rt.settings.customs_office, prepared_at=datetime.now(UTC)
        )
    except AdapterError as error:
        raise AedexError(error.code.value, str(error), 422) from None
    xml = encode_cusitm(message)
    return xml, read_envelope(xml, limits(rt))


@router.post(
    "/validate",
    responses=refusals(*UPLOAD),
    openapi_extra=body(
        {"application/xml": RAW, "text/xml": RAW}, description="a message to check, not stored"
    ),
)
async def validate(
    request: Request, rt: RuntimeDep, caller: OperatorDep, data: BodyDep
) -> dict[str, Any]:
    """Dry run: every finding the validate stage would report; nothing is stored or sent."""
    _need(request, XML_TYPES, "POST /v1/validate")
    check: MessageCheck = await anyio.to_thread.run_sync(check_message, data)
    return {
        "kind": check.kind,
        "refused": check.refused,
        "findings": [finding.as_dict() for finding in check.findings],
        "items": [
            {
                "index": item.index,
                "item_id": item.declared.item_id,
                "accepted": not item.rejected,
                "findings": [finding.as_dict() for finding in item.findings],
            }
            for item in check.items
        ],
    }
