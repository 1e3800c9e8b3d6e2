"""Intake routes: ITMATT/CUSITM XML, express manifests, and the dry-run validator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from adapters.errors import AdapterError
from adapters.express.refusal import ManifestRefused
from adapters.express.upload import read_manifest, upload_messages
from adapters.post.itmatt import Envelope
from messages.check import MessageCheck, check_message
from messages.codec import encode_cusitm
from messages.xml import XmlLimits
from service.api.deps import BodyDep, OperatorDep, Runtime, RuntimeDep, media_type
from service.api.guard import MESSAGE_ID, REQUEST_ID
from service.api.schemas import (
    MANIFEST_CSV,
    MANIFEST_JSON,
    RAW,
    READ_MESSAGE_LINK,
    UPLOAD,
    XML_BODY,
    AcceptedMessage,
    ValidationReport,
    body,
    refusals,
)
from service.errors import AedexError
from service.intake import Accepted, Incoming, accept_all, answer, check_sender, read_envelope
from service.publish import Unpublished, mark_published, publish_inbound

log = structlog.get_logger(__name__)

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


def log_intake(request: Request, accepted: Accepted, outcome: str) -> None:
    """One line per accepted upload; refusals get theirs from the app's error handler."""
    log.info(
        "intake",
        outcome=outcome,
        operator=accepted.sender_operator,
        message_id=accepted.message_id,
        kind=accepted.kind,
        items=accepted.items,
        inbox_id=str(accepted.inbox_id),
        path=request.url.path,
        request_id=request.scope.get("state", {}).get(REQUEST_ID),
    )


async def _store(
    request: Request,
    rt: Runtime,
    background: BackgroundTasks,
    *,
    messages: Sequence[Incoming],
    source: str,
    fingerprint: bytes | None = None,
) -> JSONResponse:
    """Commit the upload's messages to the inbox in one transaction, answer 202, then
    publish (the relay covers a failed publish)."""
    async with rt.sessions() as session, session.begin():
        accepted = await accept_all(
            session, messages=messages, source=source, fingerprint=fingerprint
        )
    for one in accepted:
        _stored(request, rt, one)
    fresh = [
        _unpublished(one, message.data, source)
        for one, message in zip(accepted, messages, strict=True)
        if not one.duplicate
    ]
    if rt.producer is not None and fresh:
        background.add_task(_publish, rt, fresh)
    return JSONResponse(answer(accepted), status_code=202)


def _stored(request: Request, rt: Runtime, accepted: Accepted) -> None:
    """Log and count one committed message."""
    status = "DUPLICATE_MESSAGE" if accepted.duplicate else "ACCEPTED"
    log_intake(request, accepted, status)
    rt.metrics.messages.labels(accepted.kind, status).inc()
    if not accepted.duplicate:
        rt.metrics.items.inc(accepted.items)


def _unpublished(accepted: Accepted, data: bytes, source: str) -> Unpublished:
    """What publishing needs, kept from the insert: the row is not read back."""
    return Unpublished(
        id=accepted.inbox_id,
        sender_operator=accepted.sender_operator,
        message_id=accepted.message_id,
        source=source,
        raw=data,
        received_at=accepted.received_at,
    )


async def _publish(rt: Runtime, messages: list[Unpublished]) -> None:
    """Publish an upload's new messages, then mark those sent in one transaction (one
    statement); what fails to publish stays RECEIVED for the relay."""
    sent = [message for message in messages if await _sent(rt, message)]
    if sent:
        async with rt.sessions() as session, session.begin():
            await mark_published(session, sent, reconcile_after_s=rt.settings.reconcile_after_s)


async def _sent(rt: Runtime, message: Unpublished) -> bool:
    assert rt.producer is not None
    try:
        await publish_inbound(rt.producer, rt.settings.topics.inbound, message)
    except Exception:  # noqa: BLE001 - the relay publishes what this could not
        return False
    return True


@router.post(
    "/messages",
    status_code=202,
    responses={
        202: {"model": AcceptedMessage, "links": READ_MESSAGE_LINK},
        **refusals(400, 403, 409, *UPLOAD),
    },
    openapi_extra=body(
        {"application/xml": XML_BODY, "text/xml": RAW}, description="one ITMATT or CUSITM message"
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
    request.scope.setdefault("state", {})[MESSAGE_ID] = envelope.message_id
    check_sender(envelope, caller)
    return await _store(request, rt, background, messages=[Incoming(data, envelope)], source="API")


@router.post(
    "/express/manifests",
    status_code=202,
    responses={
        202: {"model": AcceptedMessage, "links": READ_MESSAGE_LINK},
        **refusals(403, 409, *UPLOAD),
    },
    openapi_extra=body(
        {"application/json": MANIFEST_JSON, "text/csv": MANIFEST_CSV, "application/csv": RAW},
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
    """Accept an express manifest (JSON or CSV): one CUSITM message per message function its
    shipments name, all stored or none; header problems are refused here (422 with findings)."""
    kind = _need(request, JSON_TYPES | CSV_TYPES, "POST /v1/express/manifests")
    messages = await _cpu(_manifest_messages, rt, kind, data, caller, size=len(data))
    request.scope.setdefault("state", {})[MESSAGE_ID] = messages[0].envelope.message_id
    return await _store(
        request, rt, background, messages=messages, source="EXPRESS", fingerprint=data
    )


def _manifest_messages(rt: Runtime, kind: str, data: bytes, caller: str) -> list[Incoming]:
    """The CUSITM messages a manifest becomes, or the refusal (422/403) naming the problem."""
    try:
        parsed = read_manifest(data, "json" if kind in JSON_TYPES else "csv")
        if parsed.manifest.carrier != caller:
            raise AedexError(
                "UNKNOWN_OPERATOR",
                f"carrier {parsed.manifest.carrier!r} is not the operator of this key",
                403,
            )
        made = upload_messages(
            parsed,
            customs_office=rt.settings.customs_office,
            prepared_at=datetime.now(UTC),
            fingerprint=data,
        )
    except ManifestRefused as refused:
        raise _manifest_refusal(refused) from None
    except AdapterError as error:  # not the manifest's structure: the SCHEMA of its format
        finding = {"code": "SCHEMA", "severity": "error", "path": error.location,
                   "message": error.message}  # fmt: skip
        raise AedexError(error.code.value, str(error), 422, findings=[finding]) from None
    incoming = []
    for one in made:
        xml = encode_cusitm(one.message)
        incoming.append(Incoming(xml, read_envelope(xml, limits(rt)), one.locations, one.function))
    return incoming


def _manifest_refusal(refused: ManifestRefused) -> AedexError:
    """422 as for a broken XML header: the first finding's code, every finding listed."""
    return AedexError(
        refused.findings[0].code.value,
        f"the manifest is refused as a whole: {refused.summary()}",
        422,
        findings=[finding.as_dict() for finding in refused.findings],
    )


@router.post(
    "/validate",
    response_model=ValidationReport,
    responses=refusals(*UPLOAD),
    openapi_extra=body(
        {"application/xml": XML_BODY, "text/xml": RAW}, description="a message to check, not stored"
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
